//===- PoolLossKernels.h - generated pooling and loss kernels ---*- C++ -*-===//
//
// Global average pooling and the softmax cross-entropy of the steps as
// generated code (the C++ kernels of runtime/kernels/ are their oracle).
// Arrays are flat memrefs.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_POOLLOSSKERNELS_H
#define MEST_CODEGEN_POOLLOSSKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mest::codegen {

/// (in[N*C*HW], out[N*C]): each plane's mean.
mlir::func::FuncOp buildGlobalAvgPoolForward(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                             int64_t C, int64_t HW, int64_t vectorWidth,
                                             llvm::StringRef name);
/// (dout[N*C], din[N*C*HW]): dout / HW over each plane.
mlir::func::FuncOp buildGlobalAvgPoolBackward(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                              int64_t C, int64_t HW, int64_t vectorWidth,
                                              llvm::StringRef name);
/// (logits[N*K], labels[N] i32, loss[N], correct[N] i8, margin[N]): per
/// example log-sum-exp minus the label's logit (in f64), arg-max == label, and
/// the label's logit minus the largest other one.
mlir::func::FuncOp buildSoftmaxCrossEntropyForward(mlir::OpBuilder &b, mlir::Location loc,
                                                   int64_t N, int64_t K, llvm::StringRef name);
/// (logits[N*K], labels[N] i32, dlogits[N*K]): (softmax - onehot) / N.
mlir::func::FuncOp buildSoftmaxCrossEntropyBackward(mlir::OpBuilder &b, mlir::Location loc,
                                                    int64_t N, int64_t K, llvm::StringRef name);

} // namespace mest::codegen

#endif // MEST_CODEGEN_POOLLOSSKERNELS_H
