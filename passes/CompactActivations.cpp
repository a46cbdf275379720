//===- CompactActivations.cpp - the mest-compact-activations pass ---------===//
//
// Retypes the activations a train step saves for backward to f16 or bf16 (the
// contract: passes/Passes.td). The kernels see the element type of their
// buffers and convert on load and store (KernelBuilder::load/store).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mest {
#define GEN_PASS_DEF_MESTCOMPACTACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

/// Does the kernel of `op` store result 0 once per element (so a 16-bit
/// buffer holds it without rounding partial sums)?
bool writesOnce(Operation *op, func::FuncOp model) {
  auto fwd = dyn_cast<ForwardOp>(op);
  if (!fwd)
    return isa<BatchNormTrainOp, MaxPool2dTrainOp, AvgPool2dOp, GlobalAvgPool2dOp, FlattenOp>(op);
  Operation *layer = SymbolTable::lookupSymbolIn(model, fwd.getLayerAttr());
  auto config =
      layer ? layer->getAttrOfType<KernelConfigAttr>(MestDialect::getKernelConfigAttrName())
            : KernelConfigAttr();
  // A direct forward adds each tap into its output in memory (output-
  // stationary only in the interior, the border per tap).
  return config && config.getForward() == KernelVariant::padded;
}

/// Is `use` a read whose kernel widens a compact activation as it loads it?
bool readsCompact(OpOperand &use) {
  Operation *op = use.getOwner();
  unsigned i = use.getOperandNumber();
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](ForwardOp f) { return i == 0; })
      .Case([&](GradWeightOp g) { return use.get() == g.getInput(); })
      .Case([&](GradWeightSgdOp g) { return use.get() == g.getInput(); })
      .Case([&](BatchNormTrainOp bn) {
        return use.get() == bn.getInput() || use.get() == bn.getResidual();
      })
      .Case([&](BatchNormAffineOp bn) { return use.get() == bn.getInput(); })
      .Case([&](BatchNormGradOp g) {
        return use.get() == g.getInput() || use.get() == g.getReluOutput();
      })
      .Case([&](ReluGradOp r) { return use.get() == r.getOutput(); })
      .Case<MaxPool2dTrainOp, AvgPool2dOp, GlobalAvgPool2dOp, FlattenOp>(
          [&](Operation *) { return i == 0; })
      .Default([](Operation *) { return false; });
}

struct CompactActivationsPass
    : public mest::impl::MestCompactActivationsBase<CompactActivationsPass> {
  using MestCompactActivationsBase::MestCompactActivationsBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    Type elem = storage == "f16"    ? Type(Float16Type::get(ctx))
                : storage == "bf16" ? Type(BFloat16Type::get(ctx))
                                    : Type();
    if (!elem) {
      getOperation().emitError() << "mest-compact-activations: storage '" << storage
                                 << "' is not f16 or bf16";
      return signalPassFailure();
    }
    for (auto step : getOperation().getOps<func::FuncOp>()) {
      if (!MestDialect::isTrainingStep(step)) continue;
      FlatSymbolRefAttr modelRef = MestDialect::getStepModel(step);
      auto model = getOperation().lookupSymbol<func::FuncOp>(modelRef.getAttr());
      Block &body = step.getBody().front();
      DenseMap<Operation *, int64_t> position;
      int64_t loss = -1;
      for (auto [k, op] : llvm::enumerate(body)) {
        position[&op] = static_cast<int64_t>(k);
        if (loss < 0 && isa<SoftmaxCrossEntropyOp>(op)) loss = static_cast<int64_t>(k);
      }
      if (loss < 0 || !model) continue;
      int64_t retyped = 0, bytesSaved = 0;
      for (Operation &op : body) {
        if (position[&op] >= loss) break;
        if (op.getNumResults() == 0 || !writesOnce(&op, model)) continue;
        Value v = op.getResult(0);
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || !type.getElementType().isF32()) continue;
        bool saved = llvm::any_of(v.getUsers(), [&](Operation *u) { return position[u] > loss; });
        bool readable = llvm::all_of(v.getUses(), [](OpOperand &u) { return readsCompact(u); });
        if (!saved || !readable) continue;
        v.setType(RankedTensorType::get(type.getShape(), elem));
        ++retyped;
        bytesSaved += 2 * type.getNumElements();
      }
      step.emitRemark() << "@" << step.getSymName() << ": " << retyped
                        << " saved activations stored as " << storage << " (" << bytesSaved
                        << " bytes less before reuse)";
    }
  }
};

} // namespace
