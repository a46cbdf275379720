//===- StepKernels.cpp - runtime entry points called by generated code ----===//
//
// The C functions generated code calls: the regrouping after mutation, the
// thread count, and the sum of batch-norm statistics across data-parallel
// replicas. Every op of a step is generated (codegen/); the reference
// kernels of runtime/kernels/ are only the tests' oracle.
//
//===----------------------------------------------------------------------===//
#include "runtime/abi/mest_abi.h"
#include "runtime/kernels/Reference.h"
#include "runtime/mutation/Regroup.h"

#include <omp.h>

#include <cstddef>

using namespace mest::rt;

extern "C" {

// The compiler writes the parameters as ten 8-byte words (LowerKernels.cpp).
static_assert(sizeof(mest_rt_regroup_params) == 80 &&
                  offsetof(mest_rt_regroup_params, capacity) == 72,
              "mest_rt_regroup_params is ten 8-byte fields");

void mest_rt_regroup(uint8_t *base, const mest_rt_regroup_params *p, int32_t threads) {
  WeightSpec spec;
  spec.shape = {p->out_channels, p->in_channels, p->kernel_h, p->kernel_w};
  spec.scheme = static_cast<Scheme>(p->scheme);
  spec.target = spec.capacity = p->capacity;
  spec.blockRows = static_cast<int32_t>(p->block_rows);
  spec.patterns.count = static_cast<int32_t>(p->num_patterns);
  spec.bias = p->has_bias != 0;
  CompressedWeights w(spec, base);
  regroup(w, static_cast<RegroupPolicy>(p->policy), threads);
}

/// The number of chunks padded backward-weight kernels split their filters
/// into: one per OpenMP thread, as the regrouping assumed.
int64_t mest_rt_parallel_chunks(void) { return omp_get_max_threads(); }

namespace {
mest_rt_replica_sum_fn replicaSum = nullptr;
void *replicaSumContext = nullptr;
} // namespace

void mest_rt_set_replica_sum(mest_rt_replica_sum_fn fn, void *context) {
  replicaSum = fn;
  replicaSumContext = context;
}

/// Alone (no function set, or the driver's --sync-bn off) the sums stay this
/// replica's: one replica.
int64_t mest_rt_sum_across_replicas(double *sums, int64_t count) {
  return replicaSum ? replicaSum(sums, count, replicaSumContext) : 1;
}

} // extern "C"
