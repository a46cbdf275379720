// Load balancing after mutation: the order regroup() writes gives every chunk of
// OpenMP's static schedule about the same work; pattern-mix keeps filters whole.
#include "TestUtil.h"

#include "runtime/mutation/Regroup.h"

#include <algorithm>
#include <numeric>

using namespace mest::test;

TEST_CASE("balance-nnz evens out the work of the threads' chunks", "[regroup]") {
  // 16 rows of 64 columns; row o keeps o * 4 weights (skewed: the identity order
  // gives chunk 0 rows 0-7 = 112 weights and chunk 1 rows 8-15 = 368).
  WeightSpec spec = makeSpec(Scheme::Unstructured, {16, 64, 1, 1}, 0.5, 0.0);
  CompressedWeights w(spec);
  std::vector<float> dense(16 * 64, 0.0f);
  for (int o = 0; o < 16; ++o)
    for (int k = 0; k < o * 4; ++k) dense[o * 64 + k] = 1.0f;
  w.loadDense(dense.data());
  int64_t work[2];
  regroup(w, RegroupPolicy::None, 2);
  chunkWork(w, 2, work);
  CHECK(work[0] == 112);
  CHECK(work[1] == 368);
  regroup(w, RegroupPolicy::BalanceNnz, 2);
  chunkWork(w, 2, work);
  CHECK(work[0] + work[1] == 480);
  CHECK(std::abs(work[0] - work[1]) <= 8);
  // The order is a permutation of the filters.
  std::vector<int32_t> order(w.order, w.order + 16);
  std::sort(order.begin(), order.end());
  std::vector<int32_t> identity(16);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(order == identity);
}

TEST_CASE("static chunks follow libomp's default split", "[regroup]") {
  int64_t sizes[3];
  staticChunks(10, 3, sizes);
  CHECK(std::vector<int64_t>(sizes, sizes + 3) == std::vector<int64_t>{4, 4, 2});
}
