//===- LinkExecutable.h - mestc --emit exe: a training binary -----*- C++ -*-===//
//
// Links a compiled model (its object and header) with the runtime and the
// training driver into a training binary for this machine, with the system's
// clang. The libraries are found next to mestc: the installed layout
// (<prefix>/bin/mestc, <prefix>/lib/mest, <prefix>/include/mest), else the
// build tree mestc was built in.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TOOLS_MESTC_LINKEXECUTABLE_H
#define MEST_TOOLS_MESTC_LINKEXECUTABLE_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mest {

/// Writes the training binary `output` from `object` and `header` (files);
/// `argv0` locates mestc. Returns false with `error` set (naming what is
/// missing or the command that failed).
bool linkTrainingBinary(llvm::StringRef argv0, llvm::StringRef object, llvm::StringRef header,
                        llvm::StringRef output, std::string &error);

} // namespace mest

#endif // MEST_TOOLS_MESTC_LINKEXECUTABLE_H
