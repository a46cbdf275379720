//===- PlanStorage.cpp - the mest-plan-storage pass -----------------------===//
#include "passes/LayerCost.h"
#include "passes/Passes.h"
#include "runtime/formats/DropoutStream.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mest {
#define GEN_PASS_DEF_MESTPLANSTORAGE
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

struct PlanStoragePass : public mest::impl::MestPlanStorageBase<PlanStoragePass> {
  void runOnOperation() override {
    for (auto model : getOperation().getOps<func::FuncOp>()) {
      if (!model->hasAttr(MestDialect::getModelAttrName())) continue;
      int64_t offset = 0;
      WalkResult result = model.walk([&](LayerOpInterface layer) {
        if (!isa<BatchNormOp>(layer)) {
          SparsityAttr sp = getWeightInfo(layer).sparsity;
          if (sp.getScheme() == Scheme::block && sp.getBlockCols() != 1) {
            layer->emitOpError() << "code generation supports block columns of width 1 "
                                    "(R x 1 blocks), got block = ["
                                 << sp.getBlockRows() << ", " << sp.getBlockCols() << "]";
            return WalkResult::interrupt();
          }
        }
        layer->setAttr(MestDialect::getStateOffsetAttrName(),
                       IntegerAttr::get(IntegerType::get(&getContext(), 64), offset));
        offset += rt::alignUp(getLayerStateBytes(layer));
        return WalkResult::advance();
      });
      if (result.wasInterrupted()) return signalPassFailure();
      if (!model.getOps<DropoutOp>().empty()) {
        model->setAttr(MestDialect::getDropoutStateOffsetAttrName(),
                       IntegerAttr::get(IntegerType::get(&getContext(), 64), offset));
        offset += rt::alignUp(rt::kDropoutStreamBytes);
      }
      model->setAttr(MestDialect::getStateBytesAttrName(),
                     IntegerAttr::get(IntegerType::get(&getContext(), 64), offset));
    }
  }
};

} // namespace
