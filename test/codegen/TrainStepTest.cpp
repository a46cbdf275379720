// The compiled training step of small-model.mlir against the reference kernels
// composed by hand: per-example loss, correctness and margin, and every
// parameter, gradient, momentum and running statistic after 1 and 10 steps.
#include "model.h"

#include "runtime/driver/Model.h"
#include "runtime/formats/CompressedWeights.h"
#include "runtime/kernels/Reference.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Memory.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace mest::rt;

namespace {

const mest_layer_desc &layer(const char *name) {
  const mest_model_desc *d = mest_model_descriptor();
  for (int i = 0; i < d->num_layers; ++i)
    if (std::string(d->layers[i].name) == name) return d->layers[i];
  FAIL("no layer " << name);
  return d->layers[0];
}


/// Views of one copy of the model's state.
struct Params {
  uint8_t *state;
  std::map<std::string, std::unique_ptr<CompressedWeights>> conv;
  explicit Params(uint8_t *s) : state(s) {
    for (const char *n : {"conv1", "conv2", "conv2b", "conv3", "fc"})
      conv[n] = std::make_unique<CompressedWeights>(weightSpecOf(layer(n)), s + layer(n).state_offset);
  }
  CompressedWeights &w(const char *n) { return *conv.at(n); }
  float *bn(const char *n, int64_t off) {
    return reinterpret_cast<float *>(state + layer(n).state_offset + off);
  }
  float *bnParams(const char *n) { return bn(n, 0); }
  float *bnGrads(const char *n) { return bn(n, batchNormStateLayout(layer(n).out_channels).grads); }
  float *bnMomentum(const char *n) {
    return bn(n, batchNormStateLayout(layer(n).out_channels).momentum);
  }
  float *runMean(const char *n) { return bn(n, batchNormStateLayout(layer(n).out_channels).runMean); }
  float *runVar(const char *n) { return bn(n, batchNormStateLayout(layer(n).out_channels).runVar); }
};

ConvGeom conv(int64_t C, int64_t H, int64_t O, int64_t S) {
  ConvGeom g;
  g.N = 4, g.C = C, g.H = g.W = H, g.O = O, g.KH = g.KW = 3, g.SH = g.SW = S, g.PH = g.PW = 1;
  return g;
}
ConvGeom pool(int64_t C, int64_t H) {
  ConvGeom g;
  g.N = 4, g.C = g.O = C, g.H = g.W = H, g.KH = g.KW = 2, g.SH = g.SW = 2;
  return g;
}
using Vec = std::vector<float>;

/// One training step composed from the reference kernels; returns the losses.
void referenceStep(Params &p, const Vec &x, const std::vector<int32_t> &y, float lr, float mu,
                   float wd, Vec &loss, std::vector<uint8_t> &correct, Vec &margin) {
  const ConvGeom g1 = conv(3, 8, 8, 1), g2 = conv(8, 8, 8, 1), gp = pool(8, 8),
                 g3 = conv(8, 4, 12, 2), gq = pool(12, 2), gf = ConvGeom::linear(4, 12, 10);
  auto bnTrain = [&](const char *n, int64_t C, int64_t HW, const Vec &in, Vec &out, Vec &mean,
                     Vec &inv) {
    out.resize(in.size()), mean.resize(C), inv.resize(C);
    batchNormForwardTrain(4, C, HW, in.data(), p.bnParams(n), p.bnParams(n) + C, 1e-5, 0.1,
                          p.runMean(n), p.runVar(n), out.data(), mean.data(), inv.data());
  };
  auto bnBack = [&](const char *n, int64_t C, int64_t HW, const Vec &in, const Vec &dout,
                    const Vec &mean, const Vec &inv, Vec &din) {
    din.resize(in.size());
    batchNormBackward(4, C, HW, in.data(), dout.data(), p.bnParams(n), mean.data(), inv.data(),
                      din.data(), p.bnGrads(n), p.bnGrads(n) + C);
    sgdUpdate(2 * C, p.bnParams(n), p.bnGrads(n), p.bnMomentum(n), lr, mu, wd);
  };
  auto relu = [](const Vec &in) {
    Vec out(in.size());
    reluForward(in.size(), in.data(), out.data());
    return out;
  };
  auto reluBack = [](const Vec &out, const Vec &dout) {
    Vec din(out.size());
    reluBackward(out.size(), out.data(), dout.data(), din.data());
    return din;
  };
  auto weightStep = [&](const char *n, const ConvGeom &g, const Vec &in, const Vec &dout) {
    CompressedWeights &w = p.w(n);
    conv2dBackwardWeight(g, in.data(), dout.data(), w, w.biasGrad);
    sgdUpdate(w.activeWeights(), w.values, w.grads, w.momentum, lr, mu, wd);
    if (w.bias) sgdUpdate(g.O, w.bias, w.biasGrad, w.biasMomentum, lr, mu, wd);
  };
  // Forward.
  Vec a0(g1.outSize()), b1, m1, i1;
  conv2dForward(g1, x.data(), p.w("conv1"), nullptr, a0.data());
  bnTrain("bn1", 8, 64, a0, b1, m1, i1);
  Vec r1 = relu(b1);
  Vec a2(g2.outSize()), b2, m2, i2;
  conv2dForward(g2, r1.data(), p.w("conv2"), nullptr, a2.data());
  bnTrain("bn2", 8, 64, a2, b2, m2, i2);
  Vec r2a = relu(b2);
  Vec a2b(g2.outSize()), b2b, m2b, i2b;
  conv2dForward(g2, r2a.data(), p.w("conv2b"), nullptr, a2b.data());
  bnTrain("bn2b", 8, 64, a2b, b2b, m2b, i2b);
  Vec s2(b2b.size());
  addForward(s2.size(), b2b.data(), r1.data(), s2.data());
  Vec r2 = relu(s2);
  Vec pm(gp.outSize());
  std::vector<int32_t> arg(gp.outSize());
  maxPool2dForward(gp, r2.data(), pm.data(), arg.data());
  Vec a3(g3.outSize()), b3, m3, i3;
  conv2dForward(g3, pm.data(), p.w("conv3"), nullptr, a3.data());
  bnTrain("bn3", 12, 4, a3, b3, m3, i3);
  Vec r3 = relu(b3);
  Vec f(gq.outSize());
  avgPool2dForward(gq, r3.data(), f.data());
  Vec z(gf.outSize());
  conv2dForward(gf, f.data(), p.w("fc"), p.w("fc").bias, z.data());
  softmaxCrossEntropyForward(4, 10, z.data(), y.data(), loss.data(), correct.data(),
                             margin.data());
  // Backward, each layer's input gradient before its update.
  Vec dz(z.size());
  softmaxCrossEntropyBackward(4, 10, z.data(), y.data(), dz.data());
  Vec df(f.size());
  conv2dBackwardData(gf, dz.data(), p.w("fc"), df.data());
  weightStep("fc", gf, f, dz);
  Vec dr3(r3.size());
  avgPool2dBackward(gq, df.data(), dr3.data());
  Vec da3;
  bnBack("bn3", 12, 4, a3, reluBack(r3, dr3), m3, i3, da3);
  Vec dpm(pm.size());
  conv2dBackwardData(g3, da3.data(), p.w("conv3"), dpm.data());
  weightStep("conv3", g3, pm, da3);
  Vec dr2(r2.size());
  maxPool2dBackward(gp, dpm.data(), arg.data(), dr2.data());
  Vec ds2 = reluBack(r2, dr2), da2b, da2;
  bnBack("bn2b", 8, 64, a2b, ds2, m2b, i2b, da2b);
  Vec dr2a(r2a.size());
  conv2dBackwardData(g2, da2b.data(), p.w("conv2b"), dr2a.data());
  weightStep("conv2b", g2, r2a, da2b);
  bnBack("bn2", 8, 64, a2, reluBack(r2a, dr2a), m2, i2, da2);
  Vec dr1(r1.size());
  conv2dBackwardData(g2, da2.data(), p.w("conv2"), dr1.data());
  weightStep("conv2", g2, r1, da2);
  for (size_t i = 0; i < dr1.size(); ++i) dr1[i] += ds2[i];
  Vec da0;
  bnBack("bn1", 8, 64, a0, reluBack(r1, dr1), m1, i1, da0);
  weightStep("conv1", g1, x, da0);
}

/// Evaluation forward (running statistics) composed from the reference kernels.
Vec referenceEval(Params &p, const Vec &x, const std::vector<int32_t> &y) {
  const ConvGeom g1 = conv(3, 8, 8, 1), g2 = conv(8, 8, 8, 1), gp = pool(8, 8),
                 g3 = conv(8, 4, 12, 2), gq = pool(12, 2), gf = ConvGeom::linear(4, 12, 10);
  auto bn = [&](const char *n, int64_t C, int64_t HW, Vec &v) {
    batchNormForwardEval(4, C, HW, v.data(), p.bnParams(n), p.bnParams(n) + C, 1e-5,
                         p.runMean(n), p.runVar(n), v.data());
  };
  auto relu = [](Vec &v) { reluForward(v.size(), v.data(), v.data()); };
  Vec a0(g1.outSize()), a2(g2.outSize()), a2b(g2.outSize()), pm(gp.outSize()),
      a3(g3.outSize()), f(gq.outSize()), z(gf.outSize());
  conv2dForward(g1, x.data(), p.w("conv1"), nullptr, a0.data());
  bn("bn1", 8, 64, a0), relu(a0);
  conv2dForward(g2, a0.data(), p.w("conv2"), nullptr, a2.data());
  bn("bn2", 8, 64, a2), relu(a2);
  conv2dForward(g2, a2.data(), p.w("conv2b"), nullptr, a2b.data());
  bn("bn2b", 8, 64, a2b);
  addForward(a2b.size(), a2b.data(), a0.data(), a2b.data());
  relu(a2b);
  maxPool2dForward(gp, a2b.data(), pm.data(), nullptr);
  conv2dForward(g3, pm.data(), p.w("conv3"), nullptr, a3.data());
  bn("bn3", 12, 4, a3), relu(a3);
  avgPool2dForward(gq, a3.data(), f.data());
  conv2dForward(gf, f.data(), p.w("fc"), p.w("fc").bias, z.data());
  Vec loss(4);
  softmaxCrossEntropyForward(4, 10, z.data(), y.data(), loss.data(), nullptr, nullptr);
  return loss;
}

/// Largest relative difference between the float arrays of two state copies.
double stateDifference(Params &a, Params &b) {
  double worst = 0.0;
  auto cmp = [&](const float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      worst = std::max(worst, std::fabs(double(x[i]) - y[i]) / std::max(1.0, std::fabs(double(y[i]))));
  };
  for (const char *n : {"conv1", "conv2", "conv2b", "conv3", "fc"}) {
    CompressedWeights &u = a.w(n), &v = b.w(n);
    REQUIRE(u.numActive() == v.numActive());
    cmp(u.values, v.values, u.capacityWeights());
    cmp(u.grads, v.grads, u.activeWeights());
    cmp(u.momentum, v.momentum, u.capacityWeights());
    if (u.bias) cmp(u.bias, v.bias, u.spec.shape.O);
  }
  for (const char *n : {"bn1", "bn2", "bn2b", "bn3"}) {
    int64_t C = layer(n).out_channels;
    cmp(a.bnParams(n), b.bnParams(n), 2 * C);
    cmp(a.bnGrads(n), b.bnGrads(n), 2 * C);
    cmp(a.bnMomentum(n), b.bnMomentum(n), 2 * C);
    cmp(a.runMean(n), b.runMean(n), C);
    cmp(a.runVar(n), b.runVar(n), C);
  }
  return worst;
}

} // namespace

