//===- ConvKernels.h - specialised conv2d / linear kernels ----------------===//
#ifndef MEST_CODEGEN_CONVKERNELS_H
#define MEST_CODEGEN_CONVKERNELS_H

#include "runtime/formats/StateLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mest::codegen {

/// The decisions mest-configure-kernels recorded in a layer's
/// #mest.kernel<...> (dialect/MestAttrs.td), as the emitters read them.
struct KernelConfig {
  bool paddedForward = false, paddedBackwardData = false, paddedBackwardWeight = false;
  bool outputStationary = false;  // direct forward: output-stationary interior
  int64_t registers = 12;          // the accumulator vectors a register tile may hold
  int64_t tileFilters = 1;         // padded forward: filters sharing each input load
  int64_t tileVectors = 6;         // padded forward: output vectors per filter in registers
  int64_t dataTileChannels = 1;    // padded stride-1 backward-data: channels sharing each load
  int64_t dataTileVectors = 6;     // ... and gradient vectors per channel in registers
  int64_t gradientRegisters = 10;  // output-gradient vectors of a padded backward-weight chunk
  int64_t weightTileFilters = 1;   // ... shared by this many filters, each input load feeding all
  int64_t scratchBytes = 0;        // stack bytes per thread of the padded kernels
  int64_t imageGroups = 1;         // padded backward-weight: image groups with own partial sums
};

/// Everything a conv2d (or linear, as a 1x1 conv on 1x1 planes) kernel is
/// specialised on: shapes, scheme, pattern library and where its state lives.
struct ConvKernelSpec {
  rt::Scheme scheme = rt::Scheme::Dense;
  int64_t N = 1, C = 1, H = 1, W = 1, O = 1, KH = 1, KW = 1, SH = 1, SW = 1, PH = 0, PW = 0;
  int64_t OH = 1, OW = 1;
  /// Grouped convolution: C is the channels of one filter, the input has
  /// C * groups; filter o reads channels from (o / (O / groups)) * C on.
  int64_t groups = 1;
  int64_t inChannels() const { return C * groups; }
  int64_t blockRows = 4;
  std::vector<int32_t> taps;  // pattern library, 4 taps per pattern
  int64_t stateBytes = 0;     // size of the model's state block
  int64_t base = 0;           // the layer's offset in it (callers only: kernels see the
                              // layer's block, layout.total bytes)
  rt::ConvStateLayout layout;
  bool bias = false;
  int64_t vectorWidth = 8;
  KernelConfig config;
  /// Forward also writes stats[N, O, 2]: each output plane's sum and sum of
  /// squares, for the batch norm after it (padded forward only).
  bool outputStats = false;
  /// Backward-data adds addend[N, C, H, W] to its result (a gradient sum at a
  /// fan-out, fused; padded backward-data only).
  bool addToInputGrad = false;
  /// Backward-weight applies SGD to each weight after its gradient
  /// (mest.grad_weight_sgd); else it only stores the gradients (mest.grad_weight).
  bool fuseUpdate = true;
  /// Forward and backward-weight read relu(in * affine[c, 0] + affine[c, 1])
  /// instead of `in`, applied in the padded copy (a batch norm folded into its
  /// consumers, mest.batch_norm_affine): one more argument, affine[C, 2].
  bool inputAffineRelu = false;
  /// Element types of the input and output activation buffers (null: f32;
  /// f16/bf16 where mest-compact-activations stores them compactly).
  mlir::Type inElem, outElem;
  int64_t numPatterns() const { return static_cast<int64_t>(taps.size()) / 4; }
};

/// The shapes, scheme and storage of a conv2d or linear layer (after
/// mest-plan-storage), with the configuration of its mest.kernel attribute when
/// it has one (KernelConfig's defaults otherwise).
ConvKernelSpec layerKernelSpec(mlir::Operation *layer, int64_t stateBytes);

/// Everything a kernel of `spec` in direction `dir` is specialised on, as a
/// key: equal keys, equal code (the layer's base and name are not in it).
std::string kernelKey(const ConvKernelSpec &spec, llvm::StringRef dir);

/// Stack bytes per thread the padded kernels of `spec` need (its vector width
/// and register budgets), the largest over the three directions.
int64_t paddedScratchBytes(const ConvKernelSpec &spec);
/// Images a padded backward-weight pass dots at once: as many as fill its
/// gradient registers on small planes, dividing the images of a group.
int64_t backwardWeightBatch(const ConvKernelSpec &spec);
/// Whether a padded backward-data kernel exists for the geometry: stride 1
/// with padding below the kernel, or stride 2 whose phase planes cover the input.
bool paddedBackwardDataApplies(const ConvKernelSpec &spec);
/// Whether a padded backward-data runs on compile-time taps (stride 1, dense
/// or channel weights: emitPaddedBackwardDataOnTaps), tiled over channels.
bool backwardDataOnTaps(const ConvKernelSpec &spec);

/// fwd(state, in[N,C,H,W], out[N,O,OH,OW]): out = conv(in, active weights) + bias.
mlir::func::FuncOp buildConvForward(mlir::OpBuilder &b, mlir::Location loc,
                                    const ConvKernelSpec &spec, llvm::StringRef name);
/// bwd_data(state, dout[N,O,OH,OW], din[N,C,H,W]): din = conv^T(dout).
mlir::func::FuncOp buildConvBackwardData(mlir::OpBuilder &b, mlir::Location loc,
                                         const ConvKernelSpec &spec, llvm::StringRef name);
/// bwd_weight(state, in, dout, lr, momentum, weight_decay): gradients of the
/// active weights and the bias, each followed at once by its SGD step (or, when
/// !spec.fuseUpdate, only stored; lr, momentum and weight_decay are unused).
mlir::func::FuncOp buildConvBackwardWeight(mlir::OpBuilder &b, mlir::Location loc,
                                           const ConvKernelSpec &spec, llvm::StringRef name);

} // namespace mest::codegen

#endif // MEST_CODEGEN_CONVKERNELS_H
