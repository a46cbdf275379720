//===- RecomputeActivations.cpp - the mest-recompute-activations pass -----===//
//
// Batch-norm outputs that backward needs again are recomputed there from the
// batch norm's input, which backward keeps anyway, instead of being kept
// across the turn from forward to backward (the contract: passes/Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>

namespace mest {
#define GEN_PASS_DEF_MESTRECOMPUTEACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

/// The train step's ops in order, the loss's position, and what backward reads.
struct StepOrder {
  DenseMap<Operation *, int64_t> position;
  int64_t loss = -1;

  explicit StepOrder(Block &body) {
    for (auto [k, op] : llvm::enumerate(body)) {
      position[&op] = static_cast<int64_t>(k);
      if (loss < 0 && isa<SoftmaxCrossEntropyOp>(op)) loss = static_cast<int64_t>(k);
    }
  }
  bool inBackward(Operation *op) const { return position.lookup(op) > loss; }
  /// Defined in forward (or a step argument) and read in backward.
  bool saved(Value v) const {
    return llvm::any_of(v.getUsers(), [&](Operation *u) { return inBackward(u); });
  }
  /// The position of the first backward reader of `v`, kNever if none.
  int64_t firstBackwardUse(Value v) const {
    int64_t first = kNever;
    for (Operation *u : v.getUsers())
      if (inBackward(u)) first = std::min(first, position.lookup(u));
    return first;
  }
};

/// batch_norm_train rebuilt with the `affine` result the recompute reads.
BatchNormTrainOp withAffine(BatchNormTrainOp bn) {
  if (bn.getAffine()) return bn;
  OpBuilder b(bn);
  auto C = cast<ShapedType>(bn.getInput().getType()).getDimSize(1);
  auto affineType = RankedTensorType::get({C, 2}, b.getF32Type());
  auto rebuilt = b.create<BatchNormTrainOp>(
      bn.getLoc(), bn.getOutput().getType(), bn.getMean().getType(), bn.getInvStd().getType(),
      affineType, bn.getInput(), bn.getStats(), bn.getResidual(), bn.getLayerAttr(),
      bn.getReluAttr());
  rebuilt->setDiscardableAttrs(bn->getDiscardableAttrDictionary());
  bn.getOutput().replaceAllUsesWith(rebuilt.getOutput());
  bn.getMean().replaceAllUsesWith(rebuilt.getMean());
  bn.getInvStd().replaceAllUsesWith(rebuilt.getInvStd());
  bn.erase();
  return rebuilt;
}

struct RecomputeActivationsPass
    : public mest::impl::MestRecomputeActivationsBase<RecomputeActivationsPass> {
  using MestRecomputeActivationsBase::MestRecomputeActivationsBase;

  void runOnOperation() override {
    if (depth < 0) {
      getOperation().emitError() << "mest-recompute-activations: depth " << int64_t(depth)
                                 << " is negative";
      return signalPassFailure();
    }
    for (auto step : getOperation().getOps<func::FuncOp>())
      if (MestDialect::isTrainingStep(step)) runOnStep(step);
  }

  void runOnStep(func::FuncOp step) {
    Block &body = step.getBody().front();
    StepOrder order(body);
    if (order.loss < 0) return;
    // The chain length of each batch-norm output if recomputed (kNever: it
    // cannot be), and which of them are recomputed, in forward order.
    DenseMap<Value, int64_t> chain;
    SetVector<Value> recomputed;
    auto kept = [&](Value v) {
      return isa<BlockArgument>(v) || (order.saved(v) && !recomputed.contains(v));
    };
    std::function<void(Value)> recompute = [&](Value v) {
      if (recomputed.contains(v)) return;
      Value r = v.getDefiningOp<BatchNormTrainOp>().getResidual();
      if (r && !kept(r)) recompute(r);  // a shortcut's output, recomputed for the chain
      recomputed.insert(v);
    };
    for (auto bn : body.getOps<BatchNormTrainOp>()) {
      if (order.position.lookup(bn) >= order.loss) break;
      Value y = bn.getOutput(), r = bn.getResidual();
      int64_t length = kNever;
      if (kept(bn.getInput())) {
        int64_t below = !r || kept(r) ? 0 : chain.count(r) ? chain[r] : kNever;
        if (below != kNever) length = below + 1;
      }
      chain[y] = length;
      if (order.saved(y) && length <= depth) recompute(y);
    }
    if (recomputed.empty()) return;

    // Each recompute sits before its first backward reader, or before the
    // recompute that reads it as residual if that comes first.
    DenseMap<Value, int64_t> at;
    for (Value v : llvm::reverse(recomputed)) {
      int64_t first = order.firstBackwardUse(v);
      for (Value d : recomputed)
        if (d.getDefiningOp<BatchNormTrainOp>().getResidual() == v && at.count(d))
          first = std::min(first, at[d]);
      at[v] = first;
    }
    SmallVector<Operation *> ops(llvm::make_pointer_range(body));
    DenseMap<Value, Value> again;
    int64_t bytes = 0, dropped = 0;
    for (Value v : recomputed) {
      if (order.saved(v)) {
        auto type = cast<RankedTensorType>(v.getType());
        bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
        ++dropped;
      }
      BatchNormTrainOp bn = withAffine(v.getDefiningOp<BatchNormTrainOp>());
      Value y = bn.getOutput();
      Value r = bn.getResidual();
      if (r && again.count(r)) r = again[r];
      OpBuilder b(ops[at[v]]);
      auto apply = b.create<BatchNormApplyOp>(bn.getLoc(), y.getType(), bn.getInput(),
                                              bn.getAffine(), r, bn.getReluAttr());
      y.replaceUsesWithIf(apply.getOutput(),
                          [&](OpOperand &use) { return order.inBackward(use.getOwner()); });
      again[y] = apply.getOutput();
    }
    step.emitRemark() << "@" << step.getSymName() << ": " << dropped
                      << " saved batch-norm outputs recomputed in backward, "
                      << recomputed.size() - dropped << " more for their chains (" << bytes
                      << " bytes not kept across the turn)";
  }
};

} // namespace
