//===- FormKernels.cpp - the mest-form-kernels pass -----------------------===//
//
// Groups each step's ops into the kernels mest-lower-kernels emits, on SSA
// values (the contract: passes/Passes.td). Every rewrite replaces a chain of
// ops by one op placed at the last op of the chain, and is legal when
//   - each intermediate value has the chain's next op as its only user (it is
//     then never materialised), and
//   - no op between the chain's first and last op touches the state of the
//     layer whose op moves (a moved read of weights must not pass their update).
// Nothing here knows about memory: mest-plan-memory, which runs next, sees the
// formed kernels and plans exactly the values they read and write.
//
//===----------------------------------------------------------------------===//
#include "passes/LayerRefs.h"
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mest {
#define GEN_PASS_DEF_MESTFORMKERNELS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

bool isStep(func::FuncOp f) { return bool(MestDialect::getStepModel(f)); }

/// The model's conv2d and linear layers by name, with their configuration.
struct ModelLayers {
  llvm::DenseMap<StringAttr, Operation *> byName;
  bool padded(FlatSymbolRefAttr name, bool forward) const {
    auto c = byName.lookup(name.getAttr())
                 ->getAttrOfType<KernelConfigAttr>(MestDialect::getKernelConfigAttrName());
    return c && (forward ? c.getForward() : c.getBackwardData()) == KernelVariant::padded;
  }
};

/// batch_norm_train rebuilt with other prologue/epilogue operands, at `at`.
BatchNormTrainOp rebuildBatchNorm(BatchNormTrainOp bn, Operation *at, Value stats,
                                  Value residual, bool relu) {
  OpBuilder b(at);
  auto fused = b.create<BatchNormTrainOp>(bn.getLoc(), bn.getOutput().getType(),
                                          bn.getMean().getType(), bn.getInvStd().getType(),
                                          /*affine=*/Type(), bn.getInput(), stats, residual,
                                          bn.getLayerAttr(),
                                          relu ? b.getUnitAttr() : UnitAttr());
  fused->setDiscardableAttrs(bn->getDiscardableAttrDictionary());
  bn.getMean().replaceAllUsesWith(fused.getMean());
  bn.getInvStd().replaceAllUsesWith(fused.getInvStd());
  return fused;
}

/// The batch norm defining `v`, if `v` is its plain output (no epilogue yet)
/// used once: by the op about to be fused into it.
BatchNormTrainOp plainBatchNorm(Value v) {
  auto bn = v.getDefiningOp<BatchNormTrainOp>();
  return bn && v.hasOneUse() && !bn.getResidual() && !bn.getRelu() ? bn : BatchNormTrainOp();
}

/// conv2d / linear -> mest.forward @layer.
void formForwardKernels(Block &body) {
  for (Operation &op : llvm::make_early_inc_range(body)) {
    if (!isa<Conv2dOp, LinearOp>(op)) continue;
    OpBuilder b(&op);
    auto fwd = b.create<ForwardOp>(op.getLoc(), op.getResult(0).getType(), /*stats=*/Type(),
                                   op.getOperand(0), /*input_affine=*/Value(),
                                   FlatSymbolRefAttr::get(op.getAttrOfType<StringAttr>("sym_name")));
    op.getResult(0).replaceAllUsesWith(fwd.getOutput());
    op.erase();
  }
}

/// bn -> relu and bn -> add -> relu: one batch norm with the residual and the
/// ReLU as epilogue, at the ReLU.
void fuseBatchNormEpilogues(Block &body) {
  for (auto relu : llvm::make_early_inc_range(body.getOps<ReluOp>())) {
    BatchNormTrainOp bn = plainBatchNorm(relu.getInput());
    Value residual;
    AddOp add;
    if (!bn) {
      add = relu.getInput().getDefiningOp<AddOp>();
      if (!add || !add.getResult().hasOneUse()) continue;
      if ((bn = plainBatchNorm(add.getLhs())))
        residual = add.getRhs();
      else if ((bn = plainBatchNorm(add.getRhs())))
        residual = add.getLhs();
      else
        continue;
    }
    if (touchedBetween(bn, relu, bn.getLayerAttr())) continue;
    BatchNormTrainOp fused = rebuildBatchNorm(bn, relu, bn.getStats(), residual, true);
    relu.getResult().replaceAllUsesWith(fused.getOutput());
    relu.erase();
    if (add) add.erase();
    bn.erase();
  }
}

/// relu_grad -> batch_norm_grad: the ReLU's backward as the batch norm
/// backward's prologue (it reads the ReLU output and incoming gradient).
void fuseReluGradPrologues(Block &body) {
  for (auto g : llvm::make_early_inc_range(body.getOps<BatchNormGradOp>())) {
    auto rg = g.getOutputGrad().getDefiningOp<ReluGradOp>();
    if (!rg || !rg.getResult().hasOneUse() || g.getReluOutput()) continue;
    OpBuilder b(g);
    auto fused = b.create<BatchNormGradOp>(g.getLoc(), g.getInputGrad().getType(), g.getInput(),
                                           rg.getOutputGrad(), g.getMean(), g.getInvStd(),
                                           rg.getOutput(), /*relu_affine=*/Value(),
                                           g.getLayerAttr());
    fused->setDiscardableAttrs(g->getDiscardableAttrDictionary());
    g.getInputGrad().replaceAllUsesWith(fused.getInputGrad());
    g.erase();
    rg.erase();
  }
}

/// add(grad_input @L(dy), g) at a fan-out: L's backward-data adds g as it
/// stores (padded backward-data kernels only), at the add.
void fuseGradientSums(Block &body, const ModelLayers &layers) {
  for (auto add : llvm::make_early_inc_range(body.getOps<AddOp>())) {
    for (auto [mine, other] : {std::pair{add.getLhs(), add.getRhs()},
                               std::pair{add.getRhs(), add.getLhs()}}) {
      auto gi = mine.getDefiningOp<GradInputOp>();
      if (!gi || !mine.hasOneUse() || gi.getAddend() || !layers.padded(gi.getLayerAttr(), false) ||
          touchedBetween(gi, add, gi.getLayerAttr()))
        continue;
      OpBuilder b(add);
      auto fused = b.create<GradInputOp>(gi.getLoc(), add.getType(), gi.getOutputGrad(), other,
                                         gi.getLayerAttr());
      fused->setDiscardableAttrs(gi->getDiscardableAttrDictionary());
      add.getResult().replaceAllUsesWith(fused.getInputGrad());
      add.erase();
      gi.erase();
      break;
    }
  }
}

/// forward @conv -> batch_norm_train: the conv's epilogue writes the
/// per-plane statistics (padded forward kernels only), the batch norm takes
/// them and makes one pass over its input instead of two. The first batch
/// norm reading the conv's output gets them.
void fuseStatistics(Block &body, const ModelLayers &layers) {
  for (auto bn : llvm::make_early_inc_range(body.getOps<BatchNormTrainOp>())) {
    auto fwd = bn.getInput().getDefiningOp<ForwardOp>();
    if (!fwd || fwd.getStats() || bn.getStats() ||
        !isa<Conv2dOp>(layers.byName.lookup(fwd.getLayerAttr().getAttr())) ||
        !layers.padded(fwd.getLayerAttr(), true))
      continue;
    auto out = cast<RankedTensorType>(fwd.getOutput().getType());
    auto statsType =
        RankedTensorType::get({out.getDimSize(0), out.getDimSize(1), 2}, out.getElementType());
    OpBuilder b(fwd);
    auto withStats = b.create<ForwardOp>(fwd.getLoc(), out, statsType, fwd.getInput(),
                                         fwd.getInputAffine(), fwd.getLayerAttr());
    withStats->setDiscardableAttrs(fwd->getDiscardableAttrDictionary());
    fwd.getOutput().replaceAllUsesWith(withStats.getOutput());
    fwd.erase();
    BatchNormTrainOp fused =
        rebuildBatchNorm(bn, bn, withStats.getStats(), bn.getResidual(), bn.getRelu());
    bn.getOutput().replaceAllUsesWith(fused.getOutput());
    bn.erase();
  }
}

/// relu(bn(x)) whose every user can apply it while reading x: the batch norm
/// becomes mest.batch_norm_affine (statistics and per-channel scale and
/// shift, no output), padded conv forward and backward-weight kernels take x
/// with `bn_relu`, and the batch norm's own backward recomputes the ReLU mask
/// from x (`relu_affine`). The output is never materialised.
void foldBatchNormsIntoConsumers(Block &body, const ModelLayers &layers) {
  auto paddedConv = [&](FlatSymbolRefAttr layer) {
    return isa<Conv2dOp>(layers.byName.lookup(layer.getAttr())) && layers.padded(layer, true);
  };
  for (auto bn : llvm::make_early_inc_range(body.getOps<BatchNormTrainOp>())) {
    Value y = bn.getOutput();
    if (!bn.getRelu() || bn.getResidual() ||
        cast<RankedTensorType>(y.getType()).getRank() != 4 || y.use_empty())
      continue;
    bool foldable = llvm::all_of(y.getUses(), [&](OpOperand &use) {
      Operation *user = use.getOwner();
      if (auto f = dyn_cast<ForwardOp>(user)) return paddedConv(f.getLayerAttr());
      if (auto g = dyn_cast<GradWeightSgdOp>(user))
        return use.getOperandNumber() == 0 && paddedConv(g.getLayerAttr());
      if (auto g = dyn_cast<GradWeightOp>(user))
        return use.getOperandNumber() == 0 && paddedConv(g.getLayerAttr());
      if (auto g = dyn_cast<BatchNormGradOp>(user))
        return g.getReluOutput() == y && g.getInput() != y && g.getOutputGrad() != y &&
               g.getLayerAttr() == bn.getLayerAttr();
      return false;
    });
    if (!foldable) continue;
    OpBuilder b(bn);
    int64_t C = cast<RankedTensorType>(y.getType()).getDimSize(1);
    auto affineType = RankedTensorType::get({C, 2}, b.getF32Type());
    auto folded = b.create<BatchNormAffineOp>(bn.getLoc(), bn.getMean().getType(),
                                              bn.getInvStd().getType(), affineType, bn.getInput(),
                                              bn.getStats(), bn.getLayerAttr());
    folded->setDiscardableAttrs(bn->getDiscardableAttrDictionary());
    Value x = bn.getInput(), affine = folded.getAffine();
    for (Operation *user : llvm::make_early_inc_range(y.getUsers())) {
      OpBuilder ub(user);
      Operation *rebuilt = nullptr;
      if (auto f = dyn_cast<ForwardOp>(user)) {
        auto nf = ub.create<ForwardOp>(f.getLoc(), f.getOutput().getType(),
                                       f.getStats() ? f.getStats().getType() : Type(), x, affine,
                                       f.getLayerAttr());
        f.getOutput().replaceAllUsesWith(nf.getOutput());
        if (f.getStats()) f.getStats().replaceAllUsesWith(nf.getStats());
        rebuilt = nf;
      } else if (auto g = dyn_cast<GradWeightSgdOp>(user)) {
        rebuilt = ub.create<GradWeightSgdOp>(g.getLoc(), x, g.getOutputGrad(), g.getLr(),
                                             g.getMomentum(), g.getWeightDecay(), affine,
                                             g.getLayerAttr());
      } else if (auto g = dyn_cast<GradWeightOp>(user)) {
        rebuilt = ub.create<GradWeightOp>(g.getLoc(), x, g.getOutputGrad(), affine,
                                          g.getLayerAttr());
      } else if (auto g = dyn_cast<BatchNormGradOp>(user)) {
        auto ng = ub.create<BatchNormGradOp>(g.getLoc(), g.getInputGrad().getType(),
                                             g.getInput(), g.getOutputGrad(), g.getMean(),
                                             g.getInvStd(), /*relu_output=*/Value(), affine,
                                             g.getLayerAttr());
        g.getInputGrad().replaceAllUsesWith(ng.getInputGrad());
        rebuilt = ng;
      }
      rebuilt->setDiscardableAttrs(user->getDiscardableAttrDictionary());
      user->erase();
    }
    bn.getMean().replaceAllUsesWith(folded.getMean());
    bn.getInvStd().replaceAllUsesWith(folded.getInvStd());
    bn.erase();
  }
}

struct FormKernelsPass : public mest::impl::MestFormKernelsBase<FormKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto step : module.getOps<func::FuncOp>()) {
      if (!isStep(step)) continue;
      FlatSymbolRefAttr ref = MestDialect::getStepModel(step);
      auto model = module.lookupSymbol<func::FuncOp>(ref.getAttr());  // verified to exist
      ModelLayers layers;
      model.walk([&](Operation *op) {
        if (isa<Conv2dOp, LinearOp>(op))
          layers.byName[op->getAttrOfType<StringAttr>("sym_name")] = op;
      });
      Block &body = step.getBody().front();
      formForwardKernels(body);
      fuseBatchNormEpilogues(body);
      fuseReluGradPrologues(body);
      fuseGradientSums(body, layers);
      fuseStatistics(body, layers);
      if (MestDialect::isTrainingStep(step))
        foldBatchNormsIntoConsumers(body, layers);
    }
  }
};

} // namespace
