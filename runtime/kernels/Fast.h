//===- Fast.h - tuned runtime kernels the generated code calls ------------===//
//
// Faster versions of reference kernels for layers the compiler does not
// generate yet. Same signatures and semantics as Reference.h (one channel at a
// time for batch norm), float arithmetic with double only where sums need it;
// tested against the reference (test/unit/FastKernelTest.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_KERNELS_FAST_H
#define MEST_RUNTIME_KERNELS_FAST_H

#include <cstdint>

namespace mest::rt::fast {

/// With the epilogue the generated code fuses after batch norm: out =
/// relu?(bn(in) + residual) (`residual` may be null, `relu` false). `stats`,
/// when given, holds per (image, channel) the sum and the sum of squares of
/// the input plane ([N, C, 2], from the producing conv's epilogue), so the
/// statistics pass over the input is skipped.
void batchNormForwardTrainChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                  const float *gamma, const float *beta, double eps,
                                  double momentum, float *runMean, float *runVar, float *out,
                                  float *saveMean, float *saveInvStd,
                                  const float *residual = nullptr, bool relu = false,
                                  const float *stats = nullptr, float *affine = nullptr);
/// `out` may be null (the output is not materialised: its consumers apply
/// relu(in * scale + shift) themselves); `affine`, when given, receives
/// (scale, shift) of channel c at [2c, 2c + 1].
/// With the fused ReLU backward as prologue: when `reluOut` is given, the
/// gradient used is dout where reluOut > 0, else 0; when `reluAffine` is given
/// instead, where in * scale + shift > 0 (the sign of the exact value, which
/// is the sign of the generated code's fma), from the forward's (scale, shift).
void batchNormBackwardChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                              const float *dout, const float *gamma, const float *saveMean,
                              const float *saveInvStd, float *din, float *dgamma, float *dbeta,
                              const float *reluOut = nullptr,
                              const float *reluAffine = nullptr);

} // namespace mest::rt::fast

#endif // MEST_RUNTIME_KERNELS_FAST_H
