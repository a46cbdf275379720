//===- ConfigureKernels.cpp - the mest-configure-kernels pass -------------===//
//
// Every choice the conv and linear kernel emitters make, made here once per
// layer from its geometry, its storage and the module's #mest.target, and
// recorded as #mest.kernel<...> (the contract: passes/Passes.td).
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvGen.h"
#include "codegen/ConvKernels.h"
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

namespace mest {
#define GEN_PASS_DEF_MESTCONFIGUREKERNELS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;
using namespace mest::codegen;

namespace {

/// Image groups of a padded backward-weight (Passes.td's rule): the smallest
/// divisor >= 2 of the batch, at most 8, where its partial gradients take fewer
/// bytes than one more read of the input; 1 otherwise or when told `filters`.
int64_t imageGroups(const ConvKernelSpec &sp, StringRef weightSplit) {
  if (!sp.config.paddedBackwardWeight || weightSplit == "filters") return 1;
  int64_t groups = 2;
  while (groups <= 8 && sp.N % groups) ++groups;
  if (groups > 8) return 1;
  const int64_t partialBytes = 2 * groups * std::max<int64_t>(sp.layout.capacityValues, 1) * 4;
  const int64_t inputBytes = sp.N * sp.C * sp.H * sp.W * 4;
  return weightSplit == "images" || partialBytes < inputBytes ? groups : 1;
}

/// How many of n units (filters or channels) share each load: 4, else 2, where
/// they divide n and each keeps >= 2 vectors beside its `broadcasts`; else 1.
int64_t sharingUnits(int64_t n, int64_t broadcasts, int64_t registers) {
  for (int64_t m : {4, 2})
    if (n % m == 0 && registers / m - broadcasts >= 2) return m;
  return 1;
}

/// A tile of `units` and the vectors each keeps: one unit half the budget,
/// several the budget's share less their `broadcasts` (the weights live per
/// load); tile-vectors sets them within the budget; never more than the plane's.
std::pair<int64_t, int64_t> sizedTile(int64_t units, int64_t broadcasts, int64_t registers,
                                      int64_t tileVectors, int64_t planeVectors) {
  int64_t vectors = units == 1 ? registers / 2 : registers / units - broadcasts;
  if (tileVectors > 0) vectors = std::min(tileVectors, registers / units);
  return {units, std::max<int64_t>(1, std::min(vectors, planeVectors))};
}

/// The padded forward's register tile (Passes.td's rule): filters whose
/// weights sit on the same input positions share every input load: a block's
/// rows (one broadcast each); 4 or 2 consecutive filters of dense and channel
/// layers (a row of KW taps live per load).
std::pair<int64_t, int64_t> forwardTile(const ConvKernelSpec &sp, int64_t registers,
                                        int64_t tileVectors) {
  const bool taps = sp.scheme == rt::Scheme::Dense || sp.scheme == rt::Scheme::Channel;
  const int64_t broadcasts = taps ? sp.KW : 1;
  const int64_t filters = sp.scheme == rt::Scheme::Block ? sp.blockRows
                          : taps ? sharingUnits(sp.O, broadcasts, registers)
                                 : 1;
  const conv::ConvGen::Padded p =
      conv::ConvGen::paddedGeometry(sp, sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.SW);
  return sizedTile(filters, broadcasts, registers, tileVectors, p.vecs);
}

/// The padded backward-data's register tile (Passes.td's rule): at stride 1,
/// input channels whose weights sit on the same output-gradient positions
/// share every load: 4 or 2 consecutive channels of a dense layer, 2
/// consecutive active slots of a channel layer (which keeps few channels; an
/// odd one out runs alone). Other schemes and phase planes: one channel.
std::pair<int64_t, int64_t> dataTile(const ConvKernelSpec &sp, int64_t registers,
                                     int64_t tileVectors) {
  const bool stride1 = sp.SH == 1 && sp.SW == 1;
  int64_t channels = 1;
  if (stride1 && sp.scheme == rt::Scheme::Dense)
    channels = sharingUnits(sp.C, sp.KW, registers);
  else if (stride1 && sp.scheme == rt::Scheme::Channel && sp.layout.capacityUnits >= 2 &&
           registers / 2 - sp.KW >= 2)
    channels = 2;
  const int64_t kr = (sp.KH + 1) / 2, ks = (sp.KW + 1) / 2;
  const conv::ConvGen::Padded q =
      stride1 ? conv::ConvGen::paddedGeometry(sp, sp.O, sp.OH, sp.OW, sp.KH - 1 - sp.PH,
                                              sp.KW - 1 - sp.PW, 1, 1)
              : conv::ConvGen::paddedGeometry(sp, sp.O, sp.OH, sp.OW, kr - 1, ks - 1, 1, 1, kr, ks);
  return sizedTile(channels, sp.KW, registers, tileVectors, q.vecs);
}

/// The padded backward-weight's register tile (Passes.td's rule): where one
/// filter's output-gradient plane takes more than the gradient registers (so
/// it is summed over several passes anyway), 4 (or 2) consecutive filters of
/// a dense or channel layer, dividing them and keeping >= 2 gradient vectors
/// each, share the registers and every input load. Smaller planes keep one
/// filter, whose registers then hold several images' planes and are reduced
/// once per pass. `override` (> 0) sets it where the scheme and filters allow.
int64_t weightTile(const ConvKernelSpec &sp, int64_t gradientRegisters, int64_t override) {
  if (!sp.config.paddedBackwardWeight ||
      (sp.scheme != rt::Scheme::Dense && sp.scheme != rt::Scheme::Channel))
    return 1;
  if (override > 0)
    return sp.O % override == 0 && override <= gradientRegisters ? override : 1;
  const conv::ConvGen::Padded p =
      conv::ConvGen::paddedGeometry(sp, sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.SW);
  if (p.vecs <= gradientRegisters) return 1;
  for (int64_t m : {4, 2})
    if (sp.O % m == 0 && gradientRegisters / m >= 2) return m;
  return 1;
}

/// The rules of Passes.td's description, on a layer's geometry and storage.
KernelConfig chooseConfig(ConvKernelSpec sp, TargetAttr target, StringRef convKernels,
                          StringRef forwardOrder, StringRef weightSplit, int64_t tileVectors,
                          int64_t weightTileFilters) {
  KernelConfig c;
  const int64_t regs = target.getVectorRegisters();
  c.registers = regs * 3 / 4;
  c.gradientRegisters = std::min<int64_t>(24, regs - 6);
  std::tie(c.tileFilters, c.tileVectors) = forwardTile(sp, c.registers, tileVectors);
  sp.config = c;
  // Grouped convolutions run the direct kernels: a padded copy and its register
  // tiles assume every filter reads every input channel.
  const bool strideFits = sp.SH == sp.SW && sp.SH <= 2 && sp.groups == 1;
  const bool fits = strideFits && paddedScratchBytes(sp) <= target.getStackBytes();
  c.paddedForward = convKernels != "direct" && fits &&
                    (convKernels == "padded" || sp.OH * sp.OW >= 16);
  c.paddedBackwardWeight = c.paddedForward;
  c.paddedBackwardData = c.paddedForward && paddedBackwardDataApplies(sp);
  if (!c.paddedForward) c.tileFilters = c.tileVectors = 1;  // a direct forward has no tile
  sp.config = c;
  c.weightTileFilters = weightTile(sp, c.gradientRegisters, weightTileFilters);
  if (c.paddedBackwardData)
    std::tie(c.dataTileChannels, c.dataTileVectors) = dataTile(sp, c.registers, tileVectors);
  else
    c.dataTileChannels = c.dataTileVectors = 1;
  // Measured on ResNet-32 at 80-90% (docs/performance.md): output-stationary
  // wins where taps are decoded at run time (unstructured, block), a filter has
  // many weights to stream into its registers (>= 24 at capacity) and rows are
  // short (<= 16) at stride 1 (e.g. 64x64 on 8x8: 2.5 -> 1.8 ms). With
  // compile-time taps (pattern, channel, dense), few weights, long or strided
  // rows, the weight-stationary per-tap streams are faster.
  const int64_t weightsPerFilter = sp.layout.capacityValues / sp.O;
  c.outputStationary =
      !c.paddedForward &&
      (forwardOrder == "output" ||
       (forwardOrder == "auto" &&
        (sp.scheme == rt::Scheme::Unstructured || sp.scheme == rt::Scheme::Block) &&
        sp.SW == 1 && sp.SH == 1 && weightsPerFilter >= 24 && sp.OW <= 16));
  sp.config = c;
  c.imageGroups = imageGroups(sp, weightSplit);
  sp.config = c;
  c.scratchBytes = c.paddedForward || c.paddedBackwardData ? paddedScratchBytes(sp) : 0;
  if (c.imageGroups > 1 && c.scratchBytes > target.getStackBytes()) {
    c.imageGroups = 1;  // the partial gradients would not fit the stack
    sp.config = c;
    c.scratchBytes = paddedScratchBytes(sp);
  }
  return c;
}

KernelConfigAttr toAttr(MLIRContext *ctx, const KernelConfig &c, int64_t vectorWidth) {
  auto variant = [](bool padded) { return padded ? KernelVariant::padded : KernelVariant::direct; };
  return KernelConfigAttr::get(ctx, variant(c.paddedForward), variant(c.paddedBackwardData),
                               variant(c.paddedBackwardWeight),
                               c.outputStationary ? LoopOrder::output : LoopOrder::weight,
                               vectorWidth, c.registers, c.tileFilters, c.tileVectors,
                               c.dataTileChannels, c.dataTileVectors,
                               c.gradientRegisters, c.weightTileFilters, c.scratchBytes,
                               c.imageGroups);
}

struct ConfigureKernelsPass
    : public mest::impl::MestConfigureKernelsBase<ConfigureKernelsPass> {
  using mest::impl::MestConfigureKernelsBase<ConfigureKernelsPass>::MestConfigureKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (!llvm::is_contained({"auto", "padded", "direct"}, StringRef(convKernels))) {
      emitError(module.getLoc()) << "conv-kernels must be auto, padded or direct, got '"
                                 << convKernels << "'";
      return signalPassFailure();
    }
    if (!llvm::is_contained({"auto", "weight", "output"}, StringRef(forwardOrder))) {
      emitError(module.getLoc()) << "forward-order must be auto, weight or output, got '"
                                 << forwardOrder << "'";
      return signalPassFailure();
    }
    if (!llvm::is_contained({"auto", "filters", "images"}, StringRef(weightSplit))) {
      emitError(module.getLoc()) << "weight-split must be auto, filters or images, got '"
                                 << weightSplit << "'";
      return signalPassFailure();
    }
    auto target = module->getAttrOfType<TargetAttr>(MestDialect::getTargetAttrName());
    if (!target) {
      if (!llvm::is_contained({"avx2", "avx512", "neon"}, StringRef(isa))) {
        emitError(module.getLoc()) << "isa must be avx2, avx512 or neon, got '" << isa << "'";
        return signalPassFailure();
      }
      target = TargetAttr::forIsa(ctx, isa);
      module->setAttr(MestDialect::getTargetAttrName(), target);
    }
    const int64_t vw = vectorWidth ? int64_t(vectorWidth) : std::min<int64_t>(16, target.getVectorFloats());
    if (!llvm::is_contained({4, 8, 16}, vw)) {
      emitError(module.getLoc()) << "vector-width must be 4, 8 or 16, got " << vw;
      return signalPassFailure();
    }
    if (tileVectors < 0) {
      emitError(module.getLoc()) << "tile-vectors must be >= 0, got " << int64_t(tileVectors);
      return signalPassFailure();
    }
    if (weightTileFilters < 0) {
      emitError(module.getLoc()) << "weight-tile-filters must be >= 0, got "
                                 << int64_t(weightTileFilters);
      return signalPassFailure();
    }
    for (auto model : module.getOps<func::FuncOp>()) {
      auto state = model->getAttrOfType<IntegerAttr>(MestDialect::getStateBytesAttrName());
      if (!model->hasAttr(MestDialect::getModelAttrName())) continue;
      if (!state) {
        model.emitError() << "model has no storage plan: run mest-plan-storage first";
        return signalPassFailure();
      }
      model.walk([&](Operation *op) {
        if (!::mlir::isa<Conv2dOp, LinearOp>(op)) return;
        ConvKernelSpec sp = layerKernelSpec(op, state.getInt());
        sp.vectorWidth = vw;
        KernelConfig c =
            chooseConfig(sp, target, convKernels, forwardOrder, weightSplit, tileVectors,
                         weightTileFilters);
        op->setAttr(MestDialect::getKernelConfigAttrName(), toAttr(ctx, c, vw));
      });
    }
  }
};

} // namespace
