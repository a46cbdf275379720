//===- Model.h - a compiled model's state, as the driver sees it ----------===//
//
// Owns the state block and the arena of a compiled model (sizes from its
// descriptor) and gives CompressedWeights views of its sparse layers: the one
// place where the driver touches parameters.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_MODEL_H
#define MEST_RUNTIME_DRIVER_MODEL_H

#include "runtime/abi/mest_abi.h"
#include "runtime/formats/CompressedWeights.h"
#include "runtime/mutation/Mutation.h"

#include <memory>
#include <string>
#include <vector>

namespace mest::rt {

/// The WeightSpec of a conv2d or linear layer of a descriptor.
WeightSpec weightSpecOf(const mest_layer_desc &layer);

class Model {
public:
  explicit Model(const mest_model_desc *desc);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const mest_model_desc &desc() const { return *desc_; }
  uint8_t *state() { return state_; }
  uint8_t *arena() { return arena_; }

  /// Conv2d and linear layers, in model order (dense ones included).
  std::vector<std::unique_ptr<CompressedWeights>> &weights() { return weights_; }
  bool isSparse(const CompressedWeights &w) const { return w.spec.scheme != Scheme::Dense; }

  /// Fresh parameters: Kaiming-normal convolutions (at their target sparsity),
  /// N(0, 0.01) linear layers with zero bias, batch norm scale 1 and shift 0,
  /// running mean 0 and variance 1; then the regrouping hook.
  void initialize(Rng &rng, int threads);
  /// Calls the compiled regrouping hook; returns its wall time in ms.
  double afterMutation(int threads);

  /// The first layer whose state breaks its format's invariants
  /// (runtime/formats/StateCheck.h), as "layer NAME: problem"; "" when none.
  std::string checkState();
  /// Copies a state block read from `path` in and checks it; throws naming the
  /// file, the layer and the problem.
  void loadState(const std::vector<uint8_t> &bytes, const std::string &path);

  /// 64-bit FNV-1a of every sparse layer's mask (counts, indices, group
  /// starts, pattern ids): equal on data-parallel replicas after a mutation.
  uint64_t maskChecksum() const;
  /// The same over the whole state block but the dropout seed.
  uint64_t stateChecksum() const;
  /// Writes the dropout stream's seed for --seed `seed` on replica `rank`
  /// (runtime/formats/DropoutStream.h) and, for a fresh run, zeroes its step
  /// counter; a resumed run continues the checkpoint's. No-op without dropout.
  void seedDropout(uint64_t seed, int64_t rank, bool fresh);

  MutationScratch &scratch() { return *scratch_; }
  int64_t totalWeights() const;   // all conv/linear weights, dense count
  int64_t activeWeights() const;  // those stored now

private:
  const mest_model_desc *desc_;
  uint8_t *state_ = nullptr, *arena_ = nullptr;
  std::vector<std::unique_ptr<CompressedWeights>> weights_;
  std::unique_ptr<MutationScratch> scratch_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_MODEL_H
