//===- Passes.h - mest pass declarations ----------------------------------===//
#ifndef MEST_PASSES_PASSES_H
#define MEST_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mest {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mest

#endif // MEST_PASSES_PASSES_H
