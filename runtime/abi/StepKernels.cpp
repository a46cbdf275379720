//===- StepKernels.cpp - runtime entry points called by generated code ----===//
//
// The C functions generated code calls: the regrouping after mutation and
// the thread count. Every op of a step is generated (codegen/); the reference
// kernels of runtime/kernels/ are only the tests' oracle.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Reference.h"
#include "runtime/mutation/Regroup.h"

#include <omp.h>

using namespace mest::rt;

extern "C" {

void mest_rt_regroup(uint8_t *base, int32_t policy, int32_t scheme, int64_t O, int64_t I,
                     int64_t KH, int64_t KW, double capacity, int64_t blockRows,
                     int64_t numPatterns, int32_t hasBias, int32_t threads) {
  WeightSpec spec;
  spec.shape = {O, I, KH, KW};
  spec.scheme = static_cast<Scheme>(scheme);
  spec.target = spec.capacity = capacity;
  spec.blockRows = static_cast<int32_t>(blockRows);
  spec.patterns.count = static_cast<int32_t>(numPatterns);
  spec.bias = hasBias != 0;
  CompressedWeights w(spec, base);
  regroup(w, static_cast<RegroupPolicy>(policy), threads);
}

/// The number of chunks padded backward-weight kernels split their filters
/// into: one per OpenMP thread, as the regrouping assumed.
int64_t mest_rt_parallel_chunks(void) { return omp_get_max_threads(); }

} // extern "C"
