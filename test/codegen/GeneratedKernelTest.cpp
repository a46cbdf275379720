// Every generated layer kernel (forward, backward-data, backward-weight with
// fused SGD) against the runtime's reference kernels, on random data and
// random masks, for the layers of kernels-model.mlir.
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
#include <string>
#include <vector>

using namespace mest::rt;

extern "C" {
#define MEST_KERNELS(layer)                                                                    \
  void mest_kernel_##layer##_fwd(uint8_t *, const float *, float *);                           \
  void mest_kernel_##layer##_bwd_data(uint8_t *, const float *, float *);                      \
  void mest_kernel_##layer##_bwd_weight(uint8_t *, const float *, const float *, float, float, \
                                        float);
MEST_KERNELS(dense3x3)
MEST_KERNELS(dense_tiles)
MEST_KERNELS(depthwise_s1)
MEST_KERNELS(grouped_unstructured)
MEST_KERNELS(depthwise_s2)
MEST_KERNELS(pattern_s1)
MEST_KERNELS(unstructured_s2)
MEST_KERNELS(block_p0)
MEST_KERNELS(channel_5x5)
MEST_KERNELS(pattern_s2)
MEST_KERNELS(unstructured_1x1)
MEST_KERNELS(block_5x5)
MEST_KERNELS(fc_block)
MEST_KERNELS(fc_unstructured)
MEST_KERNELS(fc_dense)
}

namespace {

struct Kernels {
  void (*fwd)(uint8_t *, const float *, float *);
  void (*bwdData)(uint8_t *, const float *, float *);
  void (*bwdWeight)(uint8_t *, const float *, const float *, float, float, float);
};
#define ENTRY(layer)                                                                           \
  {#layer, {mest_kernel_##layer##_fwd, mest_kernel_##layer##_bwd_data,                         \
            mest_kernel_##layer##_bwd_weight}}
const std::map<std::string, Kernels> kKernels = {
    ENTRY(dense3x3),         ENTRY(dense_tiles), ENTRY(pattern_s1),  ENTRY(unstructured_s2), ENTRY(block_p0),
    ENTRY(channel_5x5),      ENTRY(pattern_s2),  ENTRY(unstructured_1x1), ENTRY(block_5x5),
    ENTRY(fc_block),         ENTRY(fc_unstructured), ENTRY(fc_dense),
    ENTRY(depthwise_s1),     ENTRY(grouped_unstructured), ENTRY(depthwise_s2)};

/// Input geometry of each layer in kernels-model.mlir (N = 3).
ConvGeom geometry(const std::string &name) {
  auto g = [](int64_t C, int64_t H, int64_t W, int64_t O, int64_t K, int64_t S, int64_t P,
              int64_t G = 1) {
    ConvGeom c;
    c.N = 3, c.C = C, c.H = H, c.W = W, c.O = O, c.KH = c.KW = K, c.SH = c.SW = S;
    c.PH = c.PW = P, c.G = G;
    return c;
  };
  static const std::map<std::string, ConvGeom> table = {
      {"dense3x3", g(5, 9, 37, 8, 3, 1, 1)},        {"dense_tiles", g(8, 9, 37, 8, 3, 1, 1)},
      {"pattern_s1", g(8, 9, 37, 12, 3, 1, 1)},
      {"unstructured_s2", g(12, 9, 37, 8, 3, 2, 1)}, {"block_p0", g(8, 5, 19, 8, 3, 1, 0)},
      {"channel_5x5", g(8, 3, 17, 12, 5, 1, 2)},    {"pattern_s2", g(12, 3, 17, 16, 3, 2, 1)},
      {"unstructured_1x1", g(16, 2, 9, 20, 1, 1, 0)}, {"block_5x5", g(20, 2, 9, 8, 5, 1, 2)},
      {"depthwise_s1", g(8, 9, 37, 8, 3, 1, 1, 8)}, {"grouped_unstructured", g(8, 9, 37, 8, 3, 1, 1, 2)},
      {"depthwise_s2", g(8, 2, 9, 16, 3, 2, 1, 8)},
      {"fc_block", ConvGeom::linear(3, 16, 12)},     {"fc_unstructured", ConvGeom::linear(3, 12, 7)},
      {"fc_dense", ConvGeom::linear(3, 7, 5)}};
  return table.at(name);
}


std::vector<float> random(int64_t n, Rng &rng) {
  std::vector<float> v(n);
  for (float &x : v) x = static_cast<float>(rng.normal());
  return v;
}

double maxRelError(const float *a, const float *b, int64_t n) {
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(double(b[i]))));
  return worst;
}

