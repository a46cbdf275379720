//===- DropoutStream.h - the random stream of mest.dropout ----------------===//
//
// Dropout masks come from a counter-based stream: a pure function of a seed,
// the step counter, the dropout's index in the model and the element's index,
// so backward recomputes the forward mask instead of keeping it, a checkpoint
// (which holds the counter) resumes the same stream, and a test can rebuild
// every mask from the documented function (docs/formats.md). The compiler
// emits the vector form of `dropoutKeep`; this scalar form is its definition.
//
// The stream lives in the state block at the model's dropout_state_offset:
// uint64 seed, uint64 step. The driver writes the seed from --seed (and the
// rank, so data-parallel replicas draw different masks); the train step
// advances the step after its backward pass.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_DROPOUTSTREAM_H
#define MEST_RUNTIME_FORMATS_DROPOUTSTREAM_H

#include <cmath>
#include <cstdint>

namespace mest::rt {

constexpr int64_t kDropoutStreamBytes = 16;  // seed, step
constexpr uint64_t kDropoutGolden = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kDropoutMix1 = 0xbf58476d1ce4e5b9ull, kDropoutMix2 = 0x94d049bb133111ebull;
constexpr uint32_t kDropoutHash1 = 0x21f0aaadu, kDropoutHash2 = 0x735a2d97u;

/// SplitMix64's finaliser.
inline uint64_t dropoutMix64(uint64_t z) {
  z = (z ^ (z >> 30)) * kDropoutMix1;
  z = (z ^ (z >> 27)) * kDropoutMix2;
  return z ^ (z >> 31);
}

/// A 32-bit integer hash (Wellons' lowbias32 family).
inline uint32_t dropoutHash32(uint32_t x) {
  x = (x ^ (x >> 16)) * kDropoutHash1;
  x = (x ^ (x >> 15)) * kDropoutHash2;
  return x ^ (x >> 15);
}

/// The key of dropout `index` at `step`: one scalar per kernel call.
inline uint64_t dropoutKey(uint64_t seed, uint64_t step, uint64_t index) {
  return dropoutMix64(seed + kDropoutGolden * ((step << 16) + index + 1));
}

/// Elements whose 24-bit draw is below this are dropped: round(ratio * 2^24).
inline uint32_t dropoutThreshold(double ratio) {
  return static_cast<uint32_t>(std::lround(ratio * 16777216.0));
}

/// Whether element `e` is kept under `key`.
inline bool dropoutKeep(uint64_t key, uint32_t e, uint32_t threshold) {
  const uint32_t h = dropoutHash32(dropoutHash32(e ^ uint32_t(key)) ^ uint32_t(key >> 32));
  return (h >> 8) >= threshold;
}

/// The seed word the driver writes for --seed on replica `rank`.
inline uint64_t dropoutSeed(uint64_t seed, int64_t rank) {
  return dropoutMix64(dropoutMix64(seed ^ 0x64726f706f7574ull) + uint64_t(rank));
}

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_DROPOUTSTREAM_H
