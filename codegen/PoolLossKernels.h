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

#include <string>

namespace mest::codegen {

/// (in[N*C*HW], out[N*C]): each plane's mean.
mlir::func::FuncOp buildGlobalAvgPoolForward(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                             int64_t C, int64_t HW, int64_t vectorWidth,
                                             llvm::StringRef name, mlir::Type inElem = {},
                                             mlir::Type outElem = {});
/// (dout[N*C], din[N*C*HW]): dout / HW over each plane.
mlir::func::FuncOp buildGlobalAvgPoolBackward(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                              int64_t C, int64_t HW, int64_t vectorWidth,
                                              llvm::StringRef name);
/// (in[N*C*HW], scale[N*C], out[N*C*HW]): each plane times its scale
/// (mest.scale_channels; also the input gradient, from dout).
mlir::func::FuncOp buildScaleChannels(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                      int64_t C, int64_t HW, int64_t vectorWidth,
                                      llvm::StringRef name);
/// (in[N*C*HW], dout[N*C*HW], dscale[N*C]): each plane's dot product of in
/// and dout (mest.scale_channels_grad).
mlir::func::FuncOp buildScaleChannelsGrad(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                          int64_t C, int64_t HW, int64_t vectorWidth,
                                          llvm::StringRef name);
/// (in_0[N*C_0*HW], ..., out[N*C*HW]): the inputs' channels side by side
/// (mest.concat), parallel over images.
mlir::func::FuncOp buildConcat(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                               llvm::ArrayRef<int64_t> channels, int64_t HW, int64_t vectorWidth,
                               llvm::StringRef name);
/// (in[N*C*HW], out[N*count*HW]): channels [offset, offset + count) of each
/// image (mest.slice_channels).
mlir::func::FuncOp buildSliceChannels(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                      int64_t C, int64_t offset, int64_t count, int64_t HW,
                                      int64_t vectorWidth, llvm::StringRef name);
/// (in[N*count*HW], out[N*C*HW]): each image's channels at [offset, offset +
/// count) of zeros (mest.pad_channels).
mlir::func::FuncOp buildPadChannels(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                    int64_t C, int64_t offset, int64_t count, int64_t HW,
                                    int64_t vectorWidth, llvm::StringRef name);
/// (in[N*C*HW], out[N*C*HW]): out channel c = in channel (c % groups) *
/// (C / groups) + c / groups (mest.shuffle_channels), parallel over images.
mlir::func::FuncOp buildShuffleChannels(mlir::OpBuilder &b, mlir::Location loc, int64_t N,
                                        int64_t C, int64_t groups, int64_t HW,
                                        int64_t vectorWidth, llvm::StringRef name);
/// A pooling window: kernel, stride, padding over [N, C, H, W] planes.
struct PoolGeometry {
  int64_t N, C, H, W, KH, KW, SH, SW, PH, PW;
  /// Compact storage of the forward's input and output (null: f32).
  mlir::Type inElem = {}, outElem = {};
  /// The output size (from the result type: larger than the floor formula in
  /// ceil mode, the last windows clipped at the bottom and right).
  int64_t outH = 0, outW = 0;
  int64_t OH() const { return outH ? outH : (H + 2 * PH - KH) / SH + 1; }
  int64_t OW() const { return outW ? outW : (W + 2 * PW - KW) / SW + 1; }
  std::string key() const;
};
/// Max pooling (in, out[, argmax i32]): each window's first maximum and, for
/// training, its offset y * W + x in the plane. Windows are clipped to the
/// input (padding never wins).
mlir::func::FuncOp buildMaxPoolForward(mlir::OpBuilder &b, mlir::Location loc,
                                       const PoolGeometry &g, bool argmax, llvm::StringRef name);
/// (dout, argmax, din): each output gradient added at its window's arg-max.
mlir::func::FuncOp buildMaxPoolBackward(mlir::OpBuilder &b, mlir::Location loc,
                                        const PoolGeometry &g, llvm::StringRef name);
/// Average pooling over the clipped window (padding not counted): (in, out).
mlir::func::FuncOp buildAvgPoolForward(mlir::OpBuilder &b, mlir::Location loc,
                                       const PoolGeometry &g, llvm::StringRef name);
/// (dout, din): each output gradient shared evenly over its clipped window.
mlir::func::FuncOp buildAvgPoolBackward(mlir::OpBuilder &b, mlir::Location loc,
                                        const PoolGeometry &g, llvm::StringRef name);

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
