//===- ModelHeader.h - the C header of a compiled model -------------------===//
#ifndef MEST_CODEGEN_MODELHEADER_H
#define MEST_CODEGEN_MODELHEADER_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mest {

/// Writes the C header of a planned module (after mest-plan-memory): the model
/// descriptor of runtime/abi/mest_abi.h, defined when the includer sets
/// MEST_DEFINE_MODEL_DESCRIPTOR. `fingerprint` identifies the compiled model.
mlir::FailureOr<std::string> writeModelHeader(mlir::ModuleOp planned, uint64_t fingerprint);

} // namespace mest

#endif // MEST_CODEGEN_MODELHEADER_H
