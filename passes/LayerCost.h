//===- LayerCost.h - weights, MACs and bytes of one layer -----------------===//
#ifndef MEST_PASSES_LAYERCOST_H
#define MEST_PASSES_LAYERCOST_H

#include "dialect/MestDialect.h"
#include "runtime/formats/Scheme.h"
#include "runtime/formats/StateLayout.h"

#include <string>

namespace mest {

/// The weight tensor of a conv2d or linear layer and its sparsity, in the
/// runtime's terms.
struct WeightInfo {
  rt::WeightShape shape;
  rt::Scheme scheme;
  SparsityAttr sparsity;
};
WeightInfo getWeightInfo(mlir::Operation *layer);

struct LayerCost {
  std::string name, kind, scheme;
  int64_t params = 0;          // dense parameter count (weights + bias / scale + shift)
  int64_t activeTarget = 0;    // parameters kept at the target sparsity
  int64_t activeCapacity = 0;  // parameters storage is sized for
  int64_t fwdMacsTarget = 0, fwdMacsDense = 0;
  int64_t bwdMacsTarget = 0, bwdMacsDense = 0;
  int64_t storageBytes = 0;    // values + gradients + momentum + metadata (+ BN stats)
};

/// The state layout of a conv2d or linear layer, and the state bytes of any layer
/// with parameters (batch norm included).
rt::ConvStateLayout getConvStateLayout(mlir::Operation *layer);
int64_t getLayerStateBytes(mlir::Operation *layer);

/// Cost of a layer with parameters. `needsInputGrad` is false for a layer whose
/// input is the model's input batch: no data gradient is computed for it.
LayerCost computeLayerCost(LayerOpInterface layer, bool needsInputGrad);

/// Stack bytes per thread the model's kernels take: the largest scratch of its
/// layers' #mest.kernel configurations (the kernels of a step run one at a
/// time); 0 before mest-configure-kernels.
int64_t maxScratchBytes(mlir::Operation *model);

} // namespace mest

#endif // MEST_PASSES_LAYERCOST_H
