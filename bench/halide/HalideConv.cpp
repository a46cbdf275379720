// The Halide-generated dense convolution (runtime/kernels/halide) on the
// ResNet-32 3x3 shapes at batch 64, forward only: the measurement behind the
// choice between Halide and mest's own generated dense kernels
// (docs/performance.md). One JSON object per shape.
#include "HalideBuffer.h"
#include "mest_halide_conv_fwd.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  struct Shape { int O, I, H, stride; };
  const Shape shapes[] = {{16, 16, 32, 1}, {32, 16, 32, 2}, {32, 32, 16, 1}, {64, 32, 16, 2}, {64, 64, 8, 1}};
  const int N = 64;
  for (const Shape &s : shapes) {
    const int OH = (s.H + 2 - 3) / s.stride + 1;
    std::vector<float> in(size_t(N) * s.I * s.H * s.H, 0.5f), w(size_t(s.O) * s.I * 9, 0.1f),
        out(size_t(N) * s.O * OH * OH);
    Halide::Runtime::Buffer<float> hin(in.data(), s.H, s.H, s.I, N), hw(w.data(), 3, 3, s.I, s.O),
        hout(out.data(), OH, OH, s.O, N);
    std::vector<double> t;
    for (int i = 0; i <= reps; ++i) {
      auto a = std::chrono::steady_clock::now();
      mest_halide_conv_fwd(hin, hw, s.stride, 1, hout);
      if (i) t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    double macs = double(s.O) * s.I * 9 * N * OH * OH;
    fmt::print("{{\"kind\": \"halide\", \"O\": {}, \"I\": {}, \"k\": 3, \"hw\": {}, \"stride\": {}, "
               "\"fwd_ms\": {:.4f}, \"fwd_gflops\": {:.2f}}}\n",
               s.O, s.I, OH, s.stride, t[t.size() / 2], 2 * macs / t[t.size() / 2] / 1e6);
  }
  return 0;
}
