//===- GenerateBackward.cpp - the mest-generate-backward pass -------------===//
//
// Compile-time autodiff of a straight-line model: clone the forward pass in
// training mode, then walk it in reverse, emitting each op's gradient ops and
// summing gradients of values with several uses.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mest {
#define GEN_PASS_DEF_MESTGENERATEBACKWARD
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

FlatSymbolRefAttr layerRef(Operation *op) {
  return FlatSymbolRefAttr::get(op->getAttrOfType<StringAttr>("sym_name"));
}

/// Result types of the loss: per-example loss, correctness, margin.
SmallVector<Type> lossTypes(Builder &b, int64_t n) {
  return {RankedTensorType::get({n}, b.getF32Type()), RankedTensorType::get({n}, b.getI1Type()),
          RankedTensorType::get({n}, b.getF32Type())};
}

func::FuncOp createStep(OpBuilder &b, func::FuncOp model, StringRef suffix, bool train) {
  Location loc = model.getLoc();
  auto in = cast<RankedTensorType>(model.getArgumentTypes()[0]);
  int64_t n = in.getDimSize(0);
  SmallVector<Type> args = {in, RankedTensorType::get({n}, b.getI32Type())};
  if (train) args.append(3, b.getF32Type());
  auto func = b.create<func::FuncOp>(loc, (model.getSymName() + suffix).str(),
                                     b.getFunctionType(args, lossTypes(b, n)));
  func->setAttr(train ? MestDialect::getTrainStepAttrName() : MestDialect::getEvalStepAttrName(),
                FlatSymbolRefAttr::get(model.getSymNameAttr()));
  func.addEntryBlock();
  return func;
}

/// Clones the forward ops of `model` into `step`; in training mode batch norm
/// and max pooling become their saving forms and dropout its masking form
/// (numbered in model order), outside training dropout is left out. Returns
/// the logits.
Value cloneForward(OpBuilder &b, func::FuncOp model, func::FuncOp step, bool train,
                   SmallVectorImpl<Operation *> &forward) {
  IRMapping map;
  map.map(model.getArgument(0), step.getArgument(0));
  Value logits;
  int64_t dropouts = 0;
  for (Operation &op : model.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      logits = map.lookup(ret.getOperand(0));
      break;
    }
    Operation *clone = nullptr;
    if (auto drop = dyn_cast<DropoutOp>(op); drop && !train) {
      map.map(drop.getOutput(), map.lookup(drop.getInput()));  // the identity outside training
      continue;
    }
    if (auto drop = dyn_cast<DropoutOp>(op)) {
      clone = b.create<DropoutTrainOp>(drop.getLoc(), drop.getType(), map.lookup(drop.getInput()),
                                       drop.getRatioAttr(), b.getI64IntegerAttr(dropouts++));
    } else if (auto bn = dyn_cast<BatchNormOp>(op); bn && train) {
      auto type = bn.getInput().getType();
      auto stat = RankedTensorType::get({type.getDimSize(1)}, b.getF32Type());
      clone = b.create<BatchNormTrainOp>(bn.getLoc(), type, stat, stat, /*affine=*/Type(),
                                         map.lookup(bn.getInput()), /*stats=*/Value(),
                                         /*residual=*/Value(), layerRef(bn), /*relu=*/UnitAttr());
      clone->setAttrs(bn->getDiscardableAttrDictionary());
      for (auto attrName : {bn.getEpsAttrName(), bn.getMomentumAttrName()})
        clone->setAttr(attrName, bn->getAttr(attrName));
    } else if (auto pool = dyn_cast<MaxPool2dOp>(op); pool && train) {
      auto out = pool.getOutput().getType();
      auto arg = RankedTensorType::get(out.getShape(), b.getI32Type());
      clone = b.create<MaxPool2dTrainOp>(pool.getLoc(), out, arg, map.lookup(pool.getInput()),
                                         pool.getKernelAttr(), pool.getStrideAttr(),
                                         pool.getPaddingAttr());
    } else {
      clone = b.clone(op, map);
    }
    map.map(op.getResult(0), clone->getResult(0));
    forward.push_back(clone);
  }
  return logits;
}

