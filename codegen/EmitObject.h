//===- EmitObject.h - LLVM dialect to an object file ----------------------===//
#ifndef MEST_CODEGEN_EMITOBJECT_H
#define MEST_CODEGEN_EMITOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mest {

struct TargetOptions {
  std::string triple;    // empty: the host
  std::string cpu;       // empty: the host CPU for the host, "generic" otherwise
  std::string features;  // empty: the host's features for the host
  unsigned optLevel = 2;  // mestc -O
};

/// Translates an LLVM-dialect module to LLVM IR, optimises it and writes an
/// object file (or textual LLVM IR when `emitLLVM`). Errors go to `error`.
mlir::LogicalResult emitObject(mlir::ModuleOp module, const TargetOptions &target,
                               bool emitLLVM, llvm::raw_pwrite_stream &os, std::string &error);

} // namespace mest

#endif // MEST_CODEGEN_EMITOBJECT_H
