// Batch norm, ReLU, add, pooling, loss and SGD: gradients against central finite
// differences and forward values against hand-computed ones.
#include "TestUtil.h"

using namespace mest::test;

TEST_CASE("batch norm training-mode gradients match finite differences", "[kernels][bn]") {
  Rng rng(3);
  const int64_t N = 3, C = 4, HW = 5, n = N * C * HW;
  auto in = randomVector(n, rng), gamma = randomVector(C, rng), beta = randomVector(C, rng);
  auto probe = randomVector(n, rng);
  std::vector<float> out(n), mean(C), invStd(C), runMean(C, 0.0f), runVar(C, 1.0f);
  auto loss = [&] {
    std::vector<float> rm(C, 0.0f), rv(C, 1.0f);
    batchNormForwardTrain(N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5, 0.1, rm.data(),
                          rv.data(), out.data(), mean.data(), invStd.data());
    return dot(out, probe);
  };
  loss();
  std::vector<float> din(n), dgamma(C), dbeta(C);
  batchNormBackward(N, C, HW, in.data(), probe.data(), gamma.data(), mean.data(), invStd.data(),
                    din.data(), dgamma.data(), dbeta.data());
  for (int64_t i = 0; i < n; i += 3)
    CHECK(din[i] == Approx(finiteDiff(loss, in[i], 1e-3)).margin(5e-3).epsilon(5e-3));
  for (int64_t c = 0; c < C; ++c) {
    CHECK(dgamma[c] == Approx(finiteDiff(loss, gamma[c])).margin(2e-3).epsilon(2e-3));
    CHECK(dbeta[c] == Approx(finiteDiff(loss, beta[c])).margin(2e-3).epsilon(2e-3));
  }
}

TEST_CASE("batch norm normalises, tracks running statistics and evaluates with them",
          "[kernels][bn]") {
  // One channel, values 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased 5/3.
  const float in[4] = {1, 2, 3, 4}, gamma = 2.0f, beta = 0.5f;
  float out[4], mean, invStd, runMean = 0.0f, runVar = 1.0f;
  batchNormForwardTrain(4, 1, 1, in, &gamma, &beta, 1e-5, 0.1, &runMean, &runVar, out, &mean,
                        &invStd);
  CHECK(mean == Approx(2.5));
  CHECK(invStd == Approx(1.0 / std::sqrt(1.25 + 1e-5)));
  CHECK(out[0] == Approx(2.0 * (1 - 2.5) / std::sqrt(1.25 + 1e-5) + 0.5));
  CHECK(runMean == Approx(0.25));
  CHECK(runVar == Approx(0.9 + 0.1 * 5.0 / 3.0));
  float evalOut[4];
  batchNormForwardEval(4, 1, 1, in, &gamma, &beta, 1e-5, &runMean, &runVar, evalOut);
  CHECK(evalOut[3] == Approx(2.0 * (4 - 0.25) / std::sqrt(runVar + 1e-5) + 0.5));
}

TEST_CASE("relu and add", "[kernels]") {
  const float a[4] = {-1, 0, 2, -3}, b[4] = {1, 1, 1, 1}, dout[4] = {5, 6, 7, 8};
  float out[4], din[4], sum[4];
  reluForward(4, a, out);
  CHECK(std::vector<float>(out, out + 4) == std::vector<float>{0, 0, 2, 0});
  reluBackward(4, out, dout, din);
  CHECK(std::vector<float>(din, din + 4) == std::vector<float>{0, 0, 7, 0});
  addForward(4, a, b, sum);
  CHECK(std::vector<float>(sum, sum + 4) == std::vector<float>{0, 1, 3, -2});
}

