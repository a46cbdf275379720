//===- Elementwise.cpp - reference ReLU, add and SGD ----------------------===//
#include "runtime/kernels/Reference.h"

namespace mest::rt {

void reluForward(int64_t n, const float *in, float *out) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void reluBackward(int64_t n, const float *out, const float *dout, float *din) {
  for (int64_t i = 0; i < n; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void addForward(int64_t n, const float *a, const float *b, float *out) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void sgdUpdate(int64_t n, float *w, const float *g, float *m, float lr, float mu, float wd) {
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i] + wd * w[i];
    m[i] = mu * m[i] + d;
    w[i] -= lr * m[i];
  }
}

} // namespace mest::rt
