//===- NormKernels.h - generated batch-norm kernels -------------*- C++ -*-===//
//
// Batch norm of the train and eval steps as generated code, parallel over
// channels, with the epilogues and prologues mest-form-kernels attaches. The
// C++ kernels of runtime/kernels/ stay the oracle they are tested against.
// All arrays are flat memrefs: params [2C] (scale, shift), grads [2C],
// runMean/runVar/mean/invStd [C], stats [N*C*2], affine [2C] in f32;
// activations [N*C*HW] in f32, or f16/bf16 where the spec says so (saved
// activations, mest-compact-activations; converted on load and store).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_NORMKERNELS_H
#define MEST_CODEGEN_NORMKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mest::codegen {

struct BatchNormTrainSpec {
  int64_t N = 0, C = 0, HW = 0;
  double eps = 1e-5, momentum = 0.1;
  bool stats = false;     // per-plane sums given (conv epilogue): no statistics pass
  bool residual = false;  // out = bn(in) + residual
  bool relu = false;      // out = relu(...)
  bool output = true;     // write out (false: folded into its consumers)
  bool affine = false;    // write (scale, shift) per channel
  bool sync = false;      // statistics summed across data-parallel replicas
  int64_t vectorWidth = 8;
  mlir::Type inElem, residualElem, outElem;  // compact storage (null: f32)
  std::string key() const;
};
/// (params, runMean, runVar, in, [stats], [residual], [out], mean, invStd, [affine]).
mlir::func::FuncOp buildBatchNormTrain(mlir::OpBuilder &b, mlir::Location loc,
                                       const BatchNormTrainSpec &spec, llvm::StringRef name);

enum class ReluMask { None, Output, Affine };
struct BatchNormGradSpec {
  int64_t N = 0, C = 0, HW = 0;
  ReluMask mask = ReluMask::None;  // the ReLU backward as prologue: its output, or recomputed
  bool sync = false;               // the sums of dy and dy * x summed across replicas
  int64_t vectorWidth = 8;
  mlir::Type inElem, reluElem;  // compact storage of the saved input and ReLU output (null: f32)
  std::string key() const;
};
/// (params, grads, in, dout, mean, invStd, [reluOut | affine], din): din and
/// the scale and shift gradients (written to grads).
mlir::func::FuncOp buildBatchNormBackward(mlir::OpBuilder &b, mlir::Location loc,
                                          const BatchNormGradSpec &spec, llvm::StringRef name);

/// A training batch norm's output recomputed from its input and (scale,
/// shift): out = relu?(in * scale + shift + residual?), as the train kernel
/// computes it (mest.batch_norm_apply).
struct BatchNormApplySpec {
  int64_t N = 0, C = 0, HW = 0;
  bool residual = false, relu = false;
  int64_t vectorWidth = 8;
  mlir::Type inElem, residualElem, outElem;  // compact storage (null: f32)
  std::string key() const;
};
/// (in, affine, [residual], out).
mlir::func::FuncOp buildBatchNormApply(mlir::OpBuilder &b, mlir::Location loc,
                                       const BatchNormApplySpec &spec, llvm::StringRef name);

/// (params, runMean, runVar, in, out): normalised with the running statistics.
mlir::func::FuncOp buildBatchNormEval(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                      int64_t C, int64_t HW, double eps, int64_t vectorWidth,
                                      llvm::StringRef name);

} // namespace mest::codegen

#endif // MEST_CODEGEN_NORMKERNELS_H
