//===- StepRunner.h - one training step on the global batch ---------------===//
//
// Alone, the compiled model's fused train step. As one of K data-parallel
// replicas: the grad step on this rank's slice of the global batch, one
// all-reduce of the compressed gradients and of every rank's per-example
// results (GradientExchange.h), then the update step. Either way the
// per-example results of the whole global batch are here afterwards.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_STEPRUNNER_H
#define MEST_RUNTIME_DRIVER_STEPRUNNER_H

#include "runtime/driver/Distributed.h"
#include "runtime/driver/GradientExchange.h"
#include "runtime/driver/Model.h"

#include <optional>
#include <vector>

namespace mest::rt {

class StepRunner {
public:
  StepRunner(Model &model, Replicas &replicas, double momentum, double weightDecay);

  /// Whether this binary has the split steps data-parallel training needs
  /// (mestc --split-updates or --data-parallel).
  static bool hasSplitSteps();

  /// The global batch the next step trains on: images and labels.
  float *images() { return x_.data(); }
  int32_t *labels() { return y_.data(); }
  int64_t globalBatch() const { return globalBatch_; }

  /// One SGD step at `rate`; then loss(), correct() and margin() hold every
  /// example's result of the global batch.
  void step(float rate);
  const std::vector<float> &loss() const { return loss_; }
  const std::vector<uint8_t> &correct() const { return correct_; }
  const std::vector<float> &margin() const { return margin_; }

  /// The gradient exchange of data-parallel replicas (null alone), and the
  /// wall time spent in it since the last reset.
  const GradientExchange *exchange() const { return exchange_ ? &*exchange_ : nullptr; }
  double exchangeSeconds() const { return exchangeSeconds_; }
  void resetExchangeSeconds() { exchangeSeconds_ = 0; }

private:
  Model &model_;
  Replicas &replicas_;
  const float momentum_, weightDecay_;
  const int64_t batch_, globalBatch_, imageFloats_;
  std::vector<float> x_, loss_, margin_;
  std::vector<int32_t> y_;
  std::vector<uint8_t> correct_;
  std::optional<GradientExchange> exchange_;
  double exchangeSeconds_ = 0;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_STEPRUNNER_H
