//===- Conv.cpp - reference convolution, dense and compressed -------------===//
#include "runtime/kernels/Reference.h"

#include <algorithm>

namespace mest::rt {

namespace {

/// Calls fn(n, oy, ox, iy, ix) for every output position whose tap (r, s) lands
/// inside the input.
template <typename Fn> void forEachTap(const ConvGeom &g, int64_t r, int64_t s, Fn &&fn) {
  const int64_t OH = g.OH(), OW = g.OW();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t oy = 0; oy < OH; ++oy) {
      int64_t iy = oy * g.SH - g.PH + r;
      if (iy < 0 || iy >= g.H) continue;
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t ix = ox * g.SW - g.PW + s;
        if (ix < 0 || ix >= g.W) continue;
        fn(n, oy, ox, iy, ix);
      }
    }
}

void initOutput(const ConvGeom &g, const float *bias, float *out) {
  const int64_t plane = g.OH() * g.OW();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      std::fill_n(out + (n * g.O + o) * plane, plane, bias ? bias[o] : 0.0f);
}

void biasGrad(const ConvGeom &g, const float *dout, float *dbias) {
  if (!dbias) return;
  const int64_t plane = g.OH() * g.OW();
  for (int64_t o = 0; o < g.O; ++o) {
    double sum = 0.0;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t i = 0; i < plane; ++i) sum += dout[(n * g.O + o) * plane + i];
    dbias[o] = static_cast<float>(sum);
  }
}

} // namespace

void conv2dForwardDense(const ConvGeom &g, const float *in, const float *w, const float *bias,
                        float *out) {
  const int64_t OH = g.OH(), OW = g.OW();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bias ? bias[o] : 0.0;
          for (int64_t c = 0; c < g.FC(); ++c)
            for (int64_t r = 0; r < g.KH; ++r)
              for (int64_t s = 0; s < g.KW; ++s) {
                int64_t iy = oy * g.SH - g.PH + r, ix = ox * g.SW - g.PW + s;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                acc += double(in[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix]) *
                       w[((o * g.FC() + c) * g.KH + r) * g.KW + s];
              }
          out[((n * g.O + o) * OH + oy) * OW + ox] = static_cast<float>(acc);
        }
}

void conv2dBackwardDataDense(const ConvGeom &g, const float *dout, const float *w, float *din) {
  const int64_t OH = g.OH(), OW = g.OW();
  std::fill_n(din, g.inSize(), 0.0f);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          float d = dout[((n * g.O + o) * OH + oy) * OW + ox];
          for (int64_t c = 0; c < g.FC(); ++c)
            for (int64_t r = 0; r < g.KH; ++r)
              for (int64_t s = 0; s < g.KW; ++s) {
                int64_t iy = oy * g.SH - g.PH + r, ix = ox * g.SW - g.PW + s;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                din[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix] +=
                    d * w[((o * g.FC() + c) * g.KH + r) * g.KW + s];
              }
        }
}

void conv2dBackwardWeightDense(const ConvGeom &g, const float *in, const float *dout, float *dw,
                               float *dbias) {
  const int64_t OH = g.OH(), OW = g.OW();
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.FC(); ++c)
      for (int64_t r = 0; r < g.KH; ++r)
        for (int64_t s = 0; s < g.KW; ++s) {
          double acc = 0.0;
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t oy = 0; oy < OH; ++oy)
              for (int64_t ox = 0; ox < OW; ++ox) {
                int64_t iy = oy * g.SH - g.PH + r, ix = ox * g.SW - g.PW + s;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                acc += double(in[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix]) *
                       dout[((n * g.O + o) * OH + oy) * OW + ox];
              }
          dw[((o * g.FC() + c) * g.KH + r) * g.KW + s] = static_cast<float>(acc);
        }
  biasGrad(g, dout, dbias);
}

// The compressed kernels visit active weights only, in storage order, and scatter
// or gather per weight: the shape of the work, not its speed, is the point.

void conv2dForward(const ConvGeom &g, const float *in, const CompressedWeights &w,
                   const float *bias, float *out) {
  const int64_t OH = g.OH(), OW = g.OW();
  initOutput(g, bias, out);
  w.forEachActiveWeight([&](int64_t o, int64_t c, int64_t r, int64_t s, int64_t v) {
    const float wv = w.values[v];
    forEachTap(g, r, s, [&](int64_t n, int64_t oy, int64_t ox, int64_t iy, int64_t ix) {
      out[((n * g.O + o) * OH + oy) * OW + ox] +=
          wv * in[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix];
    });
  });
}

void conv2dBackwardData(const ConvGeom &g, const float *dout, const CompressedWeights &w,
                        float *din) {
  const int64_t OH = g.OH(), OW = g.OW();
  std::fill_n(din, g.inSize(), 0.0f);
  w.forEachActiveWeight([&](int64_t o, int64_t c, int64_t r, int64_t s, int64_t v) {
    const float wv = w.values[v];
    forEachTap(g, r, s, [&](int64_t n, int64_t oy, int64_t ox, int64_t iy, int64_t ix) {
      din[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix] +=
          wv * dout[((n * g.O + o) * OH + oy) * OW + ox];
    });
  });
}

void conv2dBackwardWeight(const ConvGeom &g, const float *in, const float *dout,
                          CompressedWeights &w, float *dbias) {
  const int64_t OH = g.OH(), OW = g.OW();
  w.forEachActiveWeight([&](int64_t o, int64_t c, int64_t r, int64_t s, int64_t v) {
    double acc = 0.0;
    forEachTap(g, r, s, [&](int64_t n, int64_t oy, int64_t ox, int64_t iy, int64_t ix) {
      acc += double(in[((n * g.C + g.inChannel(o, c)) * g.H + iy) * g.W + ix]) *
             dout[((n * g.O + o) * OH + oy) * OW + ox];
    });
    w.grads[v] = static_cast<float>(acc);
  });
  biasGrad(g, dout, dbias);
}

} // namespace mest::rt
