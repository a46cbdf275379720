//===- PackReluMasks.cpp - the mest-pack-relu-masks pass ------------------===//
//
// A ReLU output that backward reads only for its sign is kept as a packed bit
// mask instead of in full (the contract: passes/Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mest {
#define GEN_PASS_DEF_MESTPACKRELUMASKS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

struct PackReluMasksPass : public mest::impl::MestPackReluMasksBase<PackReluMasksPass> {
  void runOnOperation() override {
    for (auto step : getOperation().getOps<func::FuncOp>())
      if (MestDialect::isTrainingStep(step)) runOnStep(step);
  }

  void runOnStep(func::FuncOp step) {
    Block &body = step.getBody().front();
    DenseMap<Operation *, int64_t> position;
    int64_t loss = -1;
    for (auto [k, op] : llvm::enumerate(body)) {
      position[&op] = static_cast<int64_t>(k);
      if (loss < 0 && isa<SoftmaxCrossEntropyOp>(op)) loss = static_cast<int64_t>(k);
    }
    if (loss < 0) return;
    int64_t packed = 0, bytes = 0;
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (position.lookup(&op) >= loss) break;
      for (Value v : op.getResults()) {
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || !isa<FloatType>(type.getElementType()) || type.getNumElements() % 8) continue;
        SmallVector<ReluGradOp> masks;
        bool onlyMasks = true;
        for (OpOperand &use : v.getUses()) {
          if (position.lookup(use.getOwner()) <= loss) continue;
          auto grad = dyn_cast<ReluGradOp>(use.getOwner());
          if (!grad || use.getOperandNumber() != 0) onlyMasks = false;
          else masks.push_back(grad);
        }
        if (!onlyMasks || masks.empty()) continue;
        OpBuilder b(op.getContext());
        b.setInsertionPointAfter(&op);
        auto maskType = RankedTensorType::get({type.getNumElements() / 8}, b.getI8Type());
        Value mask = b.create<ReluMaskOp>(op.getLoc(), maskType, v);
        for (ReluGradOp grad : masks) {
          b.setInsertionPoint(grad);
          auto bits = b.create<ReluMaskGradOp>(grad.getLoc(), grad.getType(), mask,
                                               grad.getOutputGrad());
          grad.replaceAllUsesWith(bits.getInputGrad());
          grad.erase();
        }
        ++packed;
        bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8 -
                 maskType.getNumElements();
      }
    }
    if (packed)
      step.emitRemark() << "@" << step.getSymName() << ": " << packed
                      << " saved ReLU outputs kept as bit masks (" << bytes
                      << " bytes less across the turn)";
  }
};

} // namespace