LogicalResult emitBackward(OpBuilder &b, func::FuncOp step, ArrayRef<Operation *> forward,
                           Value logits, Value dlogits) {
  Value input = step.getArgument(0);
  Value lr = step.getArgument(2), mom = step.getArgument(3), wd = step.getArgument(4);
  DenseMap<Value, Value> grads;
  auto addGrad = [&](Value v, Value g) {
    if (v == input) return;
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted) it->second = b.create<AddOp>(g.getLoc(), it->second, g);
  };
  grads[logits] = dlogits;
  for (Operation *op : llvm::reverse(forward)) {
    auto it = grads.find(op->getResult(0));
    if (it == grads.end()) continue;
    Value dy = it->second, x = op->getOperand(0);
    Location loc = op->getLoc();
    bool ok = llvm::TypeSwitch<Operation *, bool>(op)
                  .Case<Conv2dOp, LinearOp>([&](auto layer) {
                    if (x != input)
                      addGrad(x, b.create<GradInputOp>(loc, x.getType(), dy, /*addend=*/Value(),
                                                       layerRef(op)));
                    // Gradient, then update: split here, fused by mest-fuse-sgd.
                    b.create<GradWeightOp>(loc, x, dy, /*input_affine=*/Value(), layerRef(op));
                    b.create<SgdOp>(loc, lr, mom, wd, layerRef(op));
                    return true;
                  })
                  .Case([&](BatchNormTrainOp bn) {
                    Value dx = b.create<BatchNormGradOp>(loc, x.getType(), x, dy, bn.getMean(),
                                                         bn.getInvStd(), /*relu_output=*/Value(),
                                                         /*relu_affine=*/Value(),
                                                         bn.getLayerAttr());
                    b.create<SgdOp>(loc, lr, mom, wd, bn.getLayerAttr());
                    addGrad(x, dx);
                    return true;
                  })
                  .Case([&](DropoutTrainOp drop) {
                    if (x != input)
                      addGrad(x, b.create<DropoutGradOp>(loc, x.getType(), dy,
                                                         drop.getRatioAttr(),
                                                         drop.getIndexAttr()));
                    return true;
                  })
                  .Case([&](ReluOp relu) {
                    addGrad(x, b.create<ReluGradOp>(loc, relu.getOutput(), dy));
                    return true;
                  })
                  .Case([&](ClipOp clip) {
                    addGrad(x, b.create<ClipGradOp>(loc, clip.getOutput(), dy, clip.getMinAttr(),
                                                    clip.getMaxAttr()));
                    return true;
                  })
                  .Case([&](ActivationOp act) {
                    Value saved = ActivationOp::gradientFromOutput(act.getKind())
                                      ? act.getOutput()
                                      : act.getInput();
                    addGrad(x, b.create<ActivationGradOp>(loc, x.getType(), act.getKindAttr(),
                                                          saved, dy, act.getAlphaAttr(),
                                                          act.getBetaAttr()));
                    return true;
                  })
                  .Case([&](ScaleChannelsOp scale) {
                    addGrad(x, b.create<ScaleChannelsOp>(loc, x.getType(), dy, scale.getScale()));
                    addGrad(scale.getScale(),
                            b.create<ScaleChannelsGradOp>(loc, scale.getScale().getType(), x, dy));
                    return true;
                  })
                  .Case([&](ConcatOp concat) {
                    int64_t offset = 0;
                    for (Value in : concat.getInputs()) {
                      addGrad(in, b.create<SliceChannelsOp>(loc, in.getType(), dy,
                                                            b.getI64IntegerAttr(offset)));
                      offset += cast<ShapedType>(in.getType()).getDimSize(1);
                    }
                    return true;
                  })
                  .Case([&](SliceChannelsOp slice) {
                    addGrad(x, b.create<PadChannelsOp>(loc, x.getType(), dy,
                                                       slice.getOffsetAttr()));
                    return true;
                  })
                  .Case([&](ShuffleChannelsOp shuffle) {
                    const int64_t C = cast<ShapedType>(x.getType()).getDimSize(1);
                    addGrad(x, b.create<ShuffleChannelsOp>(
                                   loc, x.getType(), dy,
                                   b.getI64IntegerAttr(C / int64_t(shuffle.getGroups()))));
                    return true;
                  })
                  .Case([&](AddOp add) {
                    addGrad(add.getLhs(), dy);
                    addGrad(add.getRhs(), dy);
                    return true;
                  })
                  .Case([&](MaxPool2dTrainOp pool) {
                    addGrad(x, b.create<MaxPool2dGradOp>(loc, x.getType(), dy, pool.getArgmax(),
                                                         pool.getKernelAttr(),
                                                         pool.getStrideAttr(),
                                                         pool.getPaddingAttr()));
                    return true;
                  })
                  .Case([&](AvgPool2dOp pool) {
                    addGrad(x, b.create<AvgPool2dGradOp>(loc, x.getType(), dy,
                                                         pool.getKernelAttr(),
                                                         pool.getStrideAttr(),
                                                         pool.getPaddingAttr()));
                    return true;
                  })
                  .Case([&](GlobalAvgPool2dOp) {
                    addGrad(x, b.create<GlobalAvgPool2dGradOp>(loc, x.getType(), dy));
                    return true;
                  })
                  .Case([&](FlattenOp) {
                    addGrad(x, b.create<ReshapeOp>(loc, x.getType(), dy));
                    return true;
                  })
                  .Default([](Operation *) { return false; });
    if (!ok)
      return op->emitOpError() << "has no gradient rule in mest-generate-backward";
  }
  return success();
}

