//===- GradientExchange.cpp - averaging the gradients of the replicas -----===//
#include "runtime/driver/GradientExchange.h"

#include "runtime/formats/StateLayout.h"

#include <algorithm>
#include <cstring>

namespace mest::rt {

GradientExchange::GradientExchange(Model &model, int64_t records) : records_(records) {
  const mest_model_desc &d = model.desc();
  size_t next = 0;  // model.weights() are the conv/linear layers in order
  for (int32_t i = 0; i < d.num_layers; ++i) {
    const mest_layer_desc &l = d.layers[i];
    if (l.kind == MEST_LAYER_BATCH_NORM) {
      auto bn = batchNormStateLayout(l.out_channels);
      pieces_.push_back({reinterpret_cast<float *>(model.state() + l.state_offset + bn.grads),
                         2 * l.out_channels, nullptr});
      capacity_ += 2 * l.out_channels;
      denseFloats_ += 2 * l.out_channels;
      continue;
    }
    CompressedWeights &w = *model.weights().at(next++);
    pieces_.push_back({w.grads, -1, &w});
    capacity_ += w.capacityWeights();
    denseFloats_ += w.spec.shape.numel();
    if (w.biasGrad) {
      pieces_.push_back({w.biasGrad, w.spec.shape.O, nullptr});
      capacity_ += w.spec.shape.O;
      denseFloats_ += w.spec.shape.O;
    }
  }
  buffer_.assign(capacity_ + records_, 0.0f);
}

void GradientExchange::clearRecords() {
  std::fill(buffer_.begin() + capacity_, buffer_.end(), 0.0f);
}

void GradientExchange::exchange(Replicas &replicas) {
  // Packed: the gradients, then the records right after them.
  int64_t at = 0;
  for (const Piece &p : pieces_) {
    int64_t n = p.count >= 0 ? p.count : p.weights->activeWeights();
    std::copy(p.data, p.data + n, buffer_.begin() + at);
    at += n;
  }
  lastFloats_ = at;
  std::memmove(buffer_.data() + at, buffer_.data() + capacity_, records_ * sizeof(float));
  replicas.sum(buffer_.data(), at + records_);
  const float scale = 1.0f / static_cast<float>(replicas.size());
  at = 0;
  for (const Piece &p : pieces_) {
    int64_t n = p.count >= 0 ? p.count : p.weights->activeWeights();
    for (int64_t k = 0; k < n; ++k) p.data[k] = buffer_[at + k] * scale;
    at += n;
  }
  std::memmove(buffer_.data() + capacity_, buffer_.data() + at, records_ * sizeof(float));
}

void averageRunningStatistics(Model &model, Replicas &replicas) {
  const mest_model_desc &d = model.desc();
  std::vector<float> all;
  std::vector<float *> at;
  for (int32_t i = 0; i < d.num_layers; ++i) {
    const mest_layer_desc &l = d.layers[i];
    if (l.kind != MEST_LAYER_BATCH_NORM) continue;
    auto bn = batchNormStateLayout(l.out_channels);
    for (int64_t off : {bn.runMean, bn.runVar}) {
      float *p = reinterpret_cast<float *>(model.state() + l.state_offset + off);
      at.push_back(p);
      all.insert(all.end(), p, p + l.out_channels);
    }
  }
  replicas.sum(all.data(), static_cast<int64_t>(all.size()));
  const float scale = 1.0f / static_cast<float>(replicas.size());
  size_t k = 0, next = 0;
  for (int32_t i = 0; i < d.num_layers; ++i) {
    const mest_layer_desc &l = d.layers[i];
    if (l.kind != MEST_LAYER_BATCH_NORM) continue;
    for (int j = 0; j < 2; ++j, ++next)
      for (int64_t c = 0; c < l.out_channels; ++c) at[next][c] = all[k++] * scale;
  }
}

} // namespace mest::rt
