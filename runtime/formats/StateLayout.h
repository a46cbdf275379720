//===- StateLayout.h - where a layer's state lives in the model's state ---===//
//
// The compiler plans one *state block* per model holding every layer's
// parameters, gradients, optimizer state and metadata, at offsets fixed at
// compile time (capacities are fixed, so sizes are too). This header is the one
// definition of a layer's layout inside that block, shared by the storage
// planning pass, the generated kernels' offsets and the runtime's views.
// Every array starts on a 64-byte boundary.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_STATELAYOUT_H
#define MEST_RUNTIME_FORMATS_STATELAYOUT_H

#include "runtime/formats/Scheme.h"

namespace mest::rt {

constexpr int64_t kStateAlign = 64;
inline int64_t alignUp(int64_t x, int64_t a = kStateAlign) { return (x + a - 1) / a * a; }

/// Byte offsets, relative to the layer's base, of a conv2d or linear layer's
/// arrays; -1 marks an array the scheme does not have.
struct ConvStateLayout {
  int64_t header = -1;        // int64[2]: active units, active kernels per filter
  int64_t values = -1, grads = -1, momentum = -1;  // float[capacityValues]
  int64_t bias = -1, biasGrad = -1, biasMomentum = -1;  // float[O]
  int64_t index = -1;         // int32[capacityUnits]: column or input channel
  int64_t groupPtr = -1;      // int32[groups + 1]: unstructured rows, block groups
  int64_t patternCount = -1;  // int32[O * P]
  int64_t order = -1;         // int32[workUnits]: load-balanced order of filters/groups
  int64_t patternId = -1;     // uint8[capacityUnits]
  int64_t total = 0;
  // Sizes behind the offsets.
  int64_t capacityUnits = 0, unitSize = 1, capacityValues = 0, groups = 0, workUnits = 0;
};

inline ConvStateLayout convStateLayout(Scheme s, const WeightShape &w, double capacity,
                                       int64_t blockRows, int64_t numPatterns, bool hasBias) {
  ConvStateLayout l;
  UnitGeometry g = unitGeometry(s, w, blockRows);
  l.unitSize = g.unitSize;
  l.capacityUnits = s == Scheme::Dense ? w.numel()
                                       : activeUnitsPerGroup(s, w, capacity, blockRows) * g.groups;
  l.capacityValues = l.capacityUnits * l.unitSize;
  int64_t at = 0;
  auto take = [&](int64_t bytes) {
    int64_t off = at;
    at = alignUp(at + bytes);
    return off;
  };
  l.header = take(2 * 8);
  l.values = take(4 * l.capacityValues);
  l.grads = take(4 * l.capacityValues);
  l.momentum = take(4 * l.capacityValues);
  if (hasBias) {
    l.bias = take(4 * w.O);
    l.biasGrad = take(4 * w.O);
    l.biasMomentum = take(4 * w.O);
  }
  if (s != Scheme::Dense) l.index = take(4 * l.capacityUnits);
  if (s == Scheme::Unstructured || s == Scheme::Block) {
    l.groups = s == Scheme::Block ? w.O / blockRows : w.O;
    l.groupPtr = take(4 * (l.groups + 1));
  }
  if (s == Scheme::Pattern) l.patternCount = take(4 * w.O * numPatterns);
  if (s == Scheme::Unstructured || s == Scheme::Block || s == Scheme::Pattern) {
    l.workUnits = s == Scheme::Block ? w.O / blockRows : w.O;
    l.order = take(4 * l.workUnits);
  }
  if (s == Scheme::Pattern) l.patternId = take(l.capacityUnits);
  l.total = at;
  return l;
}

/// A batch-norm layer of C channels: parameters (gamma then beta), their
/// gradients and momentum adjacent so one SGD loop covers them, then running
/// mean and variance.
struct BatchNormStateLayout {
  int64_t params = 0, grads = 0, momentum = 0, runMean = 0, runVar = 0, total = 0;
};

inline BatchNormStateLayout batchNormStateLayout(int64_t C) {
  BatchNormStateLayout l;
  int64_t arr = alignUp(4 * 2 * C), half = alignUp(4 * C);
  l.params = 0;
  l.grads = arr;
  l.momentum = 2 * arr;
  l.runMean = 3 * arr;
  l.runVar = 3 * arr + half;
  l.total = 3 * arr + 2 * half;
  return l;
}

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_STATELAYOUT_H
