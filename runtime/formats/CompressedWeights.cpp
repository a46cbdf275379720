//===- CompressedWeights.cpp - allocation, keys, debug conversions --------===//
#include "runtime/formats/CompressedWeights.h"

#include "runtime/formats/Patterns.h"
#include "runtime/support/Error.h"
#include "runtime/support/Memory.h"

#include <algorithm>
#include <vector>

namespace mest::rt {

PatternLibrary PatternLibrary::defaults() {
  PatternLibrary lib;
  lib.count = kDefaultNumPatterns;
  for (int p = 0; p < kDefaultNumPatterns; ++p)
    for (int t = 0; t < kPatternTaps; ++t) lib.taps[p][t] = kDefaultPatterns[p][t];
  return lib;
}

CompressedWeights::CompressedWeights(const WeightSpec &specIn) : spec(specIn) {
  const WeightShape &w = spec.shape;
  if (w.O <= 0 || w.I <= 0 || w.KH <= 0 || w.KW <= 0)
    throw Error(fmt::format("layer {}: weight shape [{}, {}, {}, {}] must be positive",
                            spec.name, w.O, w.I, w.KH, w.KW));
  if (!(spec.capacity >= 0.0 && spec.capacity <= spec.target && spec.target < 1.0))
    throw Error(fmt::format("layer {}: need 0 <= capacity ({}) <= target ({}) < 1", spec.name,
                            spec.capacity, spec.target));
  if (spec.scheme == Scheme::Block && (spec.blockRows <= 0 || w.O % spec.blockRows != 0))
    throw Error(fmt::format("layer {}: block rows {} do not divide {} output channels",
                            spec.name, spec.blockRows, w.O));
  if (spec.scheme == Scheme::Pattern && (w.KH != 3 || w.KW != 3))
    throw Error(fmt::format("layer {}: pattern sparsity needs 3x3 kernels, got {}x{}",
                            spec.name, w.KH, w.KW));
  if (spec.scheme == Scheme::Pattern &&
      (spec.patterns.count <= 0 || spec.patterns.count > kMaxPatterns))
    throw Error(fmt::format("layer {}: pattern library has {} patterns", spec.name,
                            spec.patterns.count));
  if (spec.scheme != Scheme::Dense &&
      activeUnitsPerGroup(spec.scheme, w, spec.capacity, spec.blockRows) < 0)
    throw Error(fmt::format("layer {}: capacity {} is denser than scheme {} can be", spec.name,
                            spec.capacity, schemeName(spec.scheme)));
  stateBytes_ = spec.layout().total;
  owning_ = true;
  bind(static_cast<uint8_t *>(allocate(stateBytes_, MemCategory::State)));
}

CompressedWeights::CompressedWeights(const WeightSpec &specIn, uint8_t *block) : spec(specIn) {
  stateBytes_ = spec.layout().total;
  bind(block);
}

void CompressedWeights::bind(uint8_t *block) {
  const WeightShape &w = spec.shape;
  ConvStateLayout l = spec.layout();
  base = block;
  auto at = [&](int64_t off) { return off < 0 ? nullptr : block + off; };
  header = reinterpret_cast<int64_t *>(at(l.header));
  values = reinterpret_cast<float *>(at(l.values));
  grads = reinterpret_cast<float *>(at(l.grads));
  momentum = reinterpret_cast<float *>(at(l.momentum));
  bias = reinterpret_cast<float *>(at(l.bias));
  biasGrad = reinterpret_cast<float *>(at(l.biasGrad));
  biasMomentum = reinterpret_cast<float *>(at(l.biasMomentum));
  index = reinterpret_cast<int32_t *>(at(l.index));
  groupPtr = reinterpret_cast<int32_t *>(at(l.groupPtr));
  patternCount = reinterpret_cast<int32_t *>(at(l.patternCount));
  order = reinterpret_cast<int32_t *>(at(l.order));
  patternId = at(l.patternId);
  unitSize = l.unitSize;
  capacityUnits = l.capacityUnits;
  switch (spec.scheme) {
  case Scheme::Dense:
    unitsPerGroup = w.numel();
    header[0] = capacityUnits;  // a dense layer is always full
    break;
  case Scheme::Unstructured:
    numGroups = w.O;
    unitsPerGroup = w.I * w.kernelSize();
    break;
  case Scheme::Block:
    numGroups = w.O / spec.blockRows;
    unitsPerGroup = w.I * w.kernelSize();
    break;
  case Scheme::Channel: unitsPerGroup = w.I; break;
  case Scheme::Pattern:
    numGroups = w.O;
    unitsPerGroup = w.I;
    capacityPerFilter = capacityUnits / w.O;
    break;
  }
}

CompressedWeights::CompressedWeights(CompressedWeights &&o) noexcept
    : spec(std::move(o.spec)), numGroups(o.numGroups), unitsPerGroup(o.unitsPerGroup),
      unitSize(o.unitSize), capacityUnits(o.capacityUnits),
      capacityPerFilter(o.capacityPerFilter), base(o.base), header(o.header), values(o.values),
      grads(o.grads), momentum(o.momentum), bias(o.bias), biasGrad(o.biasGrad),
      biasMomentum(o.biasMomentum), index(o.index), groupPtr(o.groupPtr),
      patternId(o.patternId), patternCount(o.patternCount), order(o.order),
      stateBytes_(o.stateBytes_), owning_(o.owning_) {
  o.owning_ = false;
}

CompressedWeights::~CompressedWeights() {
  if (owning_) release(base, stateBytes_, MemCategory::State);
}

int64_t CompressedWeights::unitKey(int64_t slot) const {
  switch (spec.scheme) {
  case Scheme::Unstructured:
  case Scheme::Block: {
    // The group of a slot: the last group whose pointer is <= slot.
    int64_t g = std::upper_bound(groupPtr, groupPtr + numGroups + 1, slot) - groupPtr - 1;
    return g * unitsPerGroup + index[slot];
  }
  case Scheme::Channel: return index[slot];
  case Scheme::Pattern:
    return (slot / perFilter()) * spec.patterns.count * unitsPerGroup +
           int64_t(patternId[slot]) * unitsPerGroup + index[slot];
  case Scheme::Dense: return slot;
  }
  return slot;
}

int64_t CompressedWeights::unitIdOfKey(int64_t key) const {
  if (spec.scheme != Scheme::Pattern) return key;
  int64_t perO = spec.patterns.count * unitsPerGroup;
  return (key / perO) * unitsPerGroup + key % unitsPerGroup;
}

void CompressedWeights::setUnitsFromKeys(const int64_t *keys, int64_t n) {
  header[0] = n;
  switch (spec.scheme) {
  case Scheme::Unstructured:
  case Scheme::Block:
    std::fill(groupPtr, groupPtr + numGroups + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      index[i] = static_cast<int32_t>(keys[i] % unitsPerGroup);
      ++groupPtr[keys[i] / unitsPerGroup + 1];
    }
    for (int64_t g = 0; g < numGroups; ++g) groupPtr[g + 1] += groupPtr[g];
    break;
  case Scheme::Channel:
    for (int64_t i = 0; i < n; ++i) index[i] = static_cast<int32_t>(keys[i]);
    break;
  case Scheme::Pattern: {
    const int64_t P = spec.patterns.count, perO = P * unitsPerGroup;
    header[1] = n / spec.shape.O;
    std::fill(patternCount, patternCount + spec.shape.O * P, 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t o = keys[i] / perO, p = (keys[i] % perO) / unitsPerGroup;
      index[i] = static_cast<int32_t>(keys[i] % unitsPerGroup);
      patternId[i] = static_cast<uint8_t>(p);
      ++patternCount[o * P + p];
    }
    break;
  }
  case Scheme::Dense: break;
  }
}

void CompressedWeights::densify(const float *packed, float *dense) const {
  const WeightShape &w = spec.shape;
  std::fill(dense, dense + w.numel(), 0.0f);
  forEachActiveWeight([&](int64_t o, int64_t c, int64_t r, int64_t s, int64_t v) {
    dense[((o * w.I + c) * w.KH + r) * w.KW + s] = packed[v];
  });
}

void CompressedWeights::loadDense(const float *dense) {
  const WeightShape &w = spec.shape;
  const int64_t kk = w.kernelSize(), K = w.I * kk;
  auto at = [&](int64_t o, int64_t c, int64_t k) { return dense[(o * w.I + c) * kk + k]; };
  std::vector<int64_t> keys;
  switch (spec.scheme) {
  case Scheme::Dense: std::copy(dense, dense + w.numel(), values); return;
  case Scheme::Unstructured:
    for (int64_t i = 0; i < w.numel(); ++i)
      if (dense[i] != 0.0f) keys.push_back(i);
    break;
  case Scheme::Block:
    for (int64_t g = 0; g < numGroups; ++g)
      for (int64_t col = 0; col < K; ++col)
        for (int64_t i = 0; i < spec.blockRows; ++i)
          if (dense[(g * spec.blockRows + i) * K + col] != 0.0f) {
            keys.push_back(g * K + col);
            break;
          }
    break;
  case Scheme::Channel:
    for (int64_t c = 0; c < w.I; ++c)
      for (int64_t o = 0; o < w.O && (keys.empty() || keys.back() != c); ++o)
        for (int64_t k = 0; k < kk; ++k)
          if (at(o, c, k) != 0.0f) {
            keys.push_back(c);
            break;
          }
    break;
  case Scheme::Pattern: {
    const int64_t P = spec.patterns.count;
    int64_t per = -1;
    for (int64_t o = 0; o < w.O; ++o) {
      int64_t count = 0;
      for (int64_t c = 0; c < w.I; ++c) {
        unsigned mask = 0;
        for (int64_t k = 0; k < 9; ++k) mask |= unsigned(at(o, c, k) != 0.0f) << k;
        if (!mask) continue;
        // A kernel belongs to the first pattern that covers its nonzero taps.
        int64_t p = 0;
        for (; p < P; ++p) {
          unsigned pm = 0;
          for (int t = 0; t < kPatternTaps; ++t) pm |= 1u << spec.patterns.taps[p][t];
          if ((mask & ~pm) == 0) break;
        }
        if (p == P)
          throw Error(fmt::format("layer {}: kernel ({}, {}) matches no pattern", spec.name, o,
                                  c));
        keys.push_back(o * P * w.I + p * w.I + c);
        ++count;
      }
      if (per >= 0 && count != per)
        throw Error(fmt::format("layer {}: filter {} has {} kernels, filter 0 has {}: "
                                "pattern sparsity keeps the same count in every filter",
                                spec.name, o, count, per));
      per = count;
    }
    std::sort(keys.begin(), keys.end());
    break;
  }
  }
  if (static_cast<int64_t>(keys.size()) > capacityUnits)
    throw Error(fmt::format("layer {}: {} units exceed the capacity of {}", spec.name,
                            keys.size(), capacityUnits));
  setUnitsFromKeys(keys.data(), static_cast<int64_t>(keys.size()));
  std::fill(values, values + capacityWeights(), 0.0f);
  forEachActiveWeight([&](int64_t o, int64_t c, int64_t r, int64_t s, int64_t v) {
    values[v] = dense[((o * w.I + c) * w.KH + r) * w.KW + s];
  });
}

} // namespace mest::rt
