//===- RuntimeCalls.h - calls from generated code into the runtime --------===//
//
// Layers not yet generated (batch norm, pooling, the loss) and the regrouping
// hook call the runtime's C entry points (runtime/abi/StepKernels.cpp). Pointers
// cross as `memref<1xT>` under the bare-pointer calling convention, i.e. as
// plain `T *` in C.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_RUNTIMECALLS_H
#define MEST_CODEGEN_RUNTIMECALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mest::codegen {

/// `memref<1 x elem>` aliasing the first element of `mem` (any static memref).
mlir::Value asPointer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value mem);

/// Calls the runtime function `name`, declaring it on first use from the
/// argument types.
void callRuntime(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                 llvm::StringRef name, mlir::ValueRange args);
/// The same for a function returning one `result`; returns its value.
mlir::Value callRuntime(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                        llvm::StringRef name, mlir::ValueRange args, mlir::Type result);

} // namespace mest::codegen

#endif // MEST_CODEGEN_RUNTIMECALLS_H
