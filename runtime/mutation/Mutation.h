//===- Mutation.h - initialisation, prune and grow on compressed storage --===//
//
// The MEST mutation operators (spec sections 1-3), working directly on a layer's
// CompressedWeights. Counts are exact: a domain (the whole layer, or one filter
// for pattern) of U units keeps U - round(s * U) units at sparsity s, with s
// converted to kernel sparsity once for pattern (Scheme.h). Ranking is by |w|
// (single weights) or the unit's L2 norm, lowest first, ties by unit index
// (lower index goes first). Growing picks uniformly among empty units with the
// run's Rng; grown values and optimizer state are 0. Nothing here allocates:
// scratch is sized once for the largest layer (MutationScratch).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_MUTATION_MUTATION_H
#define MEST_RUNTIME_MUTATION_MUTATION_H

#include "runtime/formats/CompressedWeights.h"
#include "runtime/support/Rng.h"

#include <vector>

namespace mest::rt {

/// Work space for mutation and initialisation, allocated once for a set of layers.
class MutationScratch {
public:
  explicit MutationScratch(const std::vector<const CompressedWeights *> &layers);
  ~MutationScratch();
  MutationScratch(const MutationScratch &) = delete;
  MutationScratch &operator=(const MutationScratch &) = delete;

  int64_t *keys = nullptr, *newKeys = nullptr; // [maxCapacityUnits]
  float *score = nullptr;                      // [maxCapacityUnits]
  int32_t *order = nullptr;                    // [maxCapacityUnits]
  uint8_t *flags = nullptr;                    // [max(maxUnits, maxCapacityUnits)]
  float *unitBuf = nullptr;                    // [maxUnitSize]
  int64_t maxCapacityUnits = 0, maxFlags = 0, maxUnitSize = 0;

  /// Throws unless this scratch is large enough for `w`.
  void check(const CompressedWeights &w) const;
};

struct MutationCounts {
  int64_t pruned = 0;  // units removed
  int64_t grown = 0;   // units added
};

/// Standard deviation of Kaiming-normal initialisation (fan_out, ReLU gain):
/// sqrt(2 / (O * KH * KW)).
double kaimingStd(const WeightShape &shape);

/// Draws the layer's initial weights, N(0, stddev^2), straight into compressed
/// storage at the target sparsity: the result is distributed exactly as pruning
/// a freshly drawn dense tensor (pattern: each kernel takes its best-energy
/// pattern, then whole kernels are pruned per filter), but the dense tensor is
/// never built: units stream through a top-k selection held in the gradient
/// array. Gradients and momentum end at 0.
void initialize(CompressedWeights &w, double stddev, Rng &rng, MutationScratch &scratch);

/// Starts the layer from a dense tensor [O, I, KH, KW] (imported weights,
/// runtime --init): pruned once to the target with the same ranking as
/// initialize() (pattern: each kernel's best-energy pattern, then whole kernels
/// per filter by their norm). The caller's dense array is the one dense copy of
/// a sparse layer that ever exists, and it is the user's input, not training
/// state. Gradients and momentum end at 0.
void initializeFromDense(CompressedWeights &w, const float *dense, MutationScratch &scratch);

/// Removes the lowest-ranked units until the layer is at `toSparsity` (no-op when
/// it is already there or sparser).
MutationCounts prune(CompressedWeights &w, double toSparsity, MutationScratch &scratch);

/// Activates uniformly chosen empty units until the layer is at `toSparsity`
/// (no-op when already as dense). Pattern kernels get a uniformly drawn pattern.
/// Throws mest::rt::Error when the result would not fit the capacity.
MutationCounts grow(CompressedWeights &w, double toSparsity, Rng &rng,
                    MutationScratch &scratch);

/// Units in one mutation domain at a sparsity (layer-wide, or per filter for
/// pattern), and the current count.
int64_t domainUnitsAt(const CompressedWeights &w, double sparsity);
int64_t domainUnitsNow(const CompressedWeights &w);

} // namespace mest::rt

#endif // MEST_RUNTIME_MUTATION_MUTATION_H
