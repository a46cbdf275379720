//===- Mutation.cpp - initialisation, prune and grow ----------------------===//
#include "runtime/mutation/Mutation.h"

#include "runtime/support/Error.h"
#include "runtime/support/Memory.h"

#include <algorithm>
#include <cstring>

namespace mest::rt {

namespace {

bool isPattern(const CompressedWeights &w) { return w.spec.scheme == Scheme::Pattern; }

/// Units a domain can ever hold (all of them, dense), and how many domains.
int64_t domainSize(const CompressedWeights &w) {
  return isPattern(w) ? w.unitsPerGroup : w.numGroups * w.unitsPerGroup;
}
int64_t numDomains(const CompressedWeights &w) { return isPattern(w) ? w.spec.shape.O : 1; }
int64_t domainCapacity(const CompressedWeights &w) {
  return isPattern(w) ? w.capacityPerFilter : w.capacityUnits;
}

float unitScore(const float *v, int64_t n) {
  if (n == 1) return std::fabs(v[0]);
  double sum = 0.0;  // squared L2 norm ranks like the norm
  for (int64_t i = 0; i < n; ++i) sum += double(v[i]) * v[i];
  return static_cast<float>(sum);
}

void moveUnit(CompressedWeights &w, int64_t from, int64_t to) {
  if (from == to) return;
  const size_t bytes = w.unitSize * sizeof(float);
  for (float *a : {w.values, w.grads, w.momentum})
    std::memcpy(a + to * w.unitSize, a + from * w.unitSize, bytes);
}

void zeroUnits(CompressedWeights &w, int64_t begin, int64_t end) {
  for (float *a : {w.values, w.grads, w.momentum})
    std::fill(a + begin * w.unitSize, a + end * w.unitSize, 0.0f);
}

void fillKeys(const CompressedWeights &w, int64_t *keys) {
  if (w.spec.scheme == Scheme::Unstructured || w.spec.scheme == Scheme::Block) {
    for (int64_t g = 0; g < w.numGroups; ++g)
      for (int64_t s = w.groupPtr[g]; s < w.groupPtr[g + 1]; ++s)
        keys[s] = g * w.unitsPerGroup + w.index[s];
    return;
  }
  for (int64_t s = 0; s < w.numActive(); ++s) keys[s] = w.unitKey(s);
}

/// Ranking order: (score, unit id) ascending; the first ones are removed first.
struct RankLess {
  const float *score;
  const int64_t *id;
  bool operator()(int32_t a, int32_t b) const {
    return score[a] != score[b] ? score[a] < score[b] : id[a] < id[b];
  }
};

} // namespace

MutationScratch::MutationScratch(const std::vector<const CompressedWeights *> &layers) {
  for (const CompressedWeights *w : layers) {
    if (w->spec.scheme == Scheme::Dense) continue;
    maxCapacityUnits = std::max(maxCapacityUnits, w->capacityUnits);
    maxFlags = std::max({maxFlags, domainSize(*w), w->capacityUnits});
    maxUnitSize = std::max(maxUnitSize, isPattern(*w) ? int64_t(9) : w->unitSize);
  }
  keys = allocateArray<int64_t>(maxCapacityUnits, MemCategory::Scratch);
  newKeys = allocateArray<int64_t>(maxCapacityUnits, MemCategory::Scratch);
  score = allocateArray<float>(maxCapacityUnits, MemCategory::Scratch);
  order = allocateArray<int32_t>(maxCapacityUnits, MemCategory::Scratch);
  flags = allocateArray<uint8_t>(maxFlags, MemCategory::Scratch);
  unitBuf = allocateArray<float>(maxUnitSize, MemCategory::Scratch);
}

MutationScratch::~MutationScratch() {
  releaseArray(keys, maxCapacityUnits, MemCategory::Scratch);
  releaseArray(newKeys, maxCapacityUnits, MemCategory::Scratch);
  releaseArray(score, maxCapacityUnits, MemCategory::Scratch);
  releaseArray(order, maxCapacityUnits, MemCategory::Scratch);
  releaseArray(flags, maxFlags, MemCategory::Scratch);
  releaseArray(unitBuf, maxUnitSize, MemCategory::Scratch);
}

void MutationScratch::check(const CompressedWeights &w) const {
  if (w.capacityUnits > maxCapacityUnits || domainSize(w) > maxFlags ||
      (isPattern(w) ? 9 : w.unitSize) > maxUnitSize)
    throw Error(fmt::format("layer {}: mutation scratch was sized for smaller layers",
                            w.spec.name));
}

double kaimingStd(const WeightShape &s) {
  return std::sqrt(2.0 / static_cast<double>(s.O * s.KH * s.KW));
}

int64_t domainUnitsAt(const CompressedWeights &w, double sparsity) {
  return activeUnitsPerGroup(w.spec.scheme, w.spec.shape, sparsity, w.spec.blockRows);
}

int64_t domainUnitsNow(const CompressedWeights &w) {
  return isPattern(w) ? w.perFilter() : w.numActive();
}

namespace {

/// The initial selection shared by random and imported weights: `draw(d, u,
/// buf)` writes the dense values of unit u of domain d (pattern: the 3x3
/// kernel of filter d, channel u; otherwise the unit's unitSize weights) and
/// each domain keeps its `target`-sparsity top units by the scheme's ranking,
/// through a top-k selection held in the gradient array (the dense tensor is
/// never stored here). Gradients and momentum end at 0.
template <typename Draw>
void selectInitialUnits(CompressedWeights &w, MutationScratch &scratch, Draw &&draw) {
  zeroUnits(w, 0, w.capacityUnits);
  if (w.spec.scheme == Scheme::Dense) {
    w.header[0] = w.capacityUnits;  // always full, even in a block zeroed after binding
    draw(0, 0, w.values);           // a dense layer is one unit of every weight
    return;
  }
  scratch.check(w);
  const int64_t k = domainUnitsAt(w, w.spec.target), us = w.unitSize;
  const int64_t P = w.spec.patterns.count, I = w.unitsPerGroup;
  int64_t *key = scratch.keys, *id = scratch.newKeys;
  float *score = scratch.score;
  int32_t *heap = scratch.order;
  // Min-heap on (score, id) over the slots of one domain: the root is the unit
  // that pruning would remove first. Candidate values live in the grads array.
  RankLess less{score, id};
  auto greater = [&](int32_t a, int32_t b) { return less(b, a); };
  for (int64_t d = 0; d < numDomains(w); ++d) {
    const int64_t base = d * k;
    int64_t filled = 0;
    for (int64_t u = 0; u < domainSize(w); ++u) {
      float *buf = scratch.unitBuf;
      draw(d, u, buf);
      int64_t unitKey;
      if (isPattern(w)) {
        // Keep the pattern with the most energy (first on ties).
        int best = 0;
        double bestEnergy = -1.0;
        for (int p = 0; p < P; ++p) {
          double e = 0.0;
          for (int t = 0; t < kPatternTaps; ++t) {
            float x = buf[w.spec.patterns.taps[p][t]];
            e += double(x) * x;
          }
          if (e > bestEnergy) bestEnergy = e, best = p;
        }
        for (int t = 0; t < kPatternTaps; ++t) buf[t] = buf[w.spec.patterns.taps[best][t]];
        unitKey = d * P * I + best * I + u;
      } else {
        unitKey = u;
      }
      float sc = unitScore(buf, us);
      int64_t uid = isPattern(w) ? d * I + u : u;
      int64_t slot;
      if (filled < k) {
        slot = base + filled;
        heap[filled++] = static_cast<int32_t>(slot);
      } else if (k > 0 && (sc > score[heap[0]] || (sc == score[heap[0]] && uid > id[heap[0]]))) {
        std::pop_heap(heap, heap + k, greater);
        slot = heap[k - 1];
      } else {
        continue;
      }
      std::memcpy(w.grads + slot * us, buf, us * sizeof(float));
      score[slot] = sc;
      key[slot] = unitKey;
      id[slot] = uid;
      std::push_heap(heap, heap + (filled < k ? filled : k), greater);
    }
  }
  // Lay the chosen units out in key order: values from the grads staging area.
  const int64_t n = k * numDomains(w);
  for (int64_t i = 0; i < n; ++i) heap[i] = static_cast<int32_t>(i);
  std::sort(heap, heap + n, [&](int32_t a, int32_t b) { return key[a] < key[b]; });
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(w.values + i * us, w.grads + int64_t(heap[i]) * us, us * sizeof(float));
    id[i] = key[heap[i]];
  }
  std::fill(w.grads, w.grads + w.capacityWeights(), 0.0f);
  w.setUnitsFromKeys(id, n);
}

} // namespace