TEST_CASE("compiled train step equals the reference composed by hand", "[codegen][step]") {
  const mest_model_desc *d = mest_model_descriptor();
  REQUIRE(d->batch == 4);
  auto block = [&](int64_t bytes) {
    return static_cast<uint8_t *>(allocate(bytes, MemCategory::State));
  };
  uint8_t *compiledState = block(d->state_bytes), *refState = block(d->state_bytes);
  uint8_t *arena = block(d->arena_bytes);
  Params compiled(compiledState);
  Rng rng(7);
  for (auto &[name, w] : compiled.conv) {
    MutationScratch scratch({w.get()});
    initialize(*w, kaimingStd(w->spec.shape), rng, scratch);
    if (w->bias)
      for (int64_t o = 0; o < w->spec.shape.O; ++o) w->bias[o] = 0.1f * float(rng.normal());
  }
  for (const char *n : {"bn1", "bn2", "bn2b", "bn3"}) {
    int64_t C = layer(n).out_channels;
    for (int64_t c = 0; c < C; ++c) {
      compiled.bnParams(n)[c] = 1.0f + 0.1f * float(rng.normal());
      compiled.bnParams(n)[C + c] = 0.1f * float(rng.normal());
      compiled.runVar(n)[c] = 1.0f;
    }
  }
  mest_model_after_mutation(compiledState, 2);
  std::memcpy(refState, compiledState, d->state_bytes);
  Params reference(refState);

  const float lr = 0.1f, mu = 0.9f, wd = 5e-4f;
  for (int step = 1; step <= 10; ++step) {
    INFO("step " << step);
    Vec x(4 * 3 * 8 * 8);
    for (float &v : x) v = float(rng.normal());
    std::vector<int32_t> y(4);
    for (int32_t &v : y) v = int32_t(rng.below(10));
    Vec loss(4), margin(4), refLoss(4), refMargin(4);
    std::vector<uint8_t> correct(4), refCorrect(4);
    mest_model_train_step(compiledState, arena, x.data(), y.data(), lr, mu, wd, loss.data(),
                          correct.data(), margin.data());
    referenceStep(reference, x, y, lr, mu, wd, refLoss, refCorrect, refMargin);
    for (int n = 0; n < 4; ++n) {
      CHECK(loss[n] == Approx(refLoss[n]).epsilon(1e-4));
      CHECK(margin[n] == Approx(refMargin[n]).epsilon(1e-4).margin(1e-5));
      CHECK(correct[n] == refCorrect[n]);
    }
    double diff = stateDifference(compiled, reference);
    if (step == 1) CHECK(diff < 1e-4);
    if (step == 10) CHECK(diff < 1e-3);
  }
  // Evaluation mode uses the running statistics: compare with the reference too.
  Vec x(4 * 3 * 8 * 8);
  for (float &v : x) v = float(rng.normal());
  std::vector<int32_t> y = {1, 2, 3, 4};
  Vec loss(4), margin(4);
  std::vector<uint8_t> correct(4);
  mest_model_eval_step(compiledState, arena, x.data(), y.data(), loss.data(), correct.data(),
                       margin.data());
  Vec refLoss = referenceEval(reference, x, y);
  for (int n = 0; n < 4; ++n) CHECK(loss[n] == Approx(refLoss[n]).epsilon(1e-3));
  release(compiledState, d->state_bytes, MemCategory::State);
  release(refState, d->state_bytes, MemCategory::State);
  release(arena, d->arena_bytes, MemCategory::State);
}
