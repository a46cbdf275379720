//===- GradientExchange.h - averaging the gradients of the replicas -------===//
//
// Between mutation events every replica holds the same masks, so the gradient
// exchange of data-parallel training is one all-reduce of the compressed
// gradient arrays: each layer's active values (the prefix its SGD loop
// updates), its bias, and the batch-norm scale and shift. About 1 - sparsity
// of a dense exchange's bytes. The same call also sums the per-example records
// of the step (loss, correctness, margin) so that every replica sees all of
// them.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_GRADIENTEXCHANGE_H
#define MEST_RUNTIME_DRIVER_GRADIENTEXCHANGE_H

#include "runtime/driver/Distributed.h"
#include "runtime/driver/Model.h"

#include <vector>

namespace mest::rt {

class GradientExchange {
public:
  /// `records`: floats of per-example records summed with the gradients.
  GradientExchange(Model &model, int64_t records);

  /// The buffer's record part: each replica writes its own slots, zeros elsewhere.
  float *records() { return buffer_.data(); }
  void clearRecords();
  /// Averages every gradient over the replicas and sums the records.
  void exchange(Replicas &replicas);

  /// Gradient floats of the last exchange, and of a dense model's exchange.
  int64_t gradientFloats() const { return lastFloats_; }
  int64_t denseFloats() const { return denseFloats_; }

private:
  struct Piece {
    float *data;
    int64_t count;  // -1: the active values of `weights`
    CompressedWeights *weights;
    int64_t size() const { return count >= 0 ? count : weights->activeWeights(); }
  };
  std::vector<Piece> pieces_;
  std::vector<float> buffer_;
  int64_t records_ = 0, lastFloats_ = 0, denseFloats_ = 0;  // buffer_: records, gradients
};

/// Per-rank batch norm (--sync-bn off): every running mean and variance
/// replaced by its average over the replicas.
void averageRunningStatistics(Model &model, Replicas &replicas);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_GRADIENTEXCHANGE_H
