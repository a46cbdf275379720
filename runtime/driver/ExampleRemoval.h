//===- ExampleRemoval.h - data efficiency as an epoch hook ----------------===//
//
// --remove-epoch E --remove N|FRACTION: at the start of epoch E the N
// least-forgotten training examples (Forgetting.h) are dropped for the rest of
// the run, once. The statistics come from this run's records, or from an
// existing --forgetting-stats file (phase 1 of an earlier run), which is then
// never overwritten; otherwise this run's are saved there at the removal.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_EXAMPLEREMOVAL_H
#define MEST_RUNTIME_DRIVER_EXAMPLEREMOVAL_H

#include "runtime/driver/Dataset.h"
#include "runtime/driver/Forgetting.h"
#include "runtime/driver/Options.h"
#include "runtime/driver/Progress.h"
#include "runtime/driver/TrainingState.h"

#include <functional>
#include <optional>
#include <string>

namespace mest::rt {

/// How many examples --remove drops from `examples`; refused when that is all of
/// them or leaves less than one batch of `batch` (0: no batch check).
int64_t removalCount(const Options &o, int64_t examples, int64_t batch);

/// Logs the forgetting histogram through `print`, and plots it to `plot`
/// unless that is empty.
void printHistogram(const Forgetting &f, const std::function<void(const std::string &)> &print,
                    const std::string &plot);

class ExampleRemoval {
public:
  /// Loads an existing --forgetting-stats file (refused without --remove-epoch).
  ExampleRemoval(const Options &o, const Dataset &train, int64_t globalBatch, bool lead,
                 Progress &progress);

  /// Drops the least-forgotten examples from `state.kept` when `epoch` (from 0)
  /// is the removal epoch and nothing was removed yet.
  void atEpochStart(int epoch, TrainingState &state);

private:
  const Options &o_;
  const Dataset &train_;
  const int64_t globalBatch_;
  const bool lead_;  // writes the statistics and the plot
  Progress &progress_;
  std::optional<Forgetting> preloaded_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_EXAMPLEREMOVAL_H
