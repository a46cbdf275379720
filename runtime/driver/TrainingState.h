//===- TrainingState.h - what a checkpoint saves and --resume restores ----===//
//
// Besides the model's state block: the run's counters, both random generators,
// the forgetting statistics and the examples still trained on. The epoch loop,
// its hooks and the checkpointer share this one object.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_TRAININGSTATE_H
#define MEST_RUNTIME_DRIVER_TRAININGSTATE_H

#include "runtime/driver/Forgetting.h"
#include "runtime/driver/Model.h"
#include "runtime/support/Rng.h"

#include <cstdint>
#include <numeric>
#include <vector>

namespace mest::rt {

/// The checkpoint's RUN section, stored byte for byte: its layout is the
/// file format's.
struct RunState {
  int32_t nextEpoch = 0, bestEpoch = -1;
  double bestAccuracy = 0.0;
  int64_t examplesProcessed = 0;
  Rng::State dataRng{}, mutationRng{};
  int32_t removed = 0, reserved = 0;
};

struct TrainingState {
  TrainingState(Model &model, uint64_t seed, int64_t examples)
      : model(model), dataRng(seed), mutationRng(seed ^ 0x6d757461746f6eull),
        forgetting(examples), kept(examples) {
    std::iota(kept.begin(), kept.end(), 0);
  }

  Model &model;
  RunState run;
  Rng dataRng, mutationRng;  // shuffling and augmentation; growing
  Forgetting forgetting;
  std::vector<int64_t> kept;  // the training examples in use: all until --remove
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_TRAININGSTATE_H