void initialize(CompressedWeights &w, double stddev, Rng &rng, MutationScratch &scratch) {
  const bool dense = w.spec.scheme == Scheme::Dense;
  const int64_t n = dense ? w.capacityWeights() : isPattern(w) ? 9 : w.unitSize;
  selectInitialUnits(w, scratch, [&](int64_t, int64_t, float *buf) {
    for (int64_t i = 0; i < n; ++i) buf[i] = static_cast<float>(stddev * rng.normal());
  });
}

void initializeFromDense(CompressedWeights &w, const float *dense, MutationScratch &scratch) {
  const WeightShape &s = w.spec.shape;
  const int64_t K = s.I * s.KH * s.KW, kk = s.KH * s.KW;
  selectInitialUnits(w, scratch, [&](int64_t d, int64_t u, float *buf) {
    switch (w.spec.scheme) {
    case Scheme::Dense: std::memcpy(buf, dense, sizeof(float) * s.numel()); return;
    case Scheme::Unstructured: buf[0] = dense[u]; return;
    case Scheme::Block:
      for (int64_t i = 0; i < w.spec.blockRows; ++i)
        buf[i] = dense[((u / K) * w.spec.blockRows + i) * K + u % K];
      return;
    case Scheme::Channel:
      for (int64_t o = 0; o < s.O; ++o)
        std::memcpy(buf + o * kk, dense + (o * s.I + u) * kk, sizeof(float) * kk);
      return;
    case Scheme::Pattern: std::memcpy(buf, dense + (d * s.I + u) * 9, sizeof(float) * 9); return;
    }
  });
}

