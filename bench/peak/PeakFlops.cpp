// The machine's measured f32 peak: every OpenMP thread runs independent
// fused multiply-add chains on the widest vectors the CPU has (AVX-512, else
// AVX2 + FMA), enough chains to hide the FMA latency. The roofline fraction of
// a training step is its active FLOP / (time x this peak). Prints one JSON
// object. Usage: bench-peak [SECONDS_PER_REP]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

namespace {

template <int Lanes> using Vec = float __attribute__((vector_size(4 * Lanes)));

// 12 chains x Lanes lanes x 2 FLOP per iteration; returns a sum so that the
// compiler keeps the chains.
template <int Lanes> float chains(long iterations) {
  constexpr int K = 12;
  Vec<Lanes> acc[K], a, b;
  for (int i = 0; i < Lanes; ++i) {
    a[i] = 1.0f + 1e-7f * i;
    b[i] = 1e-7f;
  }
  for (int k = 0; k < K; ++k) acc[k] = a * float(k);
  for (long it = 0; it < iterations; ++it)
    for (int k = 0; k < K; ++k) {
      acc[k] = acc[k] * a + b;
      asm volatile("" : "+v"(acc[k]));
    }
  float s = 0;
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < Lanes; ++i) s += acc[k][i];
  return s;
}

__attribute__((target("avx512f"))) float chains512(long n) { return chains<16>(n); }
__attribute__((target("avx2,fma"))) float chains256(long n) { return chains<8>(n); }

} // namespace

int main(int argc, char **argv) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    fmt::print(stderr, "bench-peak: needs AVX2 + FMA or AVX-512\n");
    return 1;
  }
  const int lanes = avx512 ? 16 : 8;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.2;
  // Calibrate the iterations to about `seconds` on one thread.
  long iterations = 1 << 20;
  using Clock = std::chrono::steady_clock;
  for (;;) {
    auto t = Clock::now();
    volatile float s = avx512 ? chains512(iterations) : chains256(iterations);
    (void)s;
    double dt = std::chrono::duration<double>(Clock::now() - t).count();
    if (dt > seconds / 4) {
      iterations = long(iterations * seconds / dt);
      break;
    }
    iterations *= 2;
  }
  const int threads = omp_get_max_threads();
  std::vector<double> gflops;
  for (int rep = 0; rep < 5; ++rep) {
    auto t = Clock::now();
    float sink = 0;
#pragma omp parallel reduction(+ : sink)
    sink += avx512 ? chains512(iterations) : chains256(iterations);
    double dt = std::chrono::duration<double>(Clock::now() - t).count();
    if (sink == 1.2345f) fmt::print(stderr, " ");  // keep the result live
    gflops.push_back(2.0 * 12 * lanes * double(iterations) * threads / dt / 1e9);
  }
  std::sort(gflops.begin(), gflops.end());
  fmt::print("{{\"kind\": \"peak\", \"threads\": {}, \"isa\": \"{}\", \"gflops\": {:.1f}}}\n",
             threads, avx512 ? "avx512" : "avx2", gflops.back());
  return 0;
}
