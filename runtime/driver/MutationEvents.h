//===- MutationEvents.h - the mutation schedule as an epoch hook ----------===//
//
// --mutation, --prune-to/--grow-to, --mutate-every and --decay-epochs become
// one MutationSchedule, checked against every layer's compiled capacity before
// training. At an event epoch, before its first batch, every sparse layer is
// pruned and grown in place, regrouped, and (data-parallel) its masks compared
// across the ranks.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_MUTATIONEVENTS_H
#define MEST_RUNTIME_DRIVER_MUTATIONEVENTS_H

#include "runtime/driver/Distributed.h"
#include "runtime/driver/Model.h"
#include "runtime/driver/Options.h"
#include "runtime/driver/Progress.h"
#include "runtime/driver/Schedule.h"
#include "runtime/driver/TrainingState.h"

#include <cstdint>

namespace mest::rt {

/// The schedule the options ask for; throws when it grows a layer past its
/// compiled capacity (--mutation auto falls back from ems to em, saying so).
MutationSchedule buildSchedule(const Options &o, Model &model, Progress &progress);

/// What the event at the start of an epoch did (all zero without one).
struct MutationEvent {
  bool happened = false;
  int64_t pruned = 0, grown = 0;  // weights
  double mutateMs = 0, regroupMs = 0;
};

class MutationEvents {
public:
  MutationEvents(const MutationSchedule &schedule, Replicas &replicas, int threads,
                 Progress &progress)
      : schedule_(schedule), replicas_(replicas), threads_(threads), progress_(progress) {}

  /// Prunes and grows every sparse layer when `epoch` (from 0) opens with an event.
  MutationEvent atEpochStart(int epoch, TrainingState &state);

private:
  const MutationSchedule &schedule_;
  Replicas &replicas_;
  const int threads_;
  Progress &progress_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_MUTATIONEVENTS_H