MutationCounts prune(CompressedWeights &w, double toSparsity, MutationScratch &scratch) {
  if (w.spec.scheme == Scheme::Dense) return {};
  scratch.check(w);
  const int64_t target = domainUnitsAt(w, toSparsity), cur = domainUnitsNow(w);
  if (target >= cur) return {};
  const int64_t n = w.numActive(), remove = cur - target;
  int64_t *key = scratch.keys, *id = scratch.newKeys;
  fillKeys(w, key);
  for (int64_t s = 0; s < n; ++s) {
    scratch.score[s] = unitScore(w.values + s * w.unitSize, w.unitSize);
    id[s] = w.unitIdOfKey(key[s]);
    scratch.flags[s] = 0;
  }
  RankLess less{scratch.score, id};
  for (int64_t d = 0; d < numDomains(w); ++d) {
    int32_t *order = scratch.order;
    for (int64_t i = 0; i < cur; ++i) order[i] = static_cast<int32_t>(d * cur + i);
    std::nth_element(order, order + remove, order + cur, less);
    for (int64_t i = 0; i < remove; ++i) scratch.flags[order[i]] = 1;
  }
  int64_t kept = 0;
  for (int64_t s = 0; s < n; ++s) {
    if (scratch.flags[s]) continue;
    moveUnit(w, s, kept);
    key[kept++] = key[s];
  }
  zeroUnits(w, kept, n);
  w.setUnitsFromKeys(key, kept);
  return {n - kept, 0};
}

MutationCounts grow(CompressedWeights &w, double toSparsity, Rng &rng,
                    MutationScratch &scratch) {
  if (w.spec.scheme == Scheme::Dense) return {};
  scratch.check(w);
  const int64_t target = domainUnitsAt(w, toSparsity), cur = domainUnitsNow(w);
  if (target <= cur) return {};
  if (target > domainCapacity(w))
    throw Error(fmt::format(
        "layer {}: growing to sparsity {} needs {} {} but the compiled capacity (sparsity {}) "
        "holds {}",
        w.spec.name, toSparsity, target, isPattern(w) ? "kernels per filter" : "units",
        w.spec.capacity, domainCapacity(w)));
  const int64_t n = w.numActive(), P = w.spec.patterns.count, I = w.unitsPerGroup;
  int64_t *key = scratch.keys, *fresh = scratch.newKeys;
  fillKeys(w, key);
  int64_t numNew = 0;
  // Selection sampling (Knuth's algorithm S) over the empty units of a domain, in
  // ascending order: each of the `remaining` empty units is taken with
  // probability need / remaining, which draws a uniform subset of size need.
  auto sample = [&](int64_t domain, const int64_t *domainKeys, int64_t count) {
    std::fill(scratch.flags, scratch.flags + domainSize(w), 0);
    for (int64_t i = 0; i < count; ++i)
      scratch.flags[isPattern(w) ? domainKeys[i] % I : domainKeys[i]] = 1;
    int64_t need = target - cur, remaining = domainSize(w) - count;
    const int64_t first = numNew;
    for (int64_t u = 0; u < domainSize(w) && need > 0; ++u) {
      if (scratch.flags[u]) continue;
      if (static_cast<int64_t>(rng.below(remaining)) < need) {
        fresh[numNew++] = isPattern(w) ? domain * P * I + int64_t(rng.below(P)) * I + u : u;
        --need;
      }
      --remaining;
    }
    std::sort(fresh + first, fresh + numNew);  // pattern: by (pattern, channel)
  };
  for (int64_t d = 0; d < numDomains(w); ++d) sample(d, key + d * cur, cur);
  // Merge the new keys into storage from the back: every unit moves to a slot at
  // or after its old one, so nothing is overwritten before it is read.
  int64_t r = n - 1, t = numNew - 1;
  for (int64_t dst = n + numNew - 1; t >= 0; --dst) {
    if (r >= 0 && key[r] > fresh[t]) {
      moveUnit(w, r, dst);
      key[dst] = key[r--];
    } else {
      zeroUnits(w, dst, dst + 1);
      key[dst] = fresh[t--];
    }
  }
  w.setUnitsFromKeys(key, n + numNew);
  return {0, numNew};
}

} // namespace mest::rt
