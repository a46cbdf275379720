//===- ConvKernels.h - specialised conv2d / linear kernels ----------------===//
#ifndef MEST_CODEGEN_CONVKERNELS_H
#define MEST_CODEGEN_CONVKERNELS_H

#include "runtime/formats/StateLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mest::codegen {

/// Everything a conv2d (or linear, as a 1x1 conv on 1x1 planes) kernel is
/// specialised on: shapes, scheme, pattern library and where its state lives.
struct ConvKernelSpec {
  rt::Scheme scheme = rt::Scheme::Dense;
  int64_t N = 1, C = 1, H = 1, W = 1, O = 1, KH = 1, KW = 1, SH = 1, SW = 1, PH = 0, PW = 0;
  int64_t OH = 1, OW = 1;
  int64_t blockRows = 4;
  std::vector<int32_t> taps;  // pattern library, 4 taps per pattern
  int64_t stateBytes = 0;     // size of the model's state block
  int64_t base = 0;           // the layer's offset in it
  rt::ConvStateLayout layout;
  bool bias = false;
  int64_t vectorWidth = 8;
  /// Forward loop order: "auto" (chosen per layer, see buildConvForward),
  /// "weight" (weight-stationary everywhere) or "output" (output-stationary
  /// interior wherever there is one).
  std::string forwardOrder = "auto";
  /// Stride-1 kernels: "auto" (padded where it fits, see usePaddedKernels),
  /// "padded" (wherever stride 1 and the scratch fits) or "direct".
  std::string convKernels = "auto";
  /// Forward also writes stats[N, O, 2]: each output plane's sum and sum of
  /// squares, for the batch norm after it (padded forward only).
  bool outputStats = false;
  /// Backward-data adds addend[N, C, H, W] to its result (a gradient sum at a
  /// fan-out, fused; padded backward-data only).
  bool addToInputGrad = false;
  int64_t numPatterns() const { return static_cast<int64_t>(taps.size()) / 4; }
};

/// Whether the kernels on zero-bordered copies serve this layer (forward and
/// backward-weight), and its backward-data.
bool usePaddedKernels(const ConvKernelSpec &spec);
bool usePaddedBackwardDataKernels(const ConvKernelSpec &spec);

/// fwd(state, in[N,C,H,W], out[N,O,OH,OW]): out = conv(in, active weights) + bias.
mlir::func::FuncOp buildConvForward(mlir::OpBuilder &b, mlir::Location loc,
                                    const ConvKernelSpec &spec, llvm::StringRef name);
/// bwd_data(state, dout[N,O,OH,OW], din[N,C,H,W]): din = conv^T(dout).
mlir::func::FuncOp buildConvBackwardData(mlir::OpBuilder &b, mlir::Location loc,
                                         const ConvKernelSpec &spec, llvm::StringRef name);
/// bwd_weight(state, in, dout, lr, momentum, weight_decay): gradients of the
/// active weights and the bias, each followed at once by its SGD step.
mlir::func::FuncOp buildConvBackwardWeight(mlir::OpBuilder &b, mlir::Location loc,
                                           const ConvKernelSpec &spec, llvm::StringRef name);

} // namespace mest::codegen

#endif // MEST_CODEGEN_CONVKERNELS_H
