//===- LayerCost.cpp - weights, MACs and bytes of one layer ---------------===//
#include "passes/LayerCost.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mest;

WeightInfo mest::getWeightInfo(Operation *layer) {
  WeightInfo info;
  if (auto conv = dyn_cast<Conv2dOp>(layer)) {
    info.shape = {static_cast<int64_t>(conv.getOutChannels()), conv.getFilterChannels(), conv.getKernel()[0],
                  conv.getKernel()[1]};
    info.sparsity = conv.getSparsityOrDense();
  } else if (auto fc = dyn_cast<LinearOp>(layer)) {
    info.shape = {static_cast<int64_t>(fc.getOutFeatures()), fc.getInput().getType().getDimSize(1), 1, 1};
    info.sparsity = fc.getSparsityOrDense();
  }
  info.scheme = info.sparsity ? static_cast<rt::Scheme>(info.sparsity.getScheme())
                              : rt::Scheme::Dense;
  return info;
}

int64_t mest::getLayerStateBytes(Operation *layer) {
  if (auto bn = dyn_cast<BatchNormOp>(layer))
    return rt::batchNormStateLayout(bn.getInput().getType().getDimSize(1)).total;
  return getConvStateLayout(layer).total;
}

rt::ConvStateLayout mest::getConvStateLayout(Operation *layer) {
  WeightInfo w = getWeightInfo(layer);
  bool bias = false;
  if (auto conv = dyn_cast<Conv2dOp>(layer)) bias = conv.getBias();
  if (auto fc = dyn_cast<LinearOp>(layer)) bias = fc.getBias();
  return rt::convStateLayout(w.scheme, w.shape, w.sparsity.getCapacitySparsity(),
                             w.sparsity.getBlockRows(), w.sparsity.getNumPatterns(), bias);
}

LayerCost mest::computeLayerCost(LayerOpInterface layer, bool needsInputGrad) {
  LayerCost cost;
  cost.name = layer.getLayerName().str();
  cost.kind = layer->getName().stripDialect().str();
  cost.params = layer.getNumParameters();
  if (isa<BatchNormOp>(layer)) {
    // Scale and shift are dense; running mean and variance add 2 floats per channel.
    cost.scheme = "dense";
    cost.activeTarget = cost.activeCapacity = cost.params;
    cost.storageBytes = 3 * 4 * cost.params + 4 * cost.params;
    return cost;
  }
  WeightInfo w = getWeightInfo(layer);
  SparsityAttr sp = w.sparsity;
  int64_t rows = sp.getBlockRows();
  int64_t bias = cost.params - w.shape.numel();
  cost.scheme = stringifyScheme(sp.getScheme()).str();
  cost.activeTarget = rt::activeWeights(w.scheme, w.shape, sp.getTargetSparsity(), rows) + bias;
  cost.activeCapacity = rt::activeWeights(w.scheme, w.shape, sp.getCapacitySparsity(), rows) + bias;
  cost.storageBytes = rt::storageBytes(w.scheme, w.shape, sp.getCapacitySparsity(), rows,
                                       sp.getNumPatterns())
                          .total() +
                      3 * 4 * bias;
  // MACs per batch: every kept weight meets every output position once.
  auto out = cast<RankedTensorType>(layer->getResult(0).getType());
  int64_t positions = out.getDimSize(0);
  if (out.getRank() == 4) positions *= out.getDimSize(2) * out.getDimSize(3);
  int64_t activeW = cost.activeTarget - bias;
  cost.fwdMacsTarget = activeW * positions;
  cost.fwdMacsDense = w.shape.numel() * positions;
  int64_t passes = needsInputGrad ? 2 : 1;
  cost.bwdMacsTarget = passes * cost.fwdMacsTarget;
  cost.bwdMacsDense = passes * cost.fwdMacsDense;
  return cost;
}

int64_t mest::maxScratchBytes(mlir::Operation *model) {
  int64_t scratch = 0;
  model->walk([&](mlir::Operation *op) {
    if (auto c = op->getAttrOfType<KernelConfigAttr>(MestDialect::getKernelConfigAttrName()))
      scratch = std::max(scratch, c.getScratchBytes());
  });
  return scratch;
}