TEST_CASE("pooling forward values and gradients", "[kernels][pool]") {
  Rng rng(5);
  ConvGeom g;
  g.N = 2, g.C = 3, g.H = 5, g.W = 7, g.O = 3, g.KH = 3, g.KW = 2, g.SH = 2, g.SW = 2;
  g.PH = 1, g.PW = 1;
  auto in = randomVector(g.inSize(), rng), probe = randomVector(g.outSize(), rng);
  std::vector<float> out(g.outSize()), din(g.inSize());
  std::vector<int32_t> arg(g.outSize());
  SECTION("max") {
    auto loss = [&] {
      maxPool2dForward(g, in.data(), out.data(), arg.data());
      return dot(out, probe);
    };
    loss();
    maxPool2dBackward(g, probe.data(), arg.data(), din.data());
    for (int64_t i = 0; i < g.inSize(); ++i)
      CHECK(din[i] == Approx(finiteDiff(loss, in[i], 1e-3)).margin(1e-3));
  }
  SECTION("average, padding not counted") {
    auto loss = [&] {
      avgPool2dForward(g, in.data(), out.data());
      return dot(out, probe);
    };
    loss();
    // Output (0, 0) of plane 0 averages rows 0..1 and column 0 (window clipped by padding).
    CHECK(out[0] == Approx((in[0] + in[g.W]) / 2.0));
    avgPool2dBackward(g, probe.data(), din.data());
    for (int64_t i = 0; i < g.inSize(); ++i)
      CHECK(din[i] == Approx(finiteDiff(loss, in[i])).margin(1e-3));
  }
  SECTION("global average") {
    const int64_t HW = g.H * g.W;
    std::vector<float> gout(g.N * g.C), gprobe = randomVector(g.N * g.C, rng);
    auto loss = [&] {
      globalAvgPoolForward(g.N, g.C, HW, in.data(), gout.data());
      return dot(gout, gprobe);
    };
    globalAvgPoolBackward(g.N, g.C, HW, gprobe.data(), din.data());
    for (int64_t i = 0; i < g.inSize(); i += 5)
      CHECK(din[i] == Approx(finiteDiff(loss, in[i])).margin(1e-3));
  }
}

TEST_CASE("softmax cross-entropy: loss, correctness, margin, gradient", "[kernels][loss]") {
  // Example 0: logits (1, 2, 3), label 2 -> correct, loss log(e^1+e^2+e^3) - 3, margin 1.
  // Example 1: logits (0, 0, 0), label 1 -> ties: arg-max is class 0, incorrect, margin 0.
  std::vector<float> z = {1, 2, 3, 0, 0, 0};
  const int32_t y[2] = {2, 1};
  float loss[2], margin[2];
  uint8_t correct[2];
  double mean = softmaxCrossEntropyForward(2, 3, z.data(), y, loss, correct, margin);
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  CHECK(loss[0] == Approx(l0));
  CHECK(loss[1] == Approx(std::log(3.0)));
  CHECK(mean == Approx((l0 + std::log(3.0)) / 2));
  CHECK(correct[0] == 1);
  CHECK(correct[1] == 0);
  CHECK(margin[0] == Approx(1.0));
  CHECK(margin[1] == Approx(0.0));
  std::vector<float> dz(6);
  softmaxCrossEntropyBackward(2, 3, z.data(), y, dz.data());
  auto f = [&] { return softmaxCrossEntropyForward(2, 3, z.data(), y, nullptr, nullptr, nullptr); };
  for (int i = 0; i < 6; ++i) CHECK(dz[i] == Approx(finiteDiff(f, z[i], 1e-3)).margin(1e-4));
}

TEST_CASE("SGD with momentum and weight decay matches torch.optim.SGD by hand",
          "[kernels][sgd]") {
  // w = 1, g = 0.5, wd = 0.1, mu = 0.9, lr = 0.1: d = 0.6, m = 0.6, w = 0.94;
  // second step g = 0.5: d = 0.594, m = 0.54 + 0.594 = 1.134, w = 0.94 - 0.1134.
  float w = 1.0f, m = 0.0f;
  const float g = 0.5f;
  sgdUpdate(1, &w, &g, &m, 0.1f, 0.9f, 0.1f);
  CHECK(w == Approx(0.94));
  CHECK(m == Approx(0.6));
  sgdUpdate(1, &w, &g, &m, 0.1f, 0.9f, 0.1f);
  CHECK(m == Approx(1.134));
  CHECK(w == Approx(0.94 - 0.1134));
}
