// A loaded state block is checked before use (runtime/formats/StateCheck.h):
// states training produces pass, every broken invariant is named. And the
// active count of a dense layer, against a count of its decoded weights.
#include "TestUtil.h"

#include "runtime/formats/StateCheck.h"

#include <cstring>
#include <limits>

using namespace mest::test;

namespace {

/// Positions the decoded (densified) layer covers: an independent count.
int64_t countDecoded(const CompressedWeights &w) {
  std::vector<float> dense(w.spec.shape.numel()), ones(w.capacityWeights(), 1.0f);
  w.densify(ones.data(), dense.data());
  return std::count_if(dense.begin(), dense.end(), [](float v) { return v != 0.0f; });
}

} // namespace

TEST_CASE("a dense layer zero-filled after binding counts all its weights", "[state]") {
  // Model::initialize zero-fills the whole state block after the views bind it.
  WeightSpec spec = makeSpec(Scheme::Dense, {8, 3, 3, 3}, 0.0, 0.0);
  CompressedWeights w(spec);
  std::memset(w.base, 0, w.stateBytes());
  MutationScratch scratch({&w});
  Rng rng(5);
  initialize(w, 1.0, rng, scratch);
  CHECK(countDecoded(w) == 8 * 3 * 3 * 3);
  CHECK(w.activeWeights() == countDecoded(w));
  CHECK(w.sparsity() == 0.0);
  // A file written before the fix holds 0 there: the check restores the count.
  w.header[0] = 0;
  CHECK(checkLayerState(w).empty());
  CHECK(w.activeWeights() == 216);
}

TEST_CASE("states that initialisation and mutation produce pass the check", "[state]") {
  Rng rng(11);
  for (Scheme s : {Scheme::Unstructured, Scheme::Channel, Scheme::Block, Scheme::Pattern}) {
    SparseLayer l(makeSpec(s, {8, 20, 3, 3}, 0.8, 0.7), rng);
    MutationScratch scratch({&l.w});
    INFO(schemeName(s));
    CHECK(checkLayerState(l.w) == "");
    CHECK(l.w.activeWeights() == countDecoded(l.w));
    prune(l.w, 0.85, scratch);
    grow(l.w, 0.75, rng, scratch);
    CHECK(checkLayerState(l.w) == "");
    CHECK(l.w.activeWeights() == countDecoded(l.w));
  }
}

TEST_CASE("impossible layer states are named", "[state]") {
  Rng rng(12);
  auto fresh = [&](Scheme s) {
    return std::make_unique<SparseLayer>(makeSpec(s, {8, 20, 3, 3}, 0.8, 0.7), rng);
  };
  {
    auto l = fresh(Scheme::Unstructured);
    l->w.header[0] = l->w.capacityUnits + 1;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("active units, the compiled capacity is"));
  }
  {
    auto l = fresh(Scheme::Unstructured);
    l->w.index[3] = 180;  // columns are 0..179
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("unit 3 has index 180, expected 0 to 179"));
  }
  {
    auto l = fresh(Scheme::Unstructured);
    std::swap(l->w.index[0], l->w.index[1]);
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("units 0 and 1 are out of order"));
  }
  {
    auto l = fresh(Scheme::Block);
    l->w.groupPtr[1] = l->w.groupPtr[2] + 1;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("holds -1 units"));
  }
  {
    auto l = fresh(Scheme::Block);
    l->w.groupPtr[l->w.numGroups] -= 1;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("row pointers end at"));
  }
  {
    auto l = fresh(Scheme::Channel);
    l->w.index[1] = l->w.index[0];
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("out of order or repeated"));
  }
  {
    auto l = fresh(Scheme::Pattern);
    l->w.header[1] += 1;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("kernels per filter"));
  }
  {
    auto l = fresh(Scheme::Pattern);
    l->w.patternId[0] = 200;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("kernel 0 has pattern 200"));
  }
  {
    auto l = fresh(Scheme::Pattern);
    int32_t *pc = l->w.patternCount;
    int64_t p = 0;
    while (pc[p] == 0) ++p;  // move one kernel of filter 0 to another pattern's count
    pc[p] -= 1, pc[(p + 1) % l->w.spec.patterns.count] += 1;
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("filter 0:"));
  }
  {
    auto l = fresh(Scheme::Pattern);
    l->w.values[5] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("weight 5 is NaN"));
  }
  {
    auto l = fresh(Scheme::Block);
    l->w.momentum[2] = std::numeric_limits<float>::infinity();
    CHECK_THAT(checkLayerState(l->w), Catch::Contains("momentum 2 is +infinite"));
  }
}

TEST_CASE("impossible batch-norm states are named", "[state]") {
  const int64_t C = 4;
  BatchNormStateLayout l = batchNormStateLayout(C);
  std::vector<uint8_t> block(l.total, 0);
  auto at = [&](int64_t off) { return reinterpret_cast<float *>(block.data() + off); };
  for (int64_t c = 0; c < C; ++c) at(l.params)[c] = 1.0f, at(l.runVar)[c] = 1.0f;
  CHECK(checkBatchNormState(block.data(), C) == "");
  at(l.runVar)[2] = -1.0f;
  CHECK_THAT(checkBatchNormState(block.data(), C), Catch::Contains("running variance 2 is negative"));
  at(l.runVar)[2] = 1.0f;
  at(l.params)[C + 1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THAT(checkBatchNormState(block.data(), C), Catch::Contains("shift 1 is NaN"));
}
