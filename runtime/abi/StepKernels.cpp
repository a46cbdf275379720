//===- StepKernels.cpp - runtime entry points called by generated code ----===//
//
// The C functions mest-lower-kernels calls for what it does not generate yet
// (windowed max and average pooling), for regrouping after mutation and for
// the thread count. Thin wrappers over the reference kernels: plain pointers
// and sizes, no state. Batch norm, global pooling and the loss are generated
// (codegen/NormKernels.cpp, codegen/PoolLossKernels.cpp).
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Reference.h"
#include "runtime/mutation/Regroup.h"

#include <omp.h>

using namespace mest::rt;

namespace {
ConvGeom window(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t SH,
                int64_t SW, int64_t PH, int64_t PW) {
  ConvGeom g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.O = C, g.KH = KH, g.KW = KW;
  g.SH = SH, g.SW = SW, g.PH = PH, g.PW = PW;
  return g;
}
} // namespace

extern "C" {

void mest_rt_max_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                                int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW,
                                const float *in, float *out, int32_t *argmax) {
  maxPool2dForward(window(N, C, H, W, KH, KW, SH, SW, PH, PW), in, out, argmax);
}

void mest_rt_max_pool2d_forward_eval(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                                     int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW,
                                     const float *in, float *out) {
  maxPool2dForward(window(N, C, H, W, KH, KW, SH, SW, PH, PW), in, out, nullptr);
}

void mest_rt_max_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                                 int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW,
                                 const float *dout, const int32_t *argmax, float *din) {
  maxPool2dBackward(window(N, C, H, W, KH, KW, SH, SW, PH, PW), dout, argmax, din);
}

void mest_rt_avg_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                                int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW,
                                const float *in, float *out) {
  avgPool2dForward(window(N, C, H, W, KH, KW, SH, SW, PH, PW), in, out);
}

void mest_rt_avg_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, int64_t KH,
                                 int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW,
                                 const float *dout, float *din) {
  avgPool2dBackward(window(N, C, H, W, KH, KW, SH, SW, PH, PW), dout, din);
}


void mest_rt_regroup(uint8_t *base, int32_t policy, int32_t scheme, int64_t O, int64_t I,
                     int64_t KH, int64_t KW, double capacity, int64_t blockRows,
                     int64_t numPatterns, int32_t hasBias, int32_t threads) {
  WeightSpec spec;
  spec.shape = {O, I, KH, KW};
  spec.scheme = static_cast<Scheme>(scheme);
  spec.target = spec.capacity = capacity;
  spec.blockRows = static_cast<int32_t>(blockRows);
  spec.patterns.count = static_cast<int32_t>(numPatterns);
  spec.bias = hasBias != 0;
  CompressedWeights w(spec, base);
  regroup(w, static_cast<RegroupPolicy>(policy), threads);
}

/// The number of chunks padded backward-weight kernels split their filters
/// into: one per OpenMP thread, as the regrouping assumed.
int64_t mest_rt_parallel_chunks(void) { return omp_get_max_threads(); }

} // extern "C"
