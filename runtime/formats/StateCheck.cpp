//===- StateCheck.cpp - is a loaded layer state one training can produce? -===//
#include "runtime/formats/StateCheck.h"

#include <fmt/format.h>

#include <cmath>

namespace mest::rt {

namespace {

/// Index of the first non-finite value of a[0..n), or -1.
int64_t firstNonFinite(const float *a, int64_t n) {
  if (!a) return -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(a[i])) return i;
  return -1;
}

/// How a non-finite value reads in a message.
const char *spell(float v) { return std::isnan(v) ? "NaN" : v > 0 ? "+infinite" : "-infinite"; }

} // namespace

std::string checkLayerState(CompressedWeights &w) {
  const WeightShape &s = w.spec.shape;
  const int64_t n = w.header[0];
  if (w.spec.scheme == Scheme::Dense) {
    w.header[0] = w.capacityUnits;
  } else if (n < 0 || n > w.capacityUnits) {
    return fmt::format("{} active units, the compiled capacity is {}", n, w.capacityUnits);
  }
  switch (w.spec.scheme) {
  case Scheme::Dense: break;
  case Scheme::Unstructured:
  case Scheme::Block:
    if (w.groupPtr[0] != 0) return fmt::format("row pointer 0 is {}, expected 0", w.groupPtr[0]);
    for (int64_t g = 0; g < w.numGroups; ++g) {
      int64_t len = int64_t(w.groupPtr[g + 1]) - w.groupPtr[g];
      if (len < 0 || len > w.unitsPerGroup)
        return fmt::format("row {} holds {} units, expected 0 to {}", g, len, w.unitsPerGroup);
    }
    if (w.groupPtr[w.numGroups] != n)
      return fmt::format("the row pointers end at {}, expected the active count {}",
                         w.groupPtr[w.numGroups], n);
    break;
  case Scheme::Channel: break;
  case Scheme::Pattern: {
    const int64_t per = w.header[1], P = w.spec.patterns.count;
    if (per < 0 || per > w.capacityPerFilter || per * s.O != n)
      return fmt::format("{} kernels per filter with {} active kernels in {} filters "
                         "(capacity {} per filter)",
                         per, n, s.O, w.capacityPerFilter);
    for (int64_t i = 0; i < n; ++i)
      if (w.patternId[i] >= P)
        return fmt::format("kernel {} has pattern {}, the library has {}", i, w.patternId[i], P);
    for (int64_t o = 0; o < s.O; ++o) {
      int64_t sum = 0;
      for (int64_t p = 0; p < P; ++p) {
        int32_t c = w.patternCount[o * P + p];
        if (c < 0) return fmt::format("filter {}: pattern {} count {} is negative", o, p, c);
        sum += c;
      }
      if (sum != per)
        return fmt::format("filter {}: pattern counts add up to {}, expected {}", o, sum, per);
    }
    break;
  }
  }
  if (w.spec.scheme != Scheme::Dense) {
    for (int64_t i = 0; i < n; ++i)
      if (w.index[i] < 0 || w.index[i] >= w.unitsPerGroup)
        return fmt::format("unit {} has index {}, expected 0 to {}", i, w.index[i],
                           w.unitsPerGroup - 1);
    // Every format keeps its units in ascending key order, without repeats.
    for (int64_t i = 1; i < n; ++i)
      if (w.unitKey(i) <= w.unitKey(i - 1))
        return fmt::format("units {} and {} are out of order or repeated", i - 1, i);
    if (w.spec.scheme == Scheme::Pattern) {
      const int64_t per = w.header[1], P = w.spec.patterns.count;
      for (int64_t o = 0; o < s.O; ++o)  // the counts describe the runs of pattern ids
        for (int64_t p = 0, at = o * per; p < P; ++p)
          for (int32_t k = 0; k < w.patternCount[o * P + p]; ++k, ++at)
            if (w.patternId[at] != p)
              return fmt::format("filter {}: kernel {} has pattern {}, its counts say {}", o, at,
                                 w.patternId[at], p);
    }
  }
  const int64_t values = w.numActive() * w.unitSize;
  if (int64_t i = firstNonFinite(w.values, values); i >= 0)
    return fmt::format("weight {} is {}", i, spell(w.values[i]));
  if (int64_t i = firstNonFinite(w.momentum, values); i >= 0)
    return fmt::format("momentum {} is {}", i, spell(w.momentum[i]));
  if (w.bias) {
    if (int64_t i = firstNonFinite(w.bias, s.O); i >= 0)
      return fmt::format("bias {} is {}", i, spell(w.bias[i]));
    if (int64_t i = firstNonFinite(w.biasMomentum, s.O); i >= 0)
      return fmt::format("bias momentum {} is {}", i, spell(w.biasMomentum[i]));
  }
  return "";
}

std::string checkBatchNormState(const uint8_t *base, int64_t C) {
  BatchNormStateLayout l = batchNormStateLayout(C);
  auto at = [&](int64_t off) { return reinterpret_cast<const float *>(base + off); };
  if (int64_t i = firstNonFinite(at(l.params), 2 * C); i >= 0)
    return fmt::format("{} {} is {}", i < C ? "scale" : "shift", i % C, spell(at(l.params)[i]));
  if (int64_t i = firstNonFinite(at(l.momentum), 2 * C); i >= 0)
    return fmt::format("momentum {} is {}", i, spell(at(l.momentum)[i]));
  if (int64_t i = firstNonFinite(at(l.runMean), C); i >= 0)
    return fmt::format("running mean {} is {}", i, spell(at(l.runMean)[i]));
  for (int64_t c = 0; c < C; ++c)
    if (float v = at(l.runVar)[c]; !std::isfinite(v))
      return fmt::format("running variance {} is {}", c, spell(v));
    else if (v < 0.0f)
      return fmt::format("running variance {} is negative ({})", c, v);
  return "";
}

} // namespace mest::rt
