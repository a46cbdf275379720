//===- Pool.cpp - reference max, average and global-average pooling -------===//
#include "runtime/kernels/Reference.h"

#include <algorithm>
#include <limits>

namespace mest::rt {

namespace {
/// Calls fn(planeIndex, outIndex, window) for every output element; the window
/// is the clipped input range [y0, y1) x [x0, x1).
template <typename Fn> void forEachWindow(const ConvGeom &g, Fn &&fn) {
  const int64_t OH = g.OH(), OW = g.OW();
  for (int64_t p = 0; p < g.N * g.C; ++p)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t y0 = oy * g.SH - g.PH, x0 = ox * g.SW - g.PW;
        int64_t y1 = std::min(y0 + g.KH, g.H), x1 = std::min(x0 + g.KW, g.W);
        fn(p, (p * OH + oy) * OW + ox, std::max<int64_t>(y0, 0), y1, std::max<int64_t>(x0, 0),
           x1);
      }
}
} // namespace

void maxPool2dForward(const ConvGeom &g, const float *in, float *out, int32_t *argmax) {
  forEachWindow(g, [&](int64_t p, int64_t o, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    float best = -std::numeric_limits<float>::infinity();
    int64_t where = -1;
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x)
        if (in[(p * g.H + y) * g.W + x] > best || where < 0)
          best = in[(p * g.H + y) * g.W + x], where = y * g.W + x;
    out[o] = best;
    if (argmax) argmax[o] = static_cast<int32_t>(where);
  });
}

void maxPool2dBackward(const ConvGeom &g, const float *dout, const int32_t *argmax, float *din) {
  std::fill_n(din, g.inSize(), 0.0f);
  forEachWindow(g, [&](int64_t p, int64_t o, int64_t, int64_t, int64_t, int64_t) {
    din[p * g.H * g.W + argmax[o]] += dout[o];
  });
}

void avgPool2dForward(const ConvGeom &g, const float *in, float *out) {
  forEachWindow(g, [&](int64_t p, int64_t o, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    double sum = 0.0;
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) sum += in[(p * g.H + y) * g.W + x];
    out[o] = static_cast<float>(sum / double((y1 - y0) * (x1 - x0)));
  });
}

void avgPool2dBackward(const ConvGeom &g, const float *dout, float *din) {
  std::fill_n(din, g.inSize(), 0.0f);
  forEachWindow(g, [&](int64_t p, int64_t o, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
    float share = dout[o] / float((y1 - y0) * (x1 - x0));
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) din[(p * g.H + y) * g.W + x] += share;
  });
}

void globalAvgPoolForward(int64_t N, int64_t C, int64_t HW, const float *in, float *out) {
  for (int64_t p = 0; p < N * C; ++p) {
    double sum = 0.0;
    for (int64_t i = 0; i < HW; ++i) sum += in[p * HW + i];
    out[p] = static_cast<float>(sum / HW);
  }
}

void globalAvgPoolBackward(int64_t N, int64_t C, int64_t HW, const float *dout, float *din) {
  for (int64_t p = 0; p < N * C; ++p)
    std::fill_n(din + p * HW, HW, dout[p] / float(HW));
}

} // namespace mest::rt
