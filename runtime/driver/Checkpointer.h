//===- Checkpointer.h - a training run's checkpoints and --resume ---------===//
//
// After every --checkpoint-every epochs (and the last) the state is checked
// (finite, in format, equal on every replica) and rank 0 writes it atomically
// with the run's configuration key; --resume reads such a file back only when
// the key and every counter fit this run. A run that diverges stops, saying
// which checkpoint holds its last good state.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_CHECKPOINTER_H
#define MEST_RUNTIME_DRIVER_CHECKPOINTER_H

#include "runtime/driver/Distributed.h"
#include "runtime/driver/Options.h"
#include "runtime/driver/Schedule.h"
#include "runtime/driver/TrainingState.h"

#include <string>
#include <utility>

namespace mest::rt {

/// The options every step depends on, as text: a checkpoint continues only a
/// run with the same, and every replica must train with the same.
std::string runConfig(const Options &o, const MutationSchedule &schedule, int replicas);

class Checkpointer {
public:
  /// Rank 0 (`lead`) writes `path`.
  Checkpointer(std::string path, std::string config, Replicas &replicas, bool lead)
      : path_(std::move(path)), config_(std::move(config)), replicas_(replicas), lead_(lead) {}

  /// Restores `state` from the checkpoint `from`; throws naming the file and
  /// what does not fit the run of `o` with this global batch.
  void resume(const std::string &from, TrainingState &state, const Options &o,
              int64_t globalBatch, int threads);
  /// After epoch `nextEpoch` - 1: checks the state and writes the checkpoint.
  void save(int nextEpoch, TrainingState &state);

  /// Ends a run whose loss or state stopped being finite: nothing after the
  /// last good checkpoint is saved, and the message says where it happened.
  [[noreturn]] void diverged(const std::string &what) const;

private:
  std::string path_, config_;
  Replicas &replicas_;
  const bool lead_;
  int savedEpochs_ = 0;  // what the checkpoint on disk holds
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_CHECKPOINTER_H
