#include "TrainStepHarness.h"

#include "runtime/driver/Model.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Memory.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mest::rt;

namespace mest::test {

const mest_layer_desc &layer(const char *name) {
  const mest_model_desc *d = mest_model_descriptor();
  for (int i = 0; i < d->num_layers; ++i)
    if (std::string(d->layers[i].name) == name) return d->layers[i];
  FAIL("no layer " << name);
  return d->layers[0];
}

Params::Params(uint8_t *s, const std::vector<const char *> &convs) : state(s) {
  for (const char *n : convs)
    conv[n] = std::make_unique<CompressedWeights>(weightSpecOf(layer(n)), s + layer(n).state_offset);
}
float *Params::bnGrads(const char *n) {
  return bn(n, batchNormStateLayout(layer(n).out_channels).grads);
}
float *Params::bnMomentum(const char *n) {
  return bn(n, batchNormStateLayout(layer(n).out_channels).momentum);
}
float *Params::runMean(const char *n) {
  return bn(n, batchNormStateLayout(layer(n).out_channels).runMean);
}
float *Params::runVar(const char *n) {
  return bn(n, batchNormStateLayout(layer(n).out_channels).runVar);
}

ConvGeom conv(int64_t N, int64_t C, int64_t H, int64_t O, int64_t S, int64_t K, int64_t P) {
  ConvGeom g;
  g.N = N, g.C = C, g.H = g.W = H, g.O = O, g.KH = g.KW = K, g.SH = g.SW = S, g.PH = g.PW = P;
  return g;
}
ConvGeom pool(int64_t N, int64_t C, int64_t H) {
  ConvGeom g;
  g.N = N, g.C = g.O = C, g.H = g.W = H, g.KH = g.KW = 2, g.SH = g.SW = 2;
  return g;
}

Vec Ref::save(Vec v) const {
  for (float &x : v) {
    if (storage == Storage::F16) {
      x = static_cast<float>(static_cast<_Float16>(x));
    } else if (storage == Storage::BF16) {
      uint32_t u;
      std::memcpy(&u, &x, 4);
      u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;  // finite values only
      std::memcpy(&x, &u, 4);
    }
  }
  return v;
}

Vec Ref::conv(const ConvGeom &g, const char *n, const Vec &in) {
  Vec out(g.outSize());
  conv2dForward(g, in.data(), p.w(n), p.w(n).bias, out.data());
  return out;
}
void Ref::bnTrain(const char *n, int64_t C, int64_t HW, const Vec &in, Vec &out, Vec &mean,
                  Vec &inv) {
  out.resize(in.size()), mean.resize(C), inv.resize(C);
  batchNormForwardTrain(N, C, HW, in.data(), p.bnParams(n), p.bnParams(n) + C, 1e-5, 0.1,
                        p.runMean(n), p.runVar(n), out.data(), mean.data(), inv.data());
}
Vec Ref::bnBack(const char *n, int64_t C, int64_t HW, const Vec &in, const Vec &dout,
                const Vec &mean, const Vec &inv) {
  Vec din(in.size());
  batchNormBackward(N, C, HW, in.data(), dout.data(), p.bnParams(n), mean.data(), inv.data(),
                    din.data(), p.bnGrads(n), p.bnGrads(n) + C);
  sgdUpdate(2 * C, p.bnParams(n), p.bnGrads(n), p.bnMomentum(n), lr, mu, wd);
  return din;
}
Vec Ref::bnEval(const char *n, int64_t C, int64_t HW, const Vec &in) {
  Vec out(in.size());
  batchNormForwardEval(N, C, HW, in.data(), p.bnParams(n), p.bnParams(n) + C, 1e-5,
                       p.runMean(n), p.runVar(n), out.data());
  return out;
}
Vec Ref::relu(const Vec &in) {
  Vec out(in.size());
  reluForward(in.size(), in.data(), out.data());
  return out;
}
Vec Ref::reluBack(const Vec &out, const Vec &dout) {
  Vec din(out.size());
  reluBackward(out.size(), out.data(), dout.data(), din.data());
  return din;
}
Vec Ref::add(const Vec &a, const Vec &b) {
  Vec s(a.size());
  addForward(s.size(), a.data(), b.data(), s.data());
  return s;
}
Vec Ref::convBackData(const ConvGeom &g, const char *n, const Vec &dout) {
  Vec din(g.inSize());
  conv2dBackwardData(g, dout.data(), p.w(n), din.data());
  return din;
}
void Ref::weightStep(const char *n, const ConvGeom &g, const Vec &in, const Vec &dout) {
  CompressedWeights &w = p.w(n);
  conv2dBackwardWeight(g, in.data(), dout.data(), w, w.biasGrad);
  sgdUpdate(w.activeWeights(), w.values, w.grads, w.momentum, lr, mu, wd);
  if (w.bias) sgdUpdate(g.O, w.bias, w.biasGrad, w.biasMomentum, lr, mu, wd);
}

namespace {
/// Largest relative difference between the float arrays of two state copies.
double stateDifference(const ModelReference &ref, Params &a, Params &b) {
  double worst = 0.0;
  auto cmp = [&](const float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      double e = std::fabs(double(x[i]) - y[i]) / std::max(1.0, std::fabs(double(y[i])));
      worst = std::max(worst, e);
    }
  };
  for (const char *n : ref.convs) {
    CompressedWeights &u = a.w(n), &v = b.w(n);
    REQUIRE(u.numActive() == v.numActive());
    cmp(u.values, v.values, u.capacityWeights());
    cmp(u.grads, v.grads, u.activeWeights());
    cmp(u.momentum, v.momentum, u.capacityWeights());
    if (u.bias) cmp(u.bias, v.bias, u.spec.shape.O);
  }
  for (const char *n : ref.bns) {
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

/// ||a - b|| / ||b|| over the float arrays of two state copies (2-norm):
/// the size of a perturbation as a whole, where a few elements may move
/// discretely (a ReLU mask or a max pool's choice flipped by rounding).
static double stateNormDifference(const ModelReference &ref, Params &a, Params &b) {
  double diff = 0.0, norm = 0.0;
  auto add = [&](const float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      diff += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      norm += double(y[i]) * y[i];
    }
  };
  for (const char *n : ref.convs) {
    CompressedWeights &u = a.w(n), &v = b.w(n);
    add(u.grads, v.grads, u.activeWeights());
    add(u.values, v.values, u.capacityWeights());
    if (u.bias) add(u.biasGrad, v.biasGrad, u.spec.shape.O);
  }
  for (const char *n : ref.bns) {
    int64_t C = layer(n).out_channels;
    add(a.bnGrads(n), b.bnGrads(n), 2 * C);
    add(a.bnParams(n), b.bnParams(n), 2 * C);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

static double unitRoundoff(Storage storage) {
  return storage == Storage::F16    ? std::ldexp(1.0, -11)
         : storage == Storage::BF16 ? std::ldexp(1.0, -8)
                                    : 0.0;
}

/// Compact storage (--activation-storage f16/bf16): 10 independent first
/// steps from the same initial state, each against the reference that rounds
/// the same saved values and against the exact (f32) one; u is the format's
/// unit roundoff (f16 2^-11, bf16 2^-8). The compiled step and the reference
/// sum in different orders, so now and then a value within f32 noise of a
/// rounding boundary is stored one 16-bit ulp apart (one in ~3000 on aarch64,
/// whose reference kernels fuse multiply-adds), and a training step, with its
/// ReLU masks, max pools and batch statistics, amplifies that ulp to ~1e-4.
/// So, in every trial: within 2 u of the rounded reference (loss and state;
/// measured <= 0.25 u), loss within 4 u of the exact one (measured <= 0.8 u);
/// in at least 7 of 10 trials equal to the rounded reference to 1e-5
/// (measured 1e-7 without a flip) while farther than that from the exact one;
/// the median over trials of the relative 2-norm state difference from the
/// exact reference within 8 u (measured 0.1-4.7 u; single trials reach 40 u
/// where rounding flips a ReLU mask or a max pool's choice). Truncating
/// instead of rounding, rounding a value the compiler keeps in f32 (or the
/// reverse), statistics of unrounded values, or no rounding at all fail.
static void checkCompactFirstSteps(const ModelReference &ref, uint8_t *compiledState, uint8_t *arena,
                            Rng &rng, Storage storage) {
  const mest_model_desc *d = mest_model_descriptor();
  const int64_t N = d->batch, inputSize = N * d->in_channels * d->in_height * d->in_width;
  const double u = unitRoundoff(storage);
  const float lr = 0.1f, mu = 0.9f, wd = 5e-4f;
  std::vector<uint8_t> initial(compiledState, compiledState + d->state_bytes);
  std::vector<uint8_t> roundedState(d->state_bytes), exactState(d->state_bytes);
  Params compiled(compiledState, ref.convs), rounded(roundedState.data(), ref.convs),
      exactParams(exactState.data(), ref.convs);
  int matches = 0;
  const int trials = 10;
  std::vector<double> normsE;
  for (int trial = 0; trial < trials; ++trial) {
    INFO("first-step trial " << trial << ", u = " << u);
    std::memcpy(compiledState, initial.data(), d->state_bytes);
    std::memcpy(roundedState.data(), initial.data(), d->state_bytes);
    std::memcpy(exactState.data(), initial.data(), d->state_bytes);
    Vec x(inputSize);
    for (float &v : x) v = float(rng.normal());
    Labels y(N);
    for (int32_t &v : y) v = int32_t(rng.below(d->classes));
    Vec loss(N), margin(N), roundedLoss(N), exactLoss(N), m1(N), m2(N);
    std::vector<uint8_t> correct(N), c1(N), c2(N);
    mest_model_train_step(compiledState, arena, x.data(), y.data(), lr, mu, wd, loss.data(),
                          correct.data(), margin.data());
    Ref r{rounded, N, lr, mu, wd, storage}, e{exactParams, N, lr, mu, wd, Storage::F32};
    ref.step(r, x, y, roundedLoss, c1, m1);
    ref.step(e, x, y, exactLoss, c2, m2);
    auto lossDiff = [&](const Vec &other) {
      double worst = 0.0;
      for (int64_t n = 0; n < N; ++n)
        worst = std::max(worst, std::fabs(double(loss[n]) - other[n]) /
                                    std::max(1.0, std::fabs(double(other[n]))));
      return worst;
    };
    const double lossR = lossDiff(roundedLoss), lossE = lossDiff(exactLoss);
    const double stateR = stateDifference(ref, compiled, rounded),
                 stateE = stateDifference(ref, compiled, exactParams),
                 normE = stateNormDifference(ref, compiled, exactParams);
    INFO("against the rounded reference: loss " << lossR << ", state " << stateR
                                                << "; against the exact one: loss " << lossE
                                                << ", state " << stateE << " (2-norm "
                                                << normE << ")");
    CHECK(lossR <= 2 * u);
    CHECK(stateR <= 2 * u);
    CHECK(lossE <= 4 * u);
    normsE.push_back(normE);
    if (lossR <= 1e-5 && stateR <= 1e-5 && stateE > 1e-5) ++matches;
  }
  CHECK(matches >= 7);
  std::nth_element(normsE.begin(), normsE.begin() + trials / 2, normsE.end());
  INFO("median relative 2-norm state difference against the exact reference");
  CHECK(normsE[trials / 2] <= 8 * u);
  std::memcpy(compiledState, initial.data(), d->state_bytes);
}

void checkTrainStep(const ModelReference &ref) {
  const mest_model_desc *d = mest_model_descriptor();
  const int64_t N = d->batch, inputSize = N * d->in_channels * d->in_height * d->in_width;
  auto block = [&](int64_t bytes) {
    return static_cast<uint8_t *>(allocate(bytes, MemCategory::State));
  };
  uint8_t *compiledState = block(d->state_bytes), *refState = block(d->state_bytes);
  uint8_t *arena = block(d->arena_bytes);
  Params compiled(compiledState, ref.convs);
  Rng rng(7);
  for (auto &[name, w] : compiled.conv) {
    MutationScratch scratch({w.get()});
    initialize(*w, kaimingStd(w->spec.shape), rng, scratch);
    if (w->bias)
      for (int64_t o = 0; o < w->spec.shape.O; ++o) w->bias[o] = 0.1f * float(rng.normal());
  }
  for (const char *n : ref.bns) {
    int64_t C = layer(n).out_channels;
    for (int64_t c = 0; c < C; ++c) {
      compiled.bnParams(n)[c] = 1.0f + 0.1f * float(rng.normal());
      compiled.bnParams(n)[C + c] = 0.1f * float(rng.normal());
      compiled.runVar(n)[c] = 1.0f;
    }
  }
  mest_model_after_mutation(compiledState, 2);
  std::memcpy(refState, compiledState, d->state_bytes);
  Params reference(refState, ref.convs);

  const float lr = 0.1f, mu = 0.9f, wd = 5e-4f;
  const auto storage = Storage(MEST_TEST_ACTIVATION_STORAGE);
  const bool compact = storage != Storage::F32;
  Ref r{reference, N, lr, mu, wd, storage};
  if (compact) checkCompactFirstSteps(ref, compiledState, arena, rng, storage);
  for (int step = 1; step <= 10; ++step) {
    INFO("step " << step);
    Vec x(inputSize);
    for (float &v : x) v = float(rng.normal());
    Labels y(N);
    for (int32_t &v : y) v = int32_t(rng.below(d->classes));
    Vec loss(N), margin(N), refLoss(N), refMargin(N);
    std::vector<uint8_t> correct(N), refCorrect(N);
    mest_model_train_step(compiledState, arena, x.data(), y.data(), lr, mu, wd, loss.data(),
                          correct.data(), margin.data());
    ref.step(r, x, y, refLoss, refCorrect, refMargin);
    // Compact storage: steps drift apart (see checkCompactFirstSteps); the
    // losses stay within 16 unit roundoffs of the format.
    for (int64_t n = 0; n < N; ++n) {
      CHECK(loss[n] == Approx(refLoss[n]).epsilon(compact ? 16 * unitRoundoff(storage) : 1e-4));
      if (compact) continue;
      CHECK(margin[n] == Approx(refMargin[n]).epsilon(1e-4).margin(1e-5));
      CHECK(correct[n] == refCorrect[n]);
    }
    if (compact) continue;
    const double diff = stateDifference(ref, compiled, reference);
    if (step == 1) CHECK(diff < 1e-4);
    if (step == 10) CHECK(diff < 1e-3);
  }
  // Evaluation mode uses the running statistics: compare with the reference too.
  // (Compact storage leaves the eval and inference steps exact; they start
  // from the compiled state, as the training states drifted apart.)
  if (compact) std::memcpy(refState, compiledState, d->state_bytes);
  Vec x(inputSize);
  for (float &v : x) v = float(rng.normal());
  Labels y(N);
  for (int64_t n = 0; n < N; ++n) y[n] = int32_t((n + 1) % d->classes);
  Vec loss(N), margin(N);
  std::vector<uint8_t> correct(N);
  mest_model_eval_step(compiledState, arena, x.data(), y.data(), loss.data(), correct.data(),
                       margin.data());
  Vec refLoss = ref.eval(r, x, y);
  for (int64_t n = 0; n < N; ++n) CHECK(loss[n] == Approx(refLoss[n]).epsilon(1e-3));
  // The inference entry, in an arena of its own size: its logits give the
  // reference's eval loss.
  REQUIRE(d->infer_arena_bytes > 0);
  CHECK(d->infer_arena_bytes <= d->arena_bytes);
  uint8_t *inferArena = block(d->infer_arena_bytes);
  Vec logits(N * d->classes), inferLoss(N);
  mest_model_infer(compiledState, inferArena, x.data(), logits.data());
  softmaxCrossEntropyForward(N, d->classes, logits.data(), y.data(), inferLoss.data(), nullptr,
                             nullptr);
  for (int64_t n = 0; n < N; ++n) CHECK(inferLoss[n] == Approx(refLoss[n]).epsilon(1e-3));
  release(inferArena, d->infer_arena_bytes, MemCategory::State);
  release(compiledState, d->state_bytes, MemCategory::State);
  release(refState, d->state_bytes, MemCategory::State);
  release(arena, d->arena_bytes, MemCategory::State);
}

} // namespace mest::test
