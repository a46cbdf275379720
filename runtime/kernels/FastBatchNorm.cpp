//===- FastBatchNorm.cpp - batch norm in two vectorisable passes ----------===//
//
// Forward: one pass for the sum and the sum of squares (float within a plane,
// double across planes), one pass y = x * scale + shift. Backward: one pass for
// sum(dy) and sum(dy * x), one pass dx = k1 * dy + k2 * x + k3, which is the
// reference formula with xhat = (x - mean) * inv_std expanded. The generated
// code fuses the residual add and ReLU into the forward's second pass, and the
// ReLU's backward into both backward passes (saving a pass over memory each).
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Fast.h"

#include <algorithm>
#include <cmath>

namespace mest::rt::fast {

void batchNormForwardTrainChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                  const float *gamma, const float *beta, double eps,
                                  double momentum, float *runMean, float *runVar, float *out,
                                  float *saveMean, float *saveInvStd, const float *residual,
                                  bool relu, const float *stats, float *affine) {
  double sum = 0.0, sq = 0.0;
  for (int64_t n = 0; stats && n < N; ++n)
    sum += stats[(n * C + c) * 2], sq += stats[(n * C + c) * 2 + 1];
  for (int64_t n = 0; !stats && n < N; ++n) {
    const float *x = in + (n * C + c) * HW;
    float s = 0.0f, q = 0.0f;
#pragma omp simd reduction(+ : s, q)
    for (int64_t i = 0; i < HW; ++i) s += x[i], q += x[i] * x[i];
    sum += s, sq += q;
  }
  const double count = double(N * HW), mean = sum / count;
  const double var = std::max(0.0, sq / count - mean * mean);
  const double invStd = 1.0 / std::sqrt(var + eps);
  const float scale = float(gamma[c] * invStd), shift = float(beta[c] - mean * gamma[c] * invStd);
  if (affine) affine[2 * c] = scale, affine[2 * c + 1] = shift;
  for (int64_t n = 0; out && n < N; ++n) {
    const float *x = in + (n * C + c) * HW;
    float *y = out + (n * C + c) * HW;
    const float *r = residual ? residual + (n * C + c) * HW : nullptr;
    if (r && relu) {
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) y[i] = std::max(x[i] * scale + shift + r[i], 0.0f);
    } else if (r) {
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) y[i] = x[i] * scale + shift + r[i];
    } else if (relu) {
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) y[i] = std::max(x[i] * scale + shift, 0.0f);
    } else {
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) y[i] = x[i] * scale + shift;
    }
  }
  saveMean[c] = float(mean);
  saveInvStd[c] = float(invStd);
  const double unbiased = count > 1 ? var * count / (count - 1) : var;
  runMean[c] = float((1.0 - momentum) * runMean[c] + momentum * mean);
  runVar[c] = float((1.0 - momentum) * runVar[c] + momentum * unbiased);
}

namespace {
/// The backward of channel c with the gradient taken where keep(x, plane
/// offset, i) (the ReLU prologue's mask; always true without one).
template <class Keep>
void backwardChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                     const float *dout, const float *gamma, const float *saveMean,
                     const float *saveInvStd, float *din, float *dgamma, float *dbeta, Keep keep) {
  double sumDy = 0.0, sumDyX = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t at = (n * C + c) * HW;
    const float *x = in + at, *dy = dout + at;
    float s = 0.0f, p = 0.0f;
#pragma omp simd reduction(+ : s, p)
    for (int64_t i = 0; i < HW; ++i) {
      const float g = keep(at, i) ? dy[i] : 0.0f;
      s += g, p += g * x[i];
    }
    sumDy += s, sumDyX += p;
  }
  const double M = double(N * HW), mean = saveMean[c], is = saveInvStd[c], g = gamma[c];
  const double sumDyXhat = is * (sumDyX - mean * sumDy);
  dgamma[c] = float(sumDyXhat);
  dbeta[c] = float(sumDy);
  const float k1 = float(g * is), k2 = float(-g * is * is * sumDyXhat / M),
              k3 = float(-g * is * sumDy / M + g * is * is * sumDyXhat / M * mean);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t at = (n * C + c) * HW;
    const float *x = in + at, *dy = dout + at;
    float *dx = din + at;
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) dx[i] = k1 * (keep(at, i) ? dy[i] : 0.0f) + k2 * x[i] + k3;
  }
}
} // namespace

void batchNormBackwardChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                              const float *dout, const float *gamma, const float *saveMean,
                              const float *saveInvStd, float *din, float *dgamma, float *dbeta,
                              const float *reluOut, const float *reluAffine) {
  if (reluOut)
    return backwardChannel(c, N, C, HW, in, dout, gamma, saveMean, saveInvStd, din, dgamma, dbeta,
                           [&](int64_t at, int64_t i) { return reluOut[at + i] > 0.0f; });
  if (reluAffine) {
    // relu(x * scale + shift) was not stored: its sign, exactly (the product of
    // two floats is exact in double, and rounding keeps the sign of a sum).
    const double scale = reluAffine[2 * c], shift = reluAffine[2 * c + 1];
    return backwardChannel(c, N, C, HW, in, dout, gamma, saveMean, saveInvStd, din, dgamma, dbeta,
                           [&](int64_t at, int64_t i) {
                             return double(in[at + i]) * scale + shift > 0.0;
                           });
  }
  backwardChannel(c, N, C, HW, in, dout, gamma, saveMean, saveInvStd, din, dgamma, dbeta,
                  [](int64_t, int64_t) { return true; });
}

} // namespace mest::rt::fast
