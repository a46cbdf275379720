// Compressed reference convolution against the dense oracle, for every scheme, on
// random shapes, and its gradients against central finite differences.
#include "TestUtil.h"

using namespace mest::test;

namespace {

struct Case {
  Scheme scheme;
  ConvGeom g;
  double target;
};

ConvGeom geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t k, int64_t stride,
              int64_t pad) {
  ConvGeom g;
  g.N = n, g.C = c, g.H = h, g.W = w, g.O = o, g.KH = g.KW = k;
  g.SH = g.SW = stride, g.PH = g.PW = pad;
  return g;
}

ConvGeom grouped(ConvGeom g, int64_t groups) {
  g.G = groups;
  return g;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  // Odd sizes, stride 2, padding 0 and 1, channel counts not multiples of 8.
  const ConvGeom shapes3x3[] = {geom(2, 5, 7, 9, 12, 3, 1, 1), geom(3, 3, 8, 5, 4, 3, 2, 0),
                                geom(1, 11, 6, 6, 8, 3, 2, 1), geom(2, 16, 5, 5, 20, 3, 1, 0)};
  for (const ConvGeom &g : shapes3x3)
    for (Scheme s : {Scheme::Dense, Scheme::Unstructured, Scheme::Channel, Scheme::Block,
                     Scheme::Pattern})
      out.push_back({s, g, s == Scheme::Dense ? 0.0 : (s == Scheme::Channel ? 0.6 : 0.8)});
  // Other kernel sizes for the schemes that allow them, and a linear layer.
  for (Scheme s : {Scheme::Unstructured, Scheme::Channel, Scheme::Block}) {
    out.push_back({s, geom(2, 7, 9, 7, 8, 5, 2, 2), 0.7});
    out.push_back({s, geom(3, 6, 4, 5, 12, 1, 1, 0), 0.5});
    out.push_back({s, ConvGeom::linear(5, 13, 8), 0.75});
  }
  // Grouped: depthwise (stride 1 and 2, two filters per channel) and 3 groups.
  for (Scheme s : {Scheme::Dense, Scheme::Unstructured}) {
    const double t = s == Scheme::Dense ? 0.0 : 0.5;
    out.push_back({s, grouped(geom(2, 6, 7, 9, 6, 3, 1, 1), 6), t});
    out.push_back({s, grouped(geom(2, 4, 8, 7, 8, 3, 2, 1), 4), t});
    out.push_back({s, grouped(geom(1, 9, 5, 6, 6, 3, 1, 0), 3), t});
  }
  return out;
}

} // namespace

TEST_CASE("compressed convolution equals the dense oracle on the densified weights",
          "[kernels][conv]") {
  Rng rng(7);
  for (const Case &c : cases()) {
    const ConvGeom &g = c.g;
    INFO("scheme " << schemeName(c.scheme) << " C=" << g.C << " H=" << g.H << " W=" << g.W
                   << " O=" << g.O << " k=" << g.KH << " stride=" << g.SH << " pad=" << g.PH
                   << " groups=" << g.G);
    SparseLayer layer(makeSpec(c.scheme, g.weightShape(), c.target, c.target), rng);
    REQUIRE(layer.w.sparsity() >= c.target - 0.1);
    auto in = randomVector(g.inSize(), rng), dout = randomVector(g.outSize(), rng);
    auto bias = randomVector(g.O, rng);

    std::vector<float> out(g.outSize()), ref(g.outSize());
    conv2dForward(g, in.data(), layer.w, bias.data(), out.data());
    conv2dForwardDense(g, in.data(), layer.dense.data(), bias.data(), ref.data());
    CHECK(maxRelError(out.data(), ref.data(), g.outSize()) < 1e-5);

    std::vector<float> din(g.inSize()), dinRef(g.inSize());
    conv2dBackwardData(g, dout.data(), layer.w, din.data());
    conv2dBackwardDataDense(g, dout.data(), layer.dense.data(), dinRef.data());
    CHECK(maxRelError(din.data(), dinRef.data(), g.inSize()) < 1e-5);

    // Weight gradients exist only for active weights and equal the dense ones there.
    std::vector<float> dw(g.weightShape().numel()), dwRef(dw.size()), dwMasked(dw.size());
    std::vector<float> dbias(g.O), dbiasRef(g.O);
    conv2dBackwardWeight(g, in.data(), dout.data(), layer.w, dbias.data());
    conv2dBackwardWeightDense(g, in.data(), dout.data(), dwRef.data(), dbiasRef.data());
    layer.w.densify(layer.w.grads, dw.data());
    std::vector<float> mask(dw.size());
    layer.w.densify(std::vector<float>(layer.w.capacityWeights(), 1.0f).data(), mask.data());
    for (size_t i = 0; i < dw.size(); ++i) dwMasked[i] = dwRef[i] * mask[i];
    CHECK(maxRelError(dw.data(), dwMasked.data(), dw.size()) < 1e-5);
    CHECK(maxRelError(dbias.data(), dbiasRef.data(), g.O) < 1e-5);
  }
}

