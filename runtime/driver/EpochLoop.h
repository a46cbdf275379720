//===- EpochLoop.h - a training run, epoch by epoch ------------------------===//
//
// Sets the run up (RunSetup.h), starts it fresh or from a checkpoint, then per
// epoch: the mutation event and the example removal (the epoch hooks), the
// shuffled batches through the step runner, the evaluation, the metrics and
// the checkpoint. At the end it exports the trained sparse model.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_EPOCHLOOP_H
#define MEST_RUNTIME_DRIVER_EPOCHLOOP_H

#include "runtime/driver/Options.h"

namespace mest::rt {

/// Trains as `o` asks with `threads` OpenMP threads; returns the exit code.
int train(const Options &o, int threads);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_EPOCHLOOP_H
