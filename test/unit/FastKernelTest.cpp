// The runtime's fast kernels against the reference ones.
#include "TestUtil.h"

#include "runtime/kernels/Fast.h"

using namespace mest::test;

TEST_CASE("fast batch norm equals the reference, forward and backward", "[kernels][bn][fast]") {
  Rng rng(21);
  for (auto [N, C, HW] : {std::tuple<int64_t, int64_t, int64_t>{4, 3, 49}, {2, 5, 1024}, {8, 2, 1}}) {
    const int64_t n = N * C * HW;
    auto in = randomVector(n, rng, 2.0), dout = randomVector(n, rng);
    for (float &v : in) v += 0.5f;  // a non-zero mean
    auto gamma = randomVector(C, rng), beta = randomVector(C, rng);
    std::vector<float> out(n), ref(n), mean(C), inv(C), refMean(C), refInv(C);
    std::vector<float> rm(C, 0.1f), rv(C, 1.5f), refRm(rm), refRv(rv);
    batchNormForwardTrain(N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5, 0.1, refRm.data(),
                          refRv.data(), ref.data(), refMean.data(), refInv.data());
    for (int64_t c = 0; c < C; ++c)
      fast::batchNormForwardTrainChannel(c, N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5,
                                         0.1, rm.data(), rv.data(), out.data(), mean.data(),
                                         inv.data());
    CHECK(maxRelError(out.data(), ref.data(), n) < 1e-4);
    CHECK(maxRelError(mean.data(), refMean.data(), C) < 1e-5);
    CHECK(maxRelError(inv.data(), refInv.data(), C) < 1e-4);
    CHECK(maxRelError(rv.data(), refRv.data(), C) < 1e-4);
    std::vector<float> din(n), refDin(n), dg(C), db(C), refDg(C), refDb(C);
    batchNormBackward(N, C, HW, in.data(), dout.data(), gamma.data(), refMean.data(), refInv.data(),
                      refDin.data(), refDg.data(), refDb.data());
    for (int64_t c = 0; c < C; ++c)
      fast::batchNormBackwardChannel(c, N, C, HW, in.data(), dout.data(), gamma.data(),
                                     refMean.data(), refInv.data(), din.data(), dg.data(),
                                     db.data());
    CHECK(maxRelError(din.data(), refDin.data(), n) < 1e-4);
    CHECK(maxRelError(dg.data(), refDg.data(), C) < 1e-4);
    CHECK(maxRelError(db.data(), refDb.data(), C) < 1e-4);
  }
}

TEST_CASE("fast batch norm with fused residual add and ReLU equals the reference ops in turn",
          "[kernels][bn][fast][fusion]") {
  Rng rng(22);
  const int64_t N = 3, C = 4, HW = 37, n = N * C * HW;
  auto in = randomVector(n, rng, 2.0), residual = randomVector(n, rng), dout = randomVector(n, rng);
  auto gamma = randomVector(C, rng), beta = randomVector(C, rng);
  for (bool withResidual : {false, true}) {
    std::vector<float> bn(n), sum(n), ref(n), out(n), mean(C), inv(C), refMean(C), refInv(C);
    std::vector<float> rm(C, 0.f), rv(C, 1.f), refRm(rm), refRv(rv);
    batchNormForwardTrain(N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5, 0.1, refRm.data(),
                          refRv.data(), bn.data(), refMean.data(), refInv.data());
    const float *pre = bn.data();
    if (withResidual) {
      addForward(n, bn.data(), residual.data(), sum.data());
      pre = sum.data();
    }
    reluForward(n, pre, ref.data());
    for (int64_t c = 0; c < C; ++c)
      fast::batchNormForwardTrainChannel(c, N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5,
                                         0.1, rm.data(), rv.data(), out.data(), mean.data(),
                                         inv.data(), withResidual ? residual.data() : nullptr,
                                         /*relu=*/true);
    CHECK(maxRelError(out.data(), ref.data(), n) < 1e-4);
    // The same with the input statistics given per (image, channel) plane, as
    // a conv epilogue provides them (summed here naively).
    std::vector<float> stats(N * C * 2), out2(n), rm2(C, 0.f), rv2(C, 1.f);
    for (int64_t i = 0; i < N * C; ++i)
      for (int64_t k = 0; k < HW; ++k)
        stats[2 * i] += in[i * HW + k], stats[2 * i + 1] += in[i * HW + k] * in[i * HW + k];
    for (int64_t c = 0; c < C; ++c)
      fast::batchNormForwardTrainChannel(c, N, C, HW, in.data(), gamma.data(), beta.data(), 1e-5,
                                         0.1, rm2.data(), rv2.data(), out2.data(), mean.data(),
                                         inv.data(), withResidual ? residual.data() : nullptr,
                                         /*relu=*/true, stats.data());
    CHECK(maxRelError(out2.data(), ref.data(), n) < 1e-4);
    CHECK(maxRelError(rv2.data(), refRv.data(), C) < 1e-4);
    int64_t zeros = 0;
    for (float v : out) zeros += v == 0.0f;
    CHECK(zeros > n / 4);  // the ReLU did cut
    // Backward through the ReLU, then batch norm.
    std::vector<float> masked(n), refDin(n), din(n), dg(C), db(C), refDg(C), refDb(C);
    reluBackward(n, ref.data(), dout.data(), masked.data());
    batchNormBackward(N, C, HW, in.data(), masked.data(), gamma.data(), refMean.data(),
                      refInv.data(), refDin.data(), refDg.data(), refDb.data());
    for (int64_t c = 0; c < C; ++c)
      fast::batchNormBackwardChannel(c, N, C, HW, in.data(), dout.data(), gamma.data(),
                                     refMean.data(), refInv.data(), din.data(), dg.data(),
                                     db.data(), out.data());
    CHECK(maxRelError(din.data(), refDin.data(), n) < 1e-4);
    CHECK(maxRelError(dg.data(), refDg.data(), C) < 1e-4);
    CHECK(maxRelError(db.data(), refDb.data(), C) < 1e-4);
  }
}