struct GenerateBackwardPass
    : public mest::impl::MestGenerateBackwardBase<GenerateBackwardPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> models;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (f->hasAttr(MestDialect::getModelAttrName())) models.push_back(f);
    for (func::FuncOp model : models) {
      if (!llvm::hasSingleElement(model.getBody())) {
        model.emitError() << "a mest model must be a single block";
        return signalPassFailure();
      }
      OpBuilder b(model.getContext());
      b.setInsertionPointAfter(model);
      for (bool train : {true, false}) {
        func::FuncOp step = createStep(b, model, train ? "_train" : "_eval", train);
        OpBuilder body = OpBuilder::atBlockEnd(&step.getBody().front());
        SmallVector<Operation *> forward;
        Value logits = cloneForward(body, model, step, train, forward);
        auto loss = body.create<SoftmaxCrossEntropyOp>(
            model.getLoc(), lossTypes(body, cast<ShapedType>(logits.getType()).getDimSize(0)),
            logits, step.getArgument(1));
        if (train) {
          Value dlogits = body.create<SoftmaxCrossEntropyGradOp>(model.getLoc(), logits.getType(),
                                                                 logits, step.getArgument(1));
          if (failed(emitBackward(body, step, forward, logits, dlogits)))
            return signalPassFailure();
          // After every mask is used: the next step draws new ones.
          if (llvm::any_of(forward, [](Operation *op) { return isa<DropoutTrainOp>(op); }))
            body.create<AdvanceDropoutOp>(model.getLoc());
        }
        body.create<func::ReturnOp>(model.getLoc(), loss.getResults());
        b.setInsertionPointAfter(step);
      }
      // The inference entry: the eval forward returning the logits, nothing
      // else (no labels, no loss), with its own, smaller arena.
      auto infer = b.create<func::FuncOp>(model.getLoc(), (model.getSymName() + "_infer").str(),
                                          model.getFunctionType());
      infer->setAttr(MestDialect::getInferStepAttrName(),
                     FlatSymbolRefAttr::get(model.getSymNameAttr()));
      infer.addEntryBlock();
      OpBuilder body = OpBuilder::atBlockEnd(&infer.getBody().front());
      SmallVector<Operation *> forward;
      Value logits = cloneForward(body, model, infer, /*train=*/false, forward);
      body.create<func::ReturnOp>(model.getLoc(), logits);
    }
  }
};

} // namespace
