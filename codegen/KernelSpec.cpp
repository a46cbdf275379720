//===- KernelSpec.cpp - what a layer's kernels are specialised on ---------===//
#include "codegen/ConvKernels.h"
#include "codegen/KernelBuilder.h"

#include "dialect/MestDialect.h"
#include "passes/LayerCost.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mest;
using namespace mest::codegen;

ConvKernelSpec mest::codegen::layerKernelSpec(Operation *layer, int64_t stateBytes) {
  ConvKernelSpec sp;
  WeightInfo w = getWeightInfo(layer);
  sp.scheme = w.scheme;
  sp.O = w.shape.O;
  sp.C = w.shape.I;
  sp.KH = w.shape.KH;
  sp.KW = w.shape.KW;
  auto in = cast<RankedTensorType>(layer->getOperand(0).getType());
  sp.N = in.getDimSize(0);
  if (auto conv = dyn_cast<Conv2dOp>(layer)) {
    sp.H = in.getDimSize(2);
    sp.W = in.getDimSize(3);
    sp.SH = conv.getStride()[0];
    sp.SW = conv.getStride()[1];
    sp.PH = conv.getPadding()[0];
    sp.PW = conv.getPadding()[1];
    sp.bias = conv.getBias();
    sp.groups = conv.getGroups();
  } else {
    sp.bias = cast<LinearOp>(layer).getBias();
  }
  sp.OH = (sp.H + 2 * sp.PH - sp.KH) / sp.SH + 1;
  sp.OW = (sp.W + 2 * sp.PW - sp.KW) / sp.SW + 1;
  sp.blockRows = w.sparsity.getBlockRows();
  for (int64_t t : w.sparsity.getPatternTaps()) sp.taps.push_back(static_cast<int32_t>(t));
  sp.stateBytes = stateBytes;
  sp.base = layer->getAttrOfType<IntegerAttr>(MestDialect::getStateOffsetAttrName()).getInt();
  sp.layout = getConvStateLayout(layer);
  if (auto c = layer->getAttrOfType<KernelConfigAttr>(MestDialect::getKernelConfigAttrName())) {
    auto padded = [](KernelVariant v) { return v == KernelVariant::padded; };
    sp.vectorWidth = c.getVectorWidth();
    sp.config.paddedForward = padded(c.getForward());
    sp.config.paddedBackwardData = padded(c.getBackwardData());
    sp.config.paddedBackwardWeight = padded(c.getBackwardWeight());
    sp.config.outputStationary = c.getOrder() == LoopOrder::output;
    sp.config.registers = c.getRegisters();
    sp.config.tileFilters = c.getTileFilters();
    sp.config.tileVectors = c.getTileVectors();
    sp.config.dataTileChannels = c.getDataTileChannels();
    sp.config.dataTileVectors = c.getDataTileVectors();
    sp.config.gradientRegisters = c.getGradientRegisters();
    sp.config.weightTileFilters = c.getWeightTileFilters();
    sp.config.scratchBytes = c.getScratchBytes();
    sp.config.imageGroups = c.getImageGroups();
  }
  return sp;
}

std::string mest::codegen::kernelKey(const ConvKernelSpec &sp, StringRef dir) {
  const rt::ConvStateLayout &l = sp.layout;
  const KernelConfig &c = sp.config;
  std::string key;
  llvm::raw_string_ostream os(key);
  os << dir << ':' << int(sp.scheme);
  for (int64_t v : {sp.N, sp.C, sp.groups, sp.H, sp.W, sp.O, sp.KH, sp.KW, sp.SH, sp.SW, sp.PH, sp.PW,
                    sp.OH, sp.OW, sp.blockRows, l.header, l.values, l.grads, l.momentum, l.bias,
                    l.biasGrad, l.biasMomentum, l.index, l.groupPtr, l.patternCount, l.order,
                    l.patternId, l.total, l.capacityUnits, l.unitSize, l.capacityValues,
                    l.groups, l.workUnits, sp.vectorWidth, c.registers, c.tileFilters,
                    c.tileVectors, c.dataTileChannels, c.dataTileVectors, c.gradientRegisters,
                    c.weightTileFilters, c.scratchBytes, c.imageGroups})
    os << ',' << v;
  for (bool v : {sp.bias, c.paddedForward, c.paddedBackwardData, c.paddedBackwardWeight,
                 c.outputStationary, sp.outputStats, sp.addToInputGrad, sp.fuseUpdate,
                 sp.inputAffineRelu})
    os << (v ? 'T' : 'F');
  os << ':';
  for (int32_t t : sp.taps) os << t << ',';
  os << KernelBuilder::typesKey({sp.inElem, sp.outElem});
  return key;
}
