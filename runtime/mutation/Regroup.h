//===- Regroup.h - load-balanced work order after a mutation --------------===//
//
// The generated backward-weight kernels run a parallel loop over filters (block:
// groups of filters) in the order stored in the layer's `order` array; OpenMP's
// static schedule hands each thread one contiguous chunk of that loop. After
// every mutation the runtime rewrites the order with the policy the compiler
// chose (mest-group-filters):
//   balance-nnz: units sorted by active weights, heaviest first, each given to
//     the chunk with the least work that still has room, so every chunk
//     carries about the same number of weights;
//   pattern-mix: filters sorted by their pattern histogram (filter balance
//     already equalises work), so filters with the same mix run together.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_MUTATION_REGROUP_H
#define MEST_RUNTIME_MUTATION_REGROUP_H

#include "runtime/formats/CompressedWeights.h"

namespace mest::rt {

enum class RegroupPolicy : int32_t { None = 0, BalanceNnz = 1, PatternMix = 2 };

/// Chunk sizes of libomp's default static schedule: ceil(n / threads) per
/// thread, the last ones taking what is left.
void staticChunks(int64_t n, int threads, int64_t *sizes);

/// Rewrites w.order (identity for None). Allocation-free for up to 4096 units
/// and 256 threads; larger layers fall back to a sort by index.
void regroup(CompressedWeights &w, RegroupPolicy policy, int threads);

/// Work (active weights) of each chunk of the parallel loop under `threads`.
void chunkWork(const CompressedWeights &w, int threads, int64_t *work);

} // namespace mest::rt

#endif // MEST_RUNTIME_MUTATION_REGROUP_H
