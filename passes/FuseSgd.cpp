//===- FuseSgd.cpp - the mest-fuse-sgd pass -------------------------------===//
//
// grad_weight @L ... sgd @L -> grad_weight_sgd @L, where nothing in between
// touches @L (the contract: passes/Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/LayerRefs.h"
#include "passes/Passes.h"

#include "dialect/MestDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mest {
#define GEN_PASS_DEF_MESTFUSESGD
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

struct FuseSgdPass : public mest::impl::MestFuseSgdBase<FuseSgdPass> {
  void runOnOperation() override {
    SmallVector<std::pair<GradWeightOp, SgdOp>> pairs;
    getOperation().walk([&](GradWeightOp grad) {
      for (Operation *op = grad->getNextNode(); op; op = op->getNextNode()) {
        if (!touchesLayer(op, grad.getLayerAttr())) continue;
        if (auto sgd = dyn_cast<SgdOp>(op)) pairs.push_back({grad, sgd});
        return;  // the first op on the same layer decides
      }
    });
    for (auto [grad, sgd] : pairs) {
      OpBuilder b(grad);
      b.create<GradWeightSgdOp>(grad.getLoc(), grad.getInput(), grad.getOutputGrad(),
                                sgd.getLr(), sgd.getMomentum(), sgd.getWeightDecay(),
                                grad.getInputAffine(),
                                grad.getLayerAttr());
      sgd.erase();
      grad.erase();
    }
  }
};

} // namespace
