//===- OneShotCommands.h - what a training binary does besides training ---===//
//
// --report, --predict, --export-onnx and --eval-only: each reads a file,
// writes or prints its answer and ends the process, in one process (refused
// under mpirun).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_ONESHOTCOMMANDS_H
#define MEST_RUNTIME_DRIVER_ONESHOTCOMMANDS_H

#include "runtime/driver/Options.h"

namespace mest::rt {

/// Whether the options ask for one of these instead of training.
bool isOneShotCommand(const Options &o);

/// --report FILE: the forgetting histogram of a statistics file (and --plot,
/// and which examples --remove would drop).
int reportForgetting(const Options &o);
/// --predict IMAGES.npy: the logits of --model (or --init) for every image.
int predict(const Options &o);
/// --export-onnx FILE: --model (or --init) as an ONNX file.
int exportOnnx(const Options &o);
/// --eval-only FILE: accuracy and loss of a trained model on --data's test set.
int evalOnly(const Options &o);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_ONESHOTCOMMANDS_H
