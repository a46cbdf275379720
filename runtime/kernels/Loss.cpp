//===- Loss.cpp - reference softmax cross-entropy -------------------------===//
#include "runtime/kernels/Reference.h"

#include <cmath>

namespace mest::rt {

double softmaxCrossEntropyForward(int64_t N, int64_t K, const float *logits,
                                  const int32_t *labels, float *loss, uint8_t *correct,
                                  float *margin) {
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const float *z = logits + n * K;
    int64_t arg = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[k] > z[arg]) arg = k;
    double sum = 0.0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k]) - z[arg]);
    const int32_t y = labels[n];
    const double l = std::log(sum) + z[arg] - z[y];
    total += l;
    if (loss) loss[n] = static_cast<float>(l);
    if (correct) correct[n] = arg == y;
    if (margin) {
      float other = -INFINITY;
      for (int64_t k = 0; k < K; ++k)
        if (k != y && z[k] > other) other = z[k];
      margin[n] = z[y] - other;
    }
  }
  return N ? total / N : 0.0;
}

void softmaxCrossEntropyBackward(int64_t N, int64_t K, const float *logits,
                                 const int32_t *labels, float *dlogits) {
  for (int64_t n = 0; n < N; ++n) {
    const float *z = logits + n * K;
    float zmax = z[0];
    for (int64_t k = 1; k < K; ++k) zmax = std::fmax(zmax, z[k]);
    double sum = 0.0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k]) - zmax);
    for (int64_t k = 0; k < K; ++k) {
      double p = std::exp(double(z[k]) - zmax) / sum;
      dlogits[n * K + k] = static_cast<float>((p - (k == labels[n] ? 1.0 : 0.0)) / N);
    }
  }
}

} // namespace mest::rt
