//===- Trainer.h - what a training binary runs -----------------------------===//
//
// The options choose one of the one-shot commands (OneShotCommands.h) or a
// training run (EpochLoop.h); this sets the OpenMP threads once for either.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_TRAINER_H
#define MEST_RUNTIME_DRIVER_TRAINER_H

#include "runtime/driver/Options.h"

namespace mest::rt {

/// Runs what the options ask (train, resume, evaluate, report); returns the
/// process exit code. Throws Error on bad input.
int runTrainingBinary(const Options &options);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_TRAINER_H
