//===- GradientExchange.cpp - averaging the gradients of the replicas -----===//
#include "runtime/driver/GradientExchange.h"

#include "runtime/formats/StateLayout.h"

#include <algorithm>

namespace mest::rt {

GradientExchange::GradientExchange(Model &model, int64_t records) : records_(records) {
  const mest_model_desc &d = model.desc();
  int64_t capacity = 0;
  size_t next = 0;  // model.weights() are the conv/linear layers in order
  for (int32_t i = 0; i < d.num_layers; ++i) {
    const mest_layer_desc &l = d.layers[i];
    if (l.kind == MEST_LAYER_BATCH_NORM) {
      auto bn = batchNormStateLayout(l.out_channels);
      pieces_.push_back({reinterpret_cast<float *>(model.state() + l.state_offset + bn.grads),
                         2 * l.out_channels, nullptr});
      capacity += 2 * l.out_channels;
      denseFloats_ += 2 * l.out_channels;
      continue;
    }
    CompressedWeights &w = *model.weights().at(next++);
    pieces_.push_back({w.grads, -1, &w});
    capacity += w.capacityWeights();
    denseFloats_ += w.spec.shape.numel();
    if (w.biasGrad) {
      pieces_.push_back({w.biasGrad, w.spec.shape.O, nullptr});
      capacity += w.spec.shape.O;
      denseFloats_ += w.spec.shape.O;
    }
  }
  buffer_.assign(records_ + capacity, 0.0f);
}

void GradientExchange::clearRecords() {
  std::fill(buffer_.begin(), buffer_.begin() + records_, 0.0f);
}

void GradientExchange::exchange(Replicas &replicas) {
  // Packed after the records: only the active part of each layer's gradients.
  int64_t at = records_;
  for (const Piece &p : pieces_) {
    std::copy(p.data, p.data + p.size(), buffer_.begin() + at);
    at += p.size();
  }
  lastFloats_ = at - records_;
  replicas.sum(buffer_.data(), at, "the gradient allreduce");
  const float scale = 1.0f / static_cast<float>(replicas.size());
  at = records_;
  for (const Piece &p : pieces_) {
    for (int64_t k = 0, n = p.size(); k < n; ++k) p.data[k] = buffer_[at + k] * scale;
    at += p.size();
  }
}

void averageRunningStatistics(Model &model, Replicas &replicas) {
  const mest_model_desc &d = model.desc();
  std::vector<std::pair<float *, int64_t>> arrays;  // every running mean and variance
  std::vector<float> all;
  for (int32_t i = 0; i < d.num_layers; ++i) {
    const mest_layer_desc &l = d.layers[i];
    if (l.kind != MEST_LAYER_BATCH_NORM) continue;
    auto bn = batchNormStateLayout(l.out_channels);
    for (int64_t off : {bn.runMean, bn.runVar}) {
      float *p = reinterpret_cast<float *>(model.state() + l.state_offset + off);
      arrays.push_back({p, l.out_channels});
      all.insert(all.end(), p, p + l.out_channels);
    }
  }
  replicas.sum(all.data(), static_cast<int64_t>(all.size()), "the running-statistics average");
  const float scale = 1.0f / static_cast<float>(replicas.size());
  size_t k = 0;
  for (auto [p, n] : arrays)
    for (int64_t c = 0; c < n; ++c) p[c] = all[k++] * scale;
}

} // namespace mest::rt
