//===- CompressedWeights.h - a layer's weights in compressed form ---------===//
//
// One storage layout per scheme (docs/formats.md has worked examples). Every
// layout is a sequence of *units* (a weight, a block-column, an input channel or
// a pattern kernel) kept in a canonical order, with the active units packed at
// the front of arrays sized once for the capacity:
//
//   values / grads / momentum  [capacityUnits * unitSize] floats
//   index                      [capacityUnits] int32: column (unstructured, block)
//                              or input channel (channel, pattern)
//   groupPtr                   [numGroups + 1] int32 (unstructured: rows, block:
//                              groups of blockRows filters)
//   patternId, patternCount    pattern: [capacityUnits] uint8 and [O * P] int32
//                              (kernels of a filter sorted by pattern, then channel)
//
// Because the active values are packed, SGD, checkpoints and statistics treat
// every scheme as a flat array of activeWeights() floats. Mutation reorders units
// in place and never allocates.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_COMPRESSEDWEIGHTS_H
#define MEST_RUNTIME_FORMATS_COMPRESSEDWEIGHTS_H

#include "runtime/formats/Scheme.h"
#include "runtime/formats/StateLayout.h"

#include <cstdint>
#include <string>

namespace mest::rt {

/// A pattern library: `count` patterns of kPatternTaps taps (row * 3 + col).
struct PatternLibrary {
  int32_t count = 0;
  int32_t taps[kMaxPatterns][kPatternTaps] = {};
  static PatternLibrary defaults();
};

/// What the compiler decided about a layer's weights (from #mest.sparsity).
struct WeightSpec {
  std::string name;
  WeightShape shape;
  Scheme scheme = Scheme::Dense;
  double target = 0.0;    // sparsity at the end of training
  double capacity = 0.0;  // densest sparsity storage holds (<= target)
  int32_t blockRows = 4;
  bool bias = false;
  PatternLibrary patterns = PatternLibrary::defaults();

  ConvStateLayout layout() const {
    return convStateLayout(scheme, shape, capacity, blockRows, patterns.count, bias);
  }
};

/// A view of one layer's state (StateLayout.h), either owning its block or
/// pointing into the model's state block planned by the compiler.
class CompressedWeights {
public:
  /// Allocates (zeroed) a block of spec.layout().total bytes.
  explicit CompressedWeights(const WeightSpec &spec);
  /// A view of the layer state at `base`, owned elsewhere (the model's state).
  CompressedWeights(const WeightSpec &spec, uint8_t *base);
  ~CompressedWeights();
  CompressedWeights(const CompressedWeights &) = delete;
  CompressedWeights &operator=(const CompressedWeights &) = delete;
  CompressedWeights(CompressedWeights &&other) noexcept;

  WeightSpec spec;
  // Unit geometry, fixed at creation.
  int64_t numGroups = 1;      // storage groups: rows, block groups, filters; 1 otherwise
  int64_t unitsPerGroup = 0;  // possible units in a group (a row's columns, channels, ...)
  int64_t unitSize = 1;       // weights per unit
  int64_t capacityUnits = 0;  // units storage holds (pattern: O * capacity per filter)
  int64_t capacityPerFilter = 0;  // pattern only
  // State, changed by initialisation and mutation, all inside the layer's block.
  uint8_t *base = nullptr;
  int64_t *header = nullptr;  // [0] active units, [1] active kernels per filter (pattern)
  float *values = nullptr, *grads = nullptr, *momentum = nullptr;
  float *bias = nullptr, *biasGrad = nullptr, *biasMomentum = nullptr;
  int32_t *index = nullptr;
  int32_t *groupPtr = nullptr;
  uint8_t *patternId = nullptr;
  int32_t *patternCount = nullptr;
  int32_t *order = nullptr;  // load-balanced work order (runtime/mutation/Regroup.h)

