// The compiled training step of shortcut-model.mlir (a downsampling residual
// block with a 1x1 projection shortcut) against the reference kernels
// composed by hand (TrainStepHarness.h). Its kernel formation differs from
// small-model's: a batch norm + ReLU folded into two consumers (a stride-2
// pattern conv and a 1x1 block conv), a gradient sum of two backward-data
// kernels, the residual add taking a batch norm's output.
#include "TrainStepHarness.h"

#include <catch2/catch.hpp>

using namespace mest::rt;
using namespace mest::test;

namespace {

constexpr int64_t N = 4;
const ConvGeom g0 = conv(N, 3, 8, 8, 1), ga = conv(N, 8, 8, 16, 2), gb = conv(N, 16, 4, 16, 1),
               gs = conv(N, 8, 8, 16, 2, 1, 0), gf = ConvGeom::linear(N, 16, 10);

void referenceStep(Ref &r, const Vec &x, const Labels &y, Vec &loss,
                   std::vector<uint8_t> &correct, Vec &margin) {
  // r.save: the activations kept for backward, as the compiled step stores
  // them (rounded under --activation-storage f16/bf16); y0 and ra are folded
  // into their consumers, bs is read only by the residual add.
  Vec a0 = r.save(r.conv(g0, "stem", x)), b0, m0, i0;
  r.bnTrain("bn0", 8, 64, a0, b0, m0, i0);
  Vec y0 = r.relu(b0);
  Vec aa = r.save(r.conv(ga, "conva", y0)), ba, ma, ia;
  r.bnTrain("bna", 16, 16, aa, ba, ma, ia);
  Vec ra = r.relu(ba);
  Vec ab = r.save(r.conv(gb, "convb", ra)), bb, mb, ib;
  r.bnTrain("bnb", 16, 16, ab, bb, mb, ib);
  Vec as = r.save(r.conv(gs, "short", y0)), bs, ms, is;
  r.bnTrain("bns", 16, 16, as, bs, ms, is);
  Vec out = r.save(r.relu(r.add(bb, bs)));
  Vec f(N * 16);
  globalAvgPoolForward(N, 16, 16, out.data(), f.data());
  f = r.save(f);
  Vec z = r.conv(gf, "fc", f);
  softmaxCrossEntropyForward(N, 10, z.data(), y.data(), loss.data(), correct.data(),
                             margin.data());
  Vec dz(z.size());
  softmaxCrossEntropyBackward(N, 10, z.data(), y.data(), dz.data());
  Vec df = r.convBackData(gf, "fc", dz);
  r.weightStep("fc", gf, f, dz);
  Vec dout(out.size());
  globalAvgPoolBackward(N, 16, 16, df.data(), dout.data());
  Vec ds = r.reluBack(out, dout);
  Vec dbs = r.bnBack("bns", 16, 16, as, ds, ms, is);
  Vec dys = r.convBackData(gs, "short", dbs);
  r.weightStep("short", gs, y0, dbs);
  Vec dbb = r.bnBack("bnb", 16, 16, ab, ds, mb, ib);
  Vec dra = r.convBackData(gb, "convb", dbb);
  r.weightStep("convb", gb, ra, dbb);
  Vec dba = r.bnBack("bna", 16, 16, aa, r.reluBack(ra, dra), ma, ia);
  Vec dy0 = r.add(r.convBackData(ga, "conva", dba), dys);
  r.weightStep("conva", ga, y0, dba);
  Vec da0 = r.bnBack("bn0", 8, 64, a0, r.reluBack(y0, dy0), m0, i0);
  r.weightStep("stem", g0, x, da0);
}

Vec referenceEval(Ref &r, const Vec &x, const Labels &y) {
  Vec a0 = r.relu(r.bnEval("bn0", 8, 64, r.conv(g0, "stem", x)));
  Vec aa = r.relu(r.bnEval("bna", 16, 16, r.conv(ga, "conva", a0)));
  Vec ab = r.bnEval("bnb", 16, 16, r.conv(gb, "convb", aa));
  Vec as = r.bnEval("bns", 16, 16, r.conv(gs, "short", a0));
  Vec out = r.relu(r.add(ab, as)), f(N * 16);
  globalAvgPoolForward(N, 16, 16, out.data(), f.data());
  Vec z = r.conv(gf, "fc", f), loss(N);
  softmaxCrossEntropyForward(N, 10, z.data(), y.data(), loss.data(), nullptr, nullptr);
  return loss;
}

} // namespace

TEST_CASE("compiled train step of a projection-shortcut block equals the reference",
          "[codegen][step]") {
  REQUIRE(mest_model_descriptor()->batch == N);
  checkTrainStep({{"stem", "conva", "convb", "short", "fc"},
                  {"bn0", "bna", "bnb", "bns"},
                  referenceStep,
                  referenceEval});
}
