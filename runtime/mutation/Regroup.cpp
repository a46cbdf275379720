//===- Regroup.cpp - load-balanced work order after a mutation ------------===//
#include "runtime/mutation/Regroup.h"

#include <algorithm>
#include <numeric>

namespace mest::rt {

namespace {
constexpr int64_t kMaxUnits = 4096;
constexpr int kMaxThreads = 256;

int64_t numWorkUnits(const CompressedWeights &w) {
  return w.spec.scheme == Scheme::Block ? w.numGroups : w.spec.shape.O;
}

int64_t unitWork(const CompressedWeights &w, int64_t u) {
  switch (w.spec.scheme) {
  case Scheme::Unstructured: return w.groupPtr[u + 1] - w.groupPtr[u];
  case Scheme::Block: return (w.groupPtr[u + 1] - w.groupPtr[u]) * w.spec.blockRows;
  case Scheme::Pattern: return w.perFilter() * kPatternTaps;
  default: return 1;
  }
}
} // namespace

void staticChunks(int64_t n, int threads, int64_t *sizes) {
  int64_t big = (n + threads - 1) / threads, left = n;
  for (int t = 0; t < threads; ++t) {
    sizes[t] = std::min(big, left);
    left -= sizes[t];
  }
}

void regroup(CompressedWeights &w, RegroupPolicy policy, int threads) {
  if (!w.order) return;
  const int64_t n = numWorkUnits(w);
  std::iota(w.order, w.order + n, 0);
  threads = std::clamp(threads, 1, kMaxThreads);
  if (policy == RegroupPolicy::None || n > kMaxUnits) return;
  if (policy == RegroupPolicy::PatternMix && w.patternCount) {
    const int64_t P = w.spec.patterns.count;
    std::sort(w.order, w.order + n, [&](int32_t a, int32_t b) {
      const int32_t *ha = w.patternCount + a * P, *hb = w.patternCount + b * P;
      return std::lexicographical_compare(hb, hb + P, ha, ha + P) ||
             (std::equal(ha, ha + P, hb) && a < b);
    });
    return;
  }
  // balance-nnz: heaviest first into the lightest chunk with room.
  int32_t sorted[kMaxUnits];
  std::iota(sorted, sorted + n, 0);
  std::sort(sorted, sorted + n, [&](int32_t a, int32_t b) {
    int64_t wa = unitWork(w, a), wb = unitWork(w, b);
    return wa != wb ? wa > wb : a < b;
  });
  int64_t size[kMaxThreads], fill[kMaxThreads] = {}, load[kMaxThreads] = {};
  staticChunks(n, threads, size);
  int32_t bins[kMaxUnits];
  int64_t start[kMaxThreads];
  for (int t = 0, at = 0; t < threads; at += size[t], ++t) start[t] = at;
  for (int64_t i = 0; i < n; ++i) {
    int best = -1;
    for (int t = 0; t < threads; ++t)
      if (fill[t] < size[t] && (best < 0 || load[t] < load[best])) best = t;
    bins[start[best] + fill[best]++] = sorted[i];
    load[best] += unitWork(w, sorted[i]);
  }
  // Inside a chunk, keep filters in index order for locality.
  for (int t = 0; t < threads; ++t) std::sort(bins + start[t], bins + start[t] + size[t]);
  std::copy(bins, bins + n, w.order);
}

void chunkWork(const CompressedWeights &w, int threads, int64_t *work) {
  const int64_t n = numWorkUnits(w);
  int64_t size[kMaxThreads];
  threads = std::clamp(threads, 1, kMaxThreads);
  staticChunks(n, threads, size);
  for (int t = 0, at = 0; t < threads; ++t) {
    work[t] = 0;
    for (int64_t i = 0; i < size[t]; ++i, ++at)
      work[t] += unitWork(w, w.order ? w.order[at] : at);
  }
}

} // namespace mest::rt