struct StateBlock {
  const mest_model_desc *desc = mest_model_descriptor();
  uint8_t *bytes = static_cast<uint8_t *>(allocate(desc->state_bytes, MemCategory::State));
  ~StateBlock() { release(bytes, desc->state_bytes, MemCategory::State); }
};

} // namespace

TEST_CASE("generated kernels equal the reference kernels", "[codegen]") {
  StateBlock state;
  const mest_model_desc *desc = state.desc;
  REQUIRE(desc->abi_version == MEST_ABI_VERSION);
  REQUIRE(desc->num_layers == 15);
  Rng rng(2024);
  for (int seed = 0; seed < 3; ++seed) {  // three random masks per layer
    for (int i = 0; i < desc->num_layers; ++i) {
      const mest_layer_desc &d = desc->layers[i];
      INFO("layer " << d.name << " seed " << seed);
      ConvGeom g = geometry(d.name);
      REQUIRE(g.O == d.out_channels);
      REQUIRE(g.FC() == d.in_channels);
      REQUIRE(g.G == d.groups);
      CompressedWeights w(weightSpecOf(d), state.bytes + d.state_offset);
      MutationScratch scratch({&w});
      initialize(w, 1.0, rng, scratch);
      // A mutation event so storage is not in its initial order only.
      prune(w, std::min(0.99, d.target + 0.05), scratch);
      grow(w, d.capacity, rng, scratch);
      for (int64_t v = 0; v < w.activeWeights(); ++v) {
        w.values[v] = static_cast<float>(rng.normal());
        w.momentum[v] = static_cast<float>(rng.normal());
      }
      if (w.bias)
        for (int64_t o = 0; o < g.O; ++o) w.bias[o] = static_cast<float>(rng.normal());
      mest_model_after_mutation(state.bytes, 2);
      const Kernels &k = kKernels.at(d.name);

      auto in = random(g.inSize(), rng), dout = random(g.outSize(), rng);
      std::vector<float> out(g.outSize()), ref(g.outSize());
      k.fwd(state.bytes, in.data(), out.data());
      conv2dForward(g, in.data(), w, w.bias, ref.data());
      CHECK(maxRelError(out.data(), ref.data(), g.outSize()) < 1e-4);

      std::vector<float> din(g.inSize(), 7.0f), dinRef(g.inSize());
      k.bwdData(state.bytes, dout.data(), din.data());
      conv2dBackwardData(g, dout.data(), w, dinRef.data());
      CHECK(maxRelError(din.data(), dinRef.data(), g.inSize()) < 1e-4);

      // Reference: gradients, then SGD on copies of the packed arrays.
      const int64_t n = w.activeWeights();
      std::vector<float> values(w.values, w.values + n), mom(w.momentum, w.momentum + n);
      std::vector<float> biasV, biasM, biasG(g.O);
      if (w.bias) {
        biasV.assign(w.bias, w.bias + g.O);
        biasM.assign(w.biasMomentum, w.biasMomentum + g.O);
      }
      conv2dBackwardWeight(g, in.data(), dout.data(), w, w.bias ? biasG.data() : nullptr);
      std::vector<float> grads(w.grads, w.grads + n);
      std::fill(w.grads, w.grads + n, -1.0f);
      const float lr = 0.05f, mu = 0.9f, wd = 1e-3f;
      sgdUpdate(n, values.data(), grads.data(), mom.data(), lr, mu, wd);
      if (w.bias) sgdUpdate(g.O, biasV.data(), biasG.data(), biasM.data(), lr, mu, wd);
      k.bwdWeight(state.bytes, in.data(), dout.data(), lr, mu, wd);
      CHECK(maxRelError(w.grads, grads.data(), n) < 1e-4);
      CHECK(maxRelError(w.values, values.data(), n) < 1e-4);
      CHECK(maxRelError(w.momentum, mom.data(), n) < 1e-4);
      if (w.bias) {
        CHECK(maxRelError(w.bias, biasV.data(), g.O) < 1e-4);
        CHECK(maxRelError(w.biasGrad, biasG.data(), g.O) < 1e-4);
      }
      // Inactive capacity stays untouched (zero) after the fused update.
      for (int64_t v = n; v < w.capacityWeights(); ++v) REQUIRE(w.values[v] == 0.0f);
    }
  }
}
