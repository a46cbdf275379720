//===- StepRunner.cpp - one training step on the global batch -------------===//
#include "runtime/driver/StepRunner.h"

#include <chrono>

// The split entries exist only in objects compiled with mestc --split-updates
// or --data-parallel: weak, so that other objects link (null, checked first).
#pragma weak mest_model_grad_step
#pragma weak mest_model_update_step

namespace mest::rt {

StepRunner::StepRunner(Model &model, Replicas &replicas, double momentum, double weightDecay)
    : model_(model), replicas_(replicas), momentum_(static_cast<float>(momentum)),
      weightDecay_(static_cast<float>(weightDecay)), batch_(model.desc().batch),
      globalBatch_(replicas.size() * batch_),
      imageFloats_(model.desc().in_channels * model.desc().in_height * model.desc().in_width),
      x_(globalBatch_ * imageFloats_), loss_(globalBatch_), margin_(globalBatch_),
      y_(globalBatch_), correct_(globalBatch_) {
  if (!replicas.alone()) exchange_.emplace(model, 3 * globalBatch_);
}

bool StepRunner::hasSplitSteps() { return mest_model_grad_step && mest_model_update_step; }

void StepRunner::step(float rate) {
  if (replicas_.alone()) {
    mest_model_train_step(model_.state(), model_.arena(), x_.data(), y_.data(), rate, momentum_,
                          weightDecay_, loss_.data(), correct_.data(), margin_.data());
    return;
  }
  const int64_t me = replicas_.rank() * batch_;
  mest_model_grad_step(model_.state(), model_.arena(), x_.data() + me * imageFloats_,
                       y_.data() + me, loss_.data() + me, correct_.data() + me,
                       margin_.data() + me);
  exchange_->clearRecords();
  float *rec = exchange_->records();
  for (int64_t i = me; i < me + batch_; ++i)
    rec[3 * i] = loss_[i], rec[3 * i + 1] = correct_[i], rec[3 * i + 2] = margin_[i];
  const auto start = std::chrono::steady_clock::now();
  exchange_->exchange(replicas_);  // x + 0 is exact: every slot is its owner's value
  exchangeSeconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int64_t i = 0; i < globalBatch_; ++i)
    loss_[i] = rec[3 * i], correct_[i] = rec[3 * i + 1] != 0.0f, margin_[i] = rec[3 * i + 2];
  mest_model_update_step(model_.state(), rate, momentum_, weightDecay_);
}

} // namespace mest::rt
