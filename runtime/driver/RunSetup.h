//===- RunSetup.h - what a run checks and loads before its first epoch ----===//
//
// Everything that can be refused without training is refused here, before any
// work: a model not compiled for the replicas it is run on, an output place
// that cannot be written, data that does not fit the model or the batch. Then
// nothing fails only at the end of training or at the removal epoch.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_RUNSETUP_H
#define MEST_RUNTIME_DRIVER_RUNSETUP_H

#include "runtime/abi/mest_abi.h"
#include "runtime/driver/Dataset.h"
#include "runtime/driver/Distributed.h"
#include "runtime/driver/Options.h"

#include <string>

namespace mest::rt {

/// Refuses a model that cannot train as one of several replicas, and makes its
/// batch norms sum over them under --sync-bn on. Nothing alone.
void prepareReplicas(const mest_model_desc &desc, const Options &o, Replicas &replicas);

/// The files a training run writes.
struct RunOutputs {
  std::string checkpoint, metrics, model;
  bool everyRankExports = false;  // --export with "{rank}": each rank its own model
};
RunOutputs runOutputs(const Options &o, int rank);
/// Creates --out and checks that every output can be written; removes the
/// temporaries an interrupted earlier run left (saying so).
void checkOutputs(const Options &o, const RunOutputs &out);

/// The training and test (or validation) sets as the options cut them.
struct RunData {
  DataSource src;
  Dataset train, test;
};
/// Loads `src`'s sets; throws unless they fit the model and hold a global
/// batch of `replicas` x the compiled batch, also after --remove.
RunData loadRunData(const Options &o, const mest_model_desc &desc, DataSource src, int replicas);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_RUNSETUP_H
