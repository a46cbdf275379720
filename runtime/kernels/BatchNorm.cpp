//===- BatchNorm.cpp - reference batch normalisation ----------------------===//
#include "runtime/kernels/Reference.h"

#include <cmath>

namespace mest::rt {

void batchNormForwardTrain(int64_t N, int64_t C, int64_t HW, const float *in,
                           const float *gamma, const float *beta, double eps, double momentum,
                           float *runMean, float *runVar, float *out, float *saveMean,
                           float *saveInvStd) {
  for (int64_t c = 0; c < C; ++c)
    batchNormForwardTrainChannel(c, N, C, HW, in, gamma, beta, eps, momentum, runMean, runVar,
                                 out, saveMean, saveInvStd);
}

void batchNormForwardTrainChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                  const float *gamma, const float *beta, double eps,
                                  double momentum, float *runMean, float *runVar, float *out,
                                  float *saveMean, float *saveInvStd) {
  const int64_t count = N * HW;
  {
    double sum = 0.0, sq = 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) sum += in[(n * C + c) * HW + i];
    const double mean = sum / count;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        double d = in[(n * C + c) * HW + i] - mean;
        sq += d * d;
      }
    const double var = sq / count;  // biased: used to normalise
    const double invStd = 1.0 / std::sqrt(var + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t k = (n * C + c) * HW + i;
        out[k] = static_cast<float>((in[k] - mean) * invStd * gamma[c] + beta[c]);
      }
    saveMean[c] = static_cast<float>(mean);
    saveInvStd[c] = static_cast<float>(invStd);
    // Running variance uses the unbiased estimate, as PyTorch does.
    const double unbiased = count > 1 ? sq / (count - 1) : var;
    runMean[c] = static_cast<float>((1.0 - momentum) * runMean[c] + momentum * mean);
    runVar[c] = static_cast<float>((1.0 - momentum) * runVar[c] + momentum * unbiased);
  }
}

void batchNormForwardEval(int64_t N, int64_t C, int64_t HW, const float *in, const float *gamma,
                          const float *beta, double eps, const float *runMean,
                          const float *runVar, float *out) {
  for (int64_t c = 0; c < C; ++c)
    batchNormForwardEvalChannel(c, N, C, HW, in, gamma, beta, eps, runMean, runVar, out);
}

void batchNormForwardEvalChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                 const float *gamma, const float *beta, double eps,
                                 const float *runMean, const float *runVar, float *out) {
  {
    const double invStd = 1.0 / std::sqrt(double(runVar[c]) + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t k = (n * C + c) * HW + i;
        out[k] = static_cast<float>((in[k] - runMean[c]) * invStd * gamma[c] + beta[c]);
      }
  }
}

void batchNormBackward(int64_t N, int64_t C, int64_t HW, const float *in, const float *dout,
                       const float *gamma, const float *saveMean, const float *saveInvStd,
                       float *din, float *dgamma, float *dbeta) {
  for (int64_t c = 0; c < C; ++c)
    batchNormBackwardChannel(c, N, C, HW, in, dout, gamma, saveMean, saveInvStd, din, dgamma,
                             dbeta);
}

void batchNormBackwardChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                              const float *dout, const float *gamma, const float *saveMean,
                              const float *saveInvStd, float *din, float *dgamma, float *dbeta) {
  const double count = double(N * HW);
  {
    double sumDy = 0.0, sumDyXhat = 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t k = (n * C + c) * HW + i;
        double xhat = (in[k] - saveMean[c]) * double(saveInvStd[c]);
        sumDy += dout[k];
        sumDyXhat += dout[k] * xhat;
      }
    dgamma[c] = static_cast<float>(sumDyXhat);
    dbeta[c] = static_cast<float>(sumDy);
    const double scale = gamma[c] * double(saveInvStd[c]);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        int64_t k = (n * C + c) * HW + i;
        double xhat = (in[k] - saveMean[c]) * double(saveInvStd[c]);
        din[k] = static_cast<float>(scale * (dout[k] - sumDy / count - xhat * sumDyXhat / count));
      }
  }
}

} // namespace mest::rt
