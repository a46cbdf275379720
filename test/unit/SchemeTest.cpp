// Unit counts of runtime/formats/Scheme.h against hand-computed values.
#include "runtime/formats/Scheme.h"

#include <catch2/catch.hpp>

using namespace mest::rt;

TEST_CASE("active units round the pruned count to nearest", "[scheme]") {
  CHECK(activeUnits(100, 0.9) == 10);
  CHECK(activeUnits(7, 0.5) == 3);  // round(3.5) = 4 pruned
  CHECK(activeUnits(9, 0.0) == 9);
}

TEST_CASE("pattern sparsity converts to kernel sparsity once", "[scheme]") {
  CHECK(patternKernelSparsity(0.9) == Approx(0.775));
  CHECK(patternKernelSparsity(0.92) == Approx(0.82));
  CHECK(patternKernelSparsity(0.85) == Approx(0.6625));
  // 16x16 3x3 conv at 0.9: 16 - round(0.775 * 16) = 16 - 12 = 4 kernels per filter.
  WeightShape w{16, 16, 3, 3};
  CHECK(activeUnitsPerGroup(Scheme::Pattern, w, 0.9) == 4);
  CHECK(activeWeights(Scheme::Pattern, w, 0.9) == 16 * 4 * 4);
}

TEST_CASE("weights kept per scheme for a 16x16x3x3 conv at 0.9", "[scheme]") {
  WeightShape w{16, 16, 3, 3};  // 2304 weights
  CHECK(activeWeights(Scheme::Dense, w, 0.9) == 2304);
  CHECK(activeWeights(Scheme::Unstructured, w, 0.9) == 2304 - 2074);  // round(2073.6)
  CHECK(activeWeights(Scheme::Channel, w, 0.9) == 2 * 144);            // 16 - round(14.4)
  CHECK(activeWeights(Scheme::Block, w, 0.9) == (576 - 518) * 4);      // round(518.4)
}

TEST_CASE("storage bytes count values three times plus metadata", "[scheme]") {
  WeightShape w{16, 16, 3, 3};
  StorageBytes u = storageBytes(Scheme::Unstructured, w, 0.9);
  CHECK(u.values == 230 * 4);
  CHECK(u.indices == 230 * 4 + 17 * 4);
  CHECK(u.total() == 3 * 920 + 988);
  StorageBytes p = storageBytes(Scheme::Pattern, w, 0.9);
  CHECK(p.values == 16 * 4 * 4 * 4);
  CHECK(p.indices == 16 * 4 * 5 + 16 * 8 * 4);
}
