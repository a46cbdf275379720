// The Halide-generated dense convolution against the reference oracle.
#include "TestUtil.h"

#include "HalideBuffer.h"
#include "mest_halide_conv_fwd.h"

using namespace mest::test;

TEST_CASE("Halide dense convolution equals the reference", "[kernels][halide]") {
  Rng rng(17);
  for (auto [stride, pad, size] : {std::tuple{1, 1, 9}, {2, 1, 8}, {2, 0, 7}, {1, 0, 6}}) {
    ConvGeom g;
    g.N = 2, g.C = 5, g.H = size, g.W = size + 3, g.O = 6, g.KH = g.KW = 3;
    g.SH = g.SW = stride, g.PH = g.PW = pad;
    INFO("stride " << stride << " pad " << pad << " size " << size);
    auto in = randomVector(g.inSize(), rng), w = randomVector(g.weightShape().numel(), rng);
    std::vector<float> out(g.outSize()), ref(g.outSize());
    // Halide lists dimensions innermost first.
    Halide::Runtime::Buffer<float> hin(in.data(), int(g.W), int(g.H), int(g.C), int(g.N));
    Halide::Runtime::Buffer<float> hw(w.data(), int(g.KW), int(g.KH), int(g.C), int(g.O));
    Halide::Runtime::Buffer<float> hout(out.data(), int(g.OW()), int(g.OH()), int(g.O), int(g.N));
    REQUIRE(mest_halide_conv_fwd(hin, hw, stride, pad, hout) == 0);
    conv2dForwardDense(g, in.data(), w.data(), nullptr, ref.data());
    CHECK(maxRelError(out.data(), ref.data(), g.outSize()) < 1e-5);
  }
}
