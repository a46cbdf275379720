//===- Rng.h - the run's seeded random generator --------------------------===//
//
// xoshiro256** seeded through splitmix64, with hand-written uniform and normal
// draws so that the same seed gives the same masks and values on every platform
// and standard library (std:: distributions are implementation-defined).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_SUPPORT_RNG_H
#define MEST_RUNTIME_SUPPORT_RNG_H

#include <cmath>
#include <cstdint>

namespace mest::rt {

class Rng {
public:
  explicit Rng(uint64_t seed = 914) { reseed(seed); }

  void reseed(uint64_t seed) {
    for (uint64_t &s : state_) {
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      s = z ^ (z >> 31);
    }
    hasSpare_ = false;
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n), unbiased (rejection), n > 0.
  uint64_t below(uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }

  /// Standard normal by the Box-Muller transform.
  double normal() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double u1, u2 = uniform();
    do u1 = uniform();
    while (u1 <= 0.0);
    double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
    spare_ = r * std::sin(theta);
    hasSpare_ = true;
    return r * std::cos(theta);
  }

  /// Complete state, for checkpoints: resuming restores the exact stream.
  struct State {
    uint64_t s[4];
    double spare;
    uint64_t hasSpare;
  };
  State save() const { return {{state_[0], state_[1], state_[2], state_[3]}, spare_, hasSpare_}; }
  void restore(const State &st) {
    for (int i = 0; i < 4; ++i) state_[i] = st.s[i];
    spare_ = st.spare;
    hasSpare_ = st.hasSpare != 0;
  }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_ = 0.0;
  bool hasSpare_ = false;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_SUPPORT_RNG_H