  int64_t numActive() const { return header[0]; }  // active units (pattern: O * perFilter)
  int64_t perFilter() const { return header[1]; }  // pattern: active kernels per filter
  int64_t activeWeights() const { return numActive() * unitSize; }
  int64_t capacityWeights() const { return capacityUnits * unitSize; }
  double sparsity() const {
    return 1.0 - static_cast<double>(activeWeights()) / spec.shape.numel();
  }
  /// Bytes of the layer's state block (spec.layout().total).
  int64_t stateBytes() const { return stateBytes_; }

  /// Debug and export only, never on the training path: writes the dense
  /// [O, I, KH, KW] tensor of `packed` (values, grads or momentum).
  void densify(const float *packed, float *dense) const;

  /// Makes the layout hold exactly the units whose dense positions are set in the
  /// dense mask, copying their values from `dense`. Test and import use only.
  /// Pattern: each kernel's nonzero taps must match one library pattern.
  void loadDense(const float *dense);

  /// Canonical key of an active unit; storage order is ascending key order.
  ///   unstructured: o * K + col      block: group * K + col   (K = I * KH * KW)
  ///   channel: c                     pattern: o * (P * I) + pattern * I + c
  int64_t unitKey(int64_t slot) const;
  /// Rewrites the metadata (index, groupPtr, patternId, patternCount, counts)
  /// from `n` ascending unit keys; values are not touched.
  void setUnitsFromKeys(const int64_t *keys, int64_t n);
  /// The dense unit a key names, unique within its mutation domain's numbering:
  /// pattern o * I + c; otherwise the key itself.
  int64_t unitIdOfKey(int64_t key) const;

  /// Calls fn(o, c, r, s, v) for every active weight, v indexing the packed arrays.
  template <typename Fn> void forEachActiveWeight(Fn &&fn) const;

private:
  void bind(uint8_t *block);
  int64_t stateBytes_ = 0;
  bool owning_ = false;
};

template <typename Fn> void CompressedWeights::forEachActiveWeight(Fn &&fn) const {
  const WeightShape &w = spec.shape;
  const int64_t kk = w.KH * w.KW;
  switch (spec.scheme) {
  case Scheme::Dense:
    for (int64_t o = 0, v = 0; o < w.O; ++o)
      for (int64_t c = 0; c < w.I; ++c)
        for (int64_t r = 0; r < w.KH; ++r)
          for (int64_t s = 0; s < w.KW; ++s, ++v) fn(o, c, r, s, v);
    return;
  case Scheme::Unstructured:
    for (int64_t o = 0; o < w.O; ++o)
      for (int64_t v = groupPtr[o]; v < groupPtr[o + 1]; ++v) {
        int64_t col = index[v];
        fn(o, col / kk, (col % kk) / w.KW, col % w.KW, v);
      }
    return;
  case Scheme::Block:
    for (int64_t g = 0; g < numGroups; ++g)
      for (int64_t slot = groupPtr[g]; slot < groupPtr[g + 1]; ++slot) {
        int64_t col = index[slot];
        for (int64_t i = 0; i < spec.blockRows; ++i)
          fn(g * spec.blockRows + i, col / kk, (col % kk) / w.KW, col % w.KW,
             slot * spec.blockRows + i);
      }
    return;
  case Scheme::Channel:
    for (int64_t slot = 0; slot < numActive(); ++slot)
      for (int64_t o = 0; o < w.O; ++o)
        for (int64_t r = 0; r < w.KH; ++r)
          for (int64_t s = 0; s < w.KW; ++s)
            fn(o, index[slot], r, s, slot * unitSize + (o * w.KH + r) * w.KW + s);
    return;
  case Scheme::Pattern:
    for (int64_t slot = 0; slot < numActive(); ++slot) {
      const int32_t *taps = spec.patterns.taps[patternId[slot]];
      for (int t = 0; t < kPatternTaps; ++t)
        fn(slot / perFilter(), index[slot], taps[t] / 3, taps[t] % 3, slot * kPatternTaps + t);
    }
    return;
  }
}

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_COMPRESSEDWEIGHTS_H
