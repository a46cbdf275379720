//===- RunLog.h - what a training run reports ------------------------------===//
//
// OUT/metrics.jsonl, one JSON object per epoch (docs/training.md lists the
// fields), the line each epoch prints, and the summary at the end. Rank 0
// writes the file and prints the summary.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_RUNLOG_H
#define MEST_RUNTIME_DRIVER_RUNLOG_H

#include "runtime/driver/Evaluation.h"
#include "runtime/driver/Model.h"
#include "runtime/driver/MutationEvents.h"
#include "runtime/driver/Progress.h"

#include <cstdint>
#include <string>
#include <utility>

namespace mest::rt {

/// One epoch as the metrics and the epoch line report it.
struct EpochRecord {
  int epoch = 0, epochs = 0;  // epoch from 0
  float rate = 0;  // the learning rate, as the step takes it
  int64_t trained = 0;  // examples trained on in this epoch
  double lossSum = 0, correctSum = 0;
  EvalResult eval;  // on the test or validation set
  bool validation = false;
  MutationEvent mutation;
  int64_t examplesUsed = 0, examplesProcessed = 0;
  double epochSeconds = 0, trainSeconds = 0;
  // Data-parallel replicas (1: alone, none of the below is written).
  int replicas = 1;
  double allreduceSeconds = 0, bnSyncSeconds = 0;
  int64_t allreduceFloats = 0, denseFloats = 0, bnSyncCalls = 0;
};

/// The end of a run, as its summary prints it.
struct RunSummary {
  std::string data, mutation;
  int epochs = 0;
  bool validation = false;
  double finalAccuracy = 0, bestAccuracy = 0;
  int bestEpoch = 0;  // from 0
  int64_t examplesProcessed = 0;
  double seconds = 0;
  std::string model, metrics, checkpoint;  // the files written
  double plannedBytes = 0;  // state + arena + scratch for `threads`
  int threads = 1;
};

class RunLog {
public:
  /// Rank 0 (`lead`) writes the metrics file at `path`.
  RunLog(std::string path, bool lead, Progress &progress)
      : path_(std::move(path)), lead_(lead), progress_(progress) {}

  /// A fresh run: an empty metrics file.
  void start();
  /// A resumed run: only the epochs before `epoch` stay.
  void keepEpochsBefore(int epoch);
  /// Appends the epoch's metrics and prints its line.
  void epoch(const EpochRecord &r, Model &model);
  /// Prints the run's summary (rank 0).
  void summary(const RunSummary &s, Model &model) const;

private:
  std::string path_;
  const bool lead_;
  Progress &progress_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_RUNLOG_H
