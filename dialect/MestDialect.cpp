//===- MestDialect.cpp - dialect registration and model verification -----===//
#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mest;

#include "dialect/MestDialect.cpp.inc"
#include "dialect/MestEnums.cpp.inc"
#include "dialect/MestOpInterfaces.cpp.inc"

void MestDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/MestOps.cpp.inc"
      >();
  registerAttributes();
}

/// `mest.model` on a func.func: a model takes one input batch, returns logits, and
/// names each layer once.
LogicalResult MestDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  if (attr.getName() != getModelAttrName())
    return op->emitError() << "unknown mest attribute '" << attr.getName().getValue() << "'";
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func)
    return op->emitError() << "'" << getModelAttrName() << "' applies to func.func only";
  if (!isa<UnitAttr>(attr.getValue()))
    return op->emitError() << "'" << getModelAttrName() << "' must be a unit attribute";
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() != 1 || type.getNumResults() != 1)
    return op->emitError() << "a mest model takes one input batch and returns one "
                              "logits tensor, got "
                           << type.getNumInputs() << " inputs and " << type.getNumResults()
                           << " results";
  auto in = dyn_cast<RankedTensorType>(type.getInput(0));
  auto out = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!in || !out || !in.hasStaticShape() || !out.hasStaticShape() || out.getRank() != 2 ||
      in.getDimSize(0) != out.getDimSize(0))
    return op->emitError() << "a mest model maps a static [N, ...] batch to [N, classes] "
                              "logits, got "
                           << type;
  llvm::DenseMap<StringAttr, Operation *> seen;
  WalkResult result = func.walk([&](LayerOpInterface layer) {
    auto name = layer->getAttrOfType<StringAttr>("sym_name");
    auto [it, inserted] = seen.try_emplace(name, layer.getOperation());
    if (inserted) return WalkResult::advance();
    InFlightDiagnostic diag = layer->emitOpError() << "layer name @" << name.getValue()
                                                   << " is already used in this model";
    diag.attachNote(it->second->getLoc()) << "first use here";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}
