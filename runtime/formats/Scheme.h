//===- Scheme.h - sparsity schemes, unit counts and storage sizes ---------===//
//
// The one definition of how many weights a sparse layer keeps and how many bytes
// its compressed storage takes. Header-only and dependency-free: the compiler's
// report and storage planning and the runtime's allocation all use it, so the
// numbers cannot drift apart. docs/formats.md explains each rule.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_SCHEME_H
#define MEST_RUNTIME_FORMATS_SCHEME_H

#include <cmath>
#include <cstdint>

namespace mest::rt {

// Values match the dialect's `Scheme` enum.
enum class Scheme : int32_t { Dense = 0, Unstructured = 1, Channel = 2, Block = 3, Pattern = 4 };

constexpr int kPatternTaps = 4;       // taps kept by every pattern of a 3x3 kernel
constexpr int kMaxPatterns = 32;      // upper bound on a pattern library's size

/// Shape of a weight tensor [O, I, KH, KW]; a linear layer is [O, I, 1, 1].
struct WeightShape {
  int64_t O = 0, I = 0, KH = 1, KW = 1;
  int64_t numel() const { return O * I * KH * KW; }
  int64_t kernelSize() const { return KH * KW; }
};

/// Units that survive at `sparsity` out of `units`: units - round(sparsity * units).
/// std::llround rounds halves away from zero; the rule is documented in formats.md.
inline int64_t activeUnits(int64_t units, double sparsity) {
  return units - std::llround(sparsity * static_cast<double>(units));
}

/// Kernel-level sparsity of the pattern scheme for an overall sparsity s: each kept
/// kernel has 4 of 9 taps, so k = 1 - (1 - s) * 9 / 4. Converted exactly once.
inline double patternKernelSparsity(double s, int64_t kernelSize = 9) {
  return 1.0 - (1.0 - s) * static_cast<double>(kernelSize) / kPatternTaps;
}

/// The unit of prune and grow, per scheme.
struct UnitGeometry {
  int64_t units;     // units of the whole layer (per filter for pattern)
  int64_t unitSize;  // weights per unit
  int64_t groups;    // independent groups that each keep the same count (pattern: O)
};

inline UnitGeometry unitGeometry(Scheme s, const WeightShape &w, int64_t blockRows = 4) {
  switch (s) {
  case Scheme::Dense:
  case Scheme::Unstructured: return {w.numel(), 1, 1};
  case Scheme::Channel: return {w.I, w.O * w.kernelSize(), 1};
  case Scheme::Block: return {(w.O / blockRows) * w.I * w.kernelSize(), blockRows, 1};
  case Scheme::Pattern: return {w.I, kPatternTaps, w.O};
  }
  return {0, 0, 0};
}

/// Active units per group at a sparsity (pattern: kernels per filter).
inline int64_t activeUnitsPerGroup(Scheme s, const WeightShape &w, double sparsity,
                                   int64_t blockRows = 4) {
  UnitGeometry g = unitGeometry(s, w, blockRows);
  if (s == Scheme::Dense) return g.units;
  double unitSparsity = s == Scheme::Pattern ? patternKernelSparsity(sparsity, w.kernelSize())
                                             : sparsity;
  return activeUnits(g.units, unitSparsity);
}

/// Weights kept at a sparsity.
inline int64_t activeWeights(Scheme s, const WeightShape &w, double sparsity,
                             int64_t blockRows = 4) {
  UnitGeometry g = unitGeometry(s, w, blockRows);
  return activeUnitsPerGroup(s, w, sparsity, blockRows) * g.unitSize * g.groups;
}

/// Bytes of a layer's compressed format sized for `capacity`: values, gradients
/// and momentum (float each) plus the format's index arrays. The layer's whole
/// state adds a 16-byte header, the regrouping order and 64-byte alignment of
/// each array (StateLayout.h); mest-report-cost reports the format's bytes.
struct StorageBytes {
  int64_t values = 0;   // one float array; gradients and momentum are the same size
  int64_t indices = 0;  // all metadata arrays
  int64_t total() const { return 3 * values + indices; }
};

inline StorageBytes storageBytes(Scheme s, const WeightShape &w, double capacity,
                                 int64_t blockRows = 4, int64_t numPatterns = 8) {
  const int64_t f = sizeof(float), i32 = sizeof(int32_t);
  int64_t capUnits = activeUnitsPerGroup(s, w, capacity, blockRows);
  switch (s) {
  case Scheme::Dense: return {w.numel() * f, 0};
  case Scheme::Unstructured:  // CSR: column per value, row pointers
    return {capUnits * f, capUnits * i32 + (w.O + 1) * i32};
  case Scheme::Channel:  // channel list, [O, kh, kw] slice per channel
    return {capUnits * w.O * w.kernelSize() * f, capUnits * i32};
  case Scheme::Block:  // column per block, group pointers
    return {capUnits * blockRows * f, capUnits * i32 + (w.O / blockRows + 1) * i32};
  case Scheme::Pattern:  // per kernel: channel (int32) + pattern id (uint8); per filter
                         // and pattern: run length
    return {w.O * capUnits * kPatternTaps * f,
            w.O * capUnits * (i32 + 1) + w.O * numPatterns * i32};
  }
  return {};
}

inline const char *schemeName(Scheme s) {
  switch (s) {
  case Scheme::Dense: return "dense";
  case Scheme::Unstructured: return "unstructured";
  case Scheme::Channel: return "channel";
  case Scheme::Block: return "block";
  case Scheme::Pattern: return "pattern";
  }
  return "?";
}

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_SCHEME_H
