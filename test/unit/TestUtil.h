// Helpers shared by the runtime unit tests.
#ifndef MEST_TEST_UNIT_TESTUTIL_H
#define MEST_TEST_UNIT_TESTUTIL_H

#include "runtime/formats/CompressedWeights.h"
#include "runtime/kernels/Reference.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Rng.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

namespace mest::test {

using namespace mest::rt;

inline std::vector<float> randomVector(int64_t n, Rng &rng, double scale = 1.0) {
  std::vector<float> v(n);
  for (float &x : v) x = static_cast<float>(scale * rng.normal());
  return v;
}

inline WeightSpec makeSpec(Scheme scheme, WeightShape shape, double target, double capacity,
                           int32_t blockRows = 4) {
  WeightSpec spec;
  spec.name = "test";
  spec.shape = shape;
  spec.scheme = scheme;
  spec.target = target;
  spec.capacity = capacity;
  spec.blockRows = blockRows;
  return spec;
}

/// A layer initialised at its target with the runtime's own initialiser, and
/// its densified weights.
struct SparseLayer {
  CompressedWeights w;
  std::vector<float> dense;
  SparseLayer(const WeightSpec &spec, Rng &rng) : w(spec), dense(spec.shape.numel()) {
    MutationScratch scratch({&w});
    initialize(w, 1.0, rng, scratch);
    w.densify(w.values, dense.data());
  }
};

/// Largest |a - b| relative to max(1, |b|) over two arrays.
inline double maxRelError(const float *a, const float *b, int64_t n) {
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(double(b[i]))));
  return worst;
}

/// Central finite difference of f at x[i] (float64 accumulation in f).
inline double finiteDiff(const std::function<double()> &f, float &xi, double h = 1e-2) {
  const float saved = xi;
  xi = static_cast<float>(saved + h);
  double up = f();
  xi = static_cast<float>(saved - h);
  double down = f();
  xi = saved;
  return (up - down) / (2.0 * h);
}

/// Loss = sum(out * probe) in float64, the scalar all gradient checks use.
inline double dot(const std::vector<float> &a, const std::vector<float> &b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

} // namespace mest::test

#endif
