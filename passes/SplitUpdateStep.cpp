//===- SplitUpdateStep.cpp - the mest-split-update-step pass --------------===//
//
// @M_train -> @M_grad (forward, backward, gradients stored) + @M_update (every
// mest.sgd), the form data-parallel training exchanges gradients in between
// (the contract: passes/Passes.td).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/MestDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mest {
#define GEN_PASS_DEF_MESTSPLITUPDATESTEP
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

LogicalResult split(func::FuncOp train, bool sync) {
  Block &body = train.getBody().front();
  if (body.getNumArguments() != 5)
    return train.emitError() << "mest-split-update-step: a train step takes (x, labels, lr, "
                                "momentum, weight_decay), got "
                             << body.getNumArguments() << " arguments";
  for (Operation &op : body)
    if (isa<GradWeightSgdOp>(op))
      return op.emitOpError() << "is a fused update: mest-split-update-step runs instead of "
                                 "mest-fuse-sgd, not after it";
  auto modelRef = train->getAttrOfType<FlatSymbolRefAttr>(MestDialect::getTrainStepAttrName());
  std::string base = train.getSymName().str();
  if (StringRef(base).ends_with("_train")) base.resize(base.size() - 6);
  OpBuilder b(train);
  // The update step: the scalars, every sgd in order.
  auto update = b.create<func::FuncOp>(
      train.getLoc(), base + "_update",
      b.getFunctionType(TypeRange(body.getArgumentTypes()).drop_front(2), {}));
  update->setAttr(MestDialect::getUpdateStepAttrName(), modelRef);
  Block *ub = update.addEntryBlock();
  IRMapping map;
  for (unsigned k = 0; k < 3; ++k) map.map(body.getArgument(2 + k), ub->getArgument(k));
  OpBuilder ubuild = OpBuilder::atBlockEnd(ub);
  SmallVector<Operation *> sgds;
  for (Operation &op : body)
    if (isa<SgdOp>(op)) sgds.push_back(&op);
  for (Operation *op : sgds) {
    ubuild.clone(*op, map);
    op->erase();
  }
  ubuild.create<func::ReturnOp>(train.getLoc());
  for (unsigned k = 2; k < 5; ++k)
    if (!body.getArgument(k).use_empty())
      return train.emitError() << "mest-split-update-step: argument " << k
                               << " (a learning-rate scalar) is used by an op that is not "
                                  "mest.sgd";
  // The grad step: the train step without its updates and their scalars.
  body.eraseArguments(2, 3);
  auto grad = b.create<func::FuncOp>(
      train.getLoc(), base + "_grad",
      b.getFunctionType(body.getArgumentTypes(), train.getResultTypes()));
  grad->setAttr(MestDialect::getGradStepAttrName(), modelRef);
  if (sync) grad->setAttr(MestDialect::getSyncReplicasAttrName(), b.getUnitAttr());
  grad.getBody().takeBody(train.getBody());
  train.erase();
  return success();
}

struct SplitUpdateStepPass : public mest::impl::MestSplitUpdateStepBase<SplitUpdateStepPass> {
  using MestSplitUpdateStepBase::MestSplitUpdateStepBase;

  void runOnOperation() override {
    SmallVector<func::FuncOp> trains;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (f->hasAttr(MestDialect::getTrainStepAttrName())) trains.push_back(f);
    for (func::FuncOp train : trains)
      if (failed(split(train, syncBatchNorm))) return signalPassFailure();
  }
};

} // namespace
