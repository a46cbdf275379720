//===- MestDialect.h - the mest dialect -----------------------------------===//
#ifndef MEST_DIALECT_MESTDIALECT_H
#define MEST_DIALECT_MESTDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/MestDialect.h.inc"
#include "dialect/MestEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/MestAttrs.h.inc"

#include <string>

namespace mest {
/// The memory-effect resource of the model's layer state.
struct StateResource : public mlir::SideEffects::Resource::Base<StateResource> {
  llvm::StringRef getName() final { return "mest.state"; }
};

/// The shortest decimal that parses back to `v` ("0.9", not "9.000000e-01"), used
/// by the printer and by diagnostics.
std::string shortestDecimal(double v);
} // namespace mest

#include "dialect/MestOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/MestOps.h.inc"

#endif // MEST_DIALECT_MESTDIALECT_H
