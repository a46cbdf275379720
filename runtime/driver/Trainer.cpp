//===- Trainer.cpp - what a training binary runs ---------------------------===//
#include "runtime/driver/Trainer.h"

#include "runtime/driver/Distributed.h"
#include "runtime/driver/EpochLoop.h"
#include "runtime/driver/OneShotCommands.h"
#include "runtime/support/Error.h"

#include <omp.h>

#include <algorithm>

namespace mest::rt {

namespace {
/// --threads, else the machine's cores shared among the ranks on it.
int setThreads(const Options &o, const Replicas &replicas) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  else if (replicas.localSize() > 1)
    omp_set_num_threads(std::max(1, omp_get_num_procs() / replicas.localSize()));
  return omp_get_max_threads();
}
} // namespace

int runTrainingBinary(const Options &o) {
  Replicas &replicas = Replicas::current();
  if (!replicas.alone() && isOneShotCommand(o))
    throw Error("--report, --predict, --export-onnx and --eval-only run in one process: "
                "without mpirun");
  if (!o.report.empty()) return reportForgetting(o);  // reads a file only
  const int threads = setThreads(o, replicas);
  if (!o.predict.empty()) return predict(o);
  if (!o.exportOnnx.empty()) return exportOnnx(o);
  if (!o.evalOnly.empty()) return evalOnly(o);
  return train(o, threads);
}

} // namespace mest::rt
