//===- StepKernels.cpp - runtime entry points called by generated code ----===//
//
// The C functions mest-lower-kernels calls for layers it does not generate yet
// (batch norm, pooling, the loss) and for regrouping after mutation. Thin
// wrappers over the reference kernels: plain pointers and sizes, no state;
// batch norm runs the fast per-channel kernels (Fast.h) in parallel over channels.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Fast.h"
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

void mest_rt_batch_norm_eval(int64_t N, int64_t C, int64_t HW, const float *in, float *params,
                             float *runMean, float *runVar, double eps, float *out) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    batchNormForwardEvalChannel(c, N, C, HW, in, params, params + C, eps, runMean, runVar, out);
}

/// Training-mode batch norm with its fused epilogue, out = relu?(bn(in) +
/// residual?), and optionally the input statistics from the conv before it.
void mest_rt_batch_norm_train_fused(int64_t N, int64_t C, int64_t HW, const float *in,
                                    float *params, float *runMean, float *runVar, double eps,
                                    double momentum, const float *residual, int32_t hasResidual,
                                    int32_t relu, const float *stats, int32_t hasStats,
                                    float *out, float *mean, float *invStd) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    fast::batchNormForwardTrainChannel(c, N, C, HW, in, params, params + C, eps, momentum,
                                       runMean, runVar, out, mean, invStd,
                                       hasResidual ? residual : nullptr, relu != 0,
                                       hasStats ? stats : nullptr);
}

/// Batch norm backward of a gradient that first goes back through a ReLU
/// whose output was `reluOut`.
void mest_rt_batch_norm_relu_backward(int64_t N, int64_t C, int64_t HW, const float *in,
                                      const float *reluOut, const float *dout, float *params,
                                      const float *mean, const float *invStd, float *din,
                                      float *dparams) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    fast::batchNormBackwardChannel(c, N, C, HW, in, dout, params, mean, invStd, din, dparams,
                                   dparams + C, reluOut);
}

/// Training-mode batch norm whose output is not materialised: the batch
/// statistics, the running averages, and per channel (scale, shift) for the
/// consumers that apply relu(in * scale + shift) as they read `in`.
void mest_rt_batch_norm_train_affine(int64_t N, int64_t C, int64_t HW, const float *in,
                                     float *params, float *runMean, float *runVar, double eps,
                                     double momentum, const float *stats, int32_t hasStats,
                                     float *mean, float *invStd, float *affine) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    fast::batchNormForwardTrainChannel(c, N, C, HW, in, params, params + C, eps, momentum,
                                       runMean, runVar, /*out=*/nullptr, mean, invStd,
                                       /*residual=*/nullptr, /*relu=*/false,
                                       hasStats ? stats : nullptr, affine);
}

/// Batch norm backward through the ReLU of relu(in * scale + shift), whose
/// output was not stored (the mask recomputed from `in` and `affine`).
void mest_rt_batch_norm_relu_affine_backward(int64_t N, int64_t C, int64_t HW, const float *in,
                                             const float *affine, const float *dout,
                                             float *params, const float *mean,
                                             const float *invStd, float *din, float *dparams) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    fast::batchNormBackwardChannel(c, N, C, HW, in, dout, params, mean, invStd, din, dparams,
                                   dparams + C, nullptr, affine);
}

void mest_rt_batch_norm_backward(int64_t N, int64_t C, int64_t HW, const float *in,
                                 const float *dout, float *params, const float *mean,
                                 const float *invStd, float *din, float *dparams) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    fast::batchNormBackwardChannel(c, N, C, HW, in, dout, params, mean, invStd, din, dparams,
                                   dparams + C);
}

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

void mest_rt_global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const float *in,
                                     float *out) {
  globalAvgPoolForward(N, C, HW, in, out);
}

void mest_rt_global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const float *dout,
                                      float *din) {
  globalAvgPoolBackward(N, C, HW, dout, din);
}

void mest_rt_softmax_xent_forward(int64_t N, int64_t K, const float *logits,
                                  const int32_t *labels, float *loss, uint8_t *correct,
                                  float *margin) {
  softmaxCrossEntropyForward(N, K, logits, labels, loss, correct, margin);
}

void mest_rt_softmax_xent_backward(int64_t N, int64_t K, const float *logits,
                                   const int32_t *labels, float *dlogits) {
  softmaxCrossEntropyBackward(N, K, logits, labels, dlogits);
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