TEST_CASE("compressed convolution gradients match central finite differences",
          "[kernels][conv][gradcheck]") {
  Rng rng(11);
  const std::pair<Scheme, int64_t> layers[] = {  // scheme, groups
      {Scheme::Dense, 1},  {Scheme::Unstructured, 1}, {Scheme::Channel, 1}, {Scheme::Block, 1},
      {Scheme::Pattern, 1}, {Scheme::Dense, 2},       {Scheme::Unstructured, 2}};
  for (auto [s, groups] : layers) {
    INFO("scheme " << schemeName(s) << " groups " << groups);
    ConvGeom g = grouped(geom(2, groups == 1 ? 5 : 6, 5, 6, 8, 3, 2, 1), groups);
    SparseLayer layer(makeSpec(s, g.weightShape(), s == Scheme::Dense ? 0.0 : 0.7,
                               s == Scheme::Dense ? 0.0 : 0.7),
                      rng);
    auto in = randomVector(g.inSize(), rng), probe = randomVector(g.outSize(), rng);
    auto bias = randomVector(g.O, rng);
    std::vector<float> out(g.outSize());
    auto loss = [&] {
      conv2dForward(g, in.data(), layer.w, bias.data(), out.data());
      return dot(out, probe);
    };
    std::vector<float> din(g.inSize()), dbias(g.O);
    conv2dBackwardData(g, probe.data(), layer.w, din.data());
    conv2dBackwardWeight(g, in.data(), probe.data(), layer.w, dbias.data());
    for (int64_t i = 0; i < g.inSize(); i += 7)
      CHECK(din[i] == Approx(finiteDiff(loss, in[i])).margin(2e-3).epsilon(2e-3));
    for (int64_t v = 0; v < layer.w.activeWeights(); v += 3)
      CHECK(layer.w.grads[v] ==
            Approx(finiteDiff(loss, layer.w.values[v])).margin(2e-3).epsilon(2e-3));
    for (int64_t o = 0; o < g.O; ++o)
      CHECK(dbias[o] == Approx(finiteDiff(loss, bias[o])).margin(2e-3).epsilon(2e-3));
  }
}

TEST_CASE("a grouped convolution is its groups' convolutions side by side",
          "[kernels][conv]") {
  // The groups' slices through the ungrouped dense oracle, copied in and out
  // by hand: forward, input gradient and weight gradient.
  Rng rng(13);
  for (int64_t G : {2, 4}) {
    ConvGeom g = geom(2, 4, 6, 7, 8, 3, 2, 1);
    g.G = G;
    ConvGeom one = g;  // one group, ungrouped
    one.G = 1, one.C = g.C / G, one.O = g.O / G;
    auto in = randomVector(g.inSize(), rng), w = randomVector(g.weightShape().numel(), rng);
    auto dout = randomVector(g.outSize(), rng), bias = randomVector(g.O, rng);
    std::vector<float> out(g.outSize()), din(g.inSize()), dw(w.size()), dbias(g.O);
    conv2dForwardDense(g, in.data(), w.data(), bias.data(), out.data());
    conv2dBackwardDataDense(g, dout.data(), w.data(), din.data());
    conv2dBackwardWeightDense(g, in.data(), dout.data(), dw.data(), dbias.data());
    const int64_t inPlane = g.H * g.W, outPlane = g.OH() * g.OW();
    const int64_t wGroup = one.weightShape().numel();
    for (int64_t k = 0; k < G; ++k) {
      std::vector<float> x(one.inSize()), dy(one.outSize());
      for (int64_t n = 0; n < g.N; ++n) {
        std::copy_n(&in[(n * g.C + k * one.C) * inPlane], one.C * inPlane, &x[n * one.C * inPlane]);
        std::copy_n(&dout[(n * g.O + k * one.O) * outPlane], one.O * outPlane,
                    &dy[n * one.O * outPlane]);
      }
      std::vector<float> y(one.outSize()), dx(one.inSize()), dwk(wGroup), dbk(one.O);
      conv2dForwardDense(one, x.data(), &w[k * wGroup], &bias[k * one.O], y.data());
      conv2dBackwardDataDense(one, dy.data(), &w[k * wGroup], dx.data());
      conv2dBackwardWeightDense(one, x.data(), dy.data(), dwk.data(), dbk.data());
      for (int64_t n = 0; n < g.N; ++n) {
        CHECK(maxRelError(&out[(n * g.O + k * one.O) * outPlane], &y[n * one.O * outPlane],
                          one.O * outPlane) < 1e-6);
        CHECK(maxRelError(&din[(n * g.C + k * one.C) * inPlane], &dx[n * one.C * inPlane],
                          one.C * inPlane) < 1e-6);
      }
      CHECK(maxRelError(&dw[k * wGroup], dwk.data(), wGroup) < 1e-6);
      CHECK(maxRelError(&dbias[k * one.O], dbk.data(), one.O) < 1e-6);
    }
  }
}
