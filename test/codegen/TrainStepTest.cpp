// The compiled training step of small-model.mlir (a residual basic block,
// max and average pooling, a strided conv, linear) against the reference
// kernels composed by hand (TrainStepHarness.h).
#include "TrainStepHarness.h"

#include <catch2/catch.hpp>

using namespace mest::rt;
using namespace mest::test;

namespace {

constexpr int64_t N = 4;

void referenceStep(Ref &r, const Vec &x, const Labels &y, Vec &loss,
                   std::vector<uint8_t> &correct, Vec &margin) {
  const ConvGeom g1 = conv(N, 3, 8, 8, 1), g2 = conv(N, 8, 8, 8, 1), gp = pool(N, 8, 8),
                 g3 = conv(N, 8, 4, 12, 2), gq = pool(N, 12, 2),
                 gf = ConvGeom::linear(N, 12, 10);
  // Forward.
  // r.save: the activations kept for backward, as the compiled step stores
  // them (rounded under --activation-storage f16/bf16). Not saved: r2a (the
  // batch norm folded into conv2b), a3 (conv3's direct forward accumulates in
  // its output, which stays f32), the logits.
  Vec a0 = r.save(r.conv(g1, "conv1", x)), b1, m1, i1;
  r.bnTrain("bn1", 8, 64, a0, b1, m1, i1);
  Vec r1 = r.save(r.relu(b1));
  Vec a2 = r.save(r.conv(g2, "conv2", r1)), b2, m2, i2;
  r.bnTrain("bn2", 8, 64, a2, b2, m2, i2);
  Vec r2a = r.relu(b2);
  Vec a2b = r.save(r.conv(g2, "conv2b", r2a)), b2b, m2b, i2b;
  r.bnTrain("bn2b", 8, 64, a2b, b2b, m2b, i2b);
  Vec r2 = r.save(r.relu(r.add(b2b, r1)));
  Vec pm(gp.outSize());
  std::vector<int32_t> arg(gp.outSize());
  maxPool2dForward(gp, r2.data(), pm.data(), arg.data());
  Vec a3 = r.conv(g3, "conv3", pm), b3, m3, i3;
  r.bnTrain("bn3", 12, 4, a3, b3, m3, i3);
  Vec r3 = r.save(r.relu(b3));
  Vec f(gq.outSize());
  avgPool2dForward(gq, r3.data(), f.data());
  f = r.save(f);
  Vec z = r.conv(gf, "fc", f);
  softmaxCrossEntropyForward(N, 10, z.data(), y.data(), loss.data(), correct.data(),
                             margin.data());
  // Backward, each layer's input gradient before its update.
  Vec dz(z.size());
  softmaxCrossEntropyBackward(N, 10, z.data(), y.data(), dz.data());
  Vec df = r.convBackData(gf, "fc", dz);
  r.weightStep("fc", gf, f, dz);
  Vec dr3(r3.size());
  avgPool2dBackward(gq, df.data(), dr3.data());
  Vec da3 = r.bnBack("bn3", 12, 4, a3, r.reluBack(r3, dr3), m3, i3);
  Vec dpm = r.convBackData(g3, "conv3", da3);
  r.weightStep("conv3", g3, pm, da3);
  Vec dr2(r2.size());
  maxPool2dBackward(gp, dpm.data(), arg.data(), dr2.data());
  Vec ds2 = r.reluBack(r2, dr2);
  Vec da2b = r.bnBack("bn2b", 8, 64, a2b, ds2, m2b, i2b);
  Vec dr2a = r.convBackData(g2, "conv2b", da2b);
  r.weightStep("conv2b", g2, r2a, da2b);
  Vec da2 = r.bnBack("bn2", 8, 64, a2, r.reluBack(r2a, dr2a), m2, i2);
  Vec dr1 = r.add(r.convBackData(g2, "conv2", da2), ds2);
  r.weightStep("conv2", g2, r1, da2);
  Vec da0 = r.bnBack("bn1", 8, 64, a0, r.reluBack(r1, dr1), m1, i1);
  r.weightStep("conv1", g1, x, da0);
}

Vec referenceEval(Ref &r, const Vec &x, const Labels &y) {
  const ConvGeom g1 = conv(N, 3, 8, 8, 1), g2 = conv(N, 8, 8, 8, 1), gp = pool(N, 8, 8),
                 g3 = conv(N, 8, 4, 12, 2), gq = pool(N, 12, 2),
                 gf = ConvGeom::linear(N, 12, 10);
  Vec a0 = r.relu(r.bnEval("bn1", 8, 64, r.conv(g1, "conv1", x)));
  Vec a2 = r.relu(r.bnEval("bn2", 8, 64, r.conv(g2, "conv2", a0)));
  Vec a2b = r.relu(r.add(r.bnEval("bn2b", 8, 64, r.conv(g2, "conv2b", a2)), a0));
  Vec pm(gp.outSize()), f(gq.outSize());
  maxPool2dForward(gp, a2b.data(), pm.data(), nullptr);
  Vec a3 = r.relu(r.bnEval("bn3", 12, 4, r.conv(g3, "conv3", pm)));
  avgPool2dForward(gq, a3.data(), f.data());
  Vec z = r.conv(gf, "fc", f), loss(N);
  softmaxCrossEntropyForward(N, 10, z.data(), y.data(), loss.data(), nullptr, nullptr);
  return loss;
}

} // namespace

TEST_CASE("compiled train step equals the reference composed by hand", "[codegen][step]") {
  REQUIRE(mest_model_descriptor()->batch == N);
  checkTrainStep({{"conv1", "conv2", "conv2b", "conv3", "fc"},
                  {"bn1", "bn2", "bn2b", "bn3"},
                  referenceStep,
                  referenceEval});
}
