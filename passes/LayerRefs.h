//===- LayerRefs.h - which ops of a step act on a layer's state -*- C++ -*-===//
#ifndef MEST_PASSES_LAYERREFS_H
#define MEST_PASSES_LAYERREFS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

namespace mest {

/// Whether an op of a step reads or writes layer `name`'s state: an op naming
/// it (`@layer`: training ops, forward kernels), or the layer op itself.
inline bool touchesLayer(mlir::Operation *op, mlir::FlatSymbolRefAttr name) {
  if (op->getAttrOfType<mlir::FlatSymbolRefAttr>("layer") == name) return true;
  auto sym = op->getAttrOfType<mlir::StringAttr>("sym_name");
  return sym && sym == name.getAttr();
}

/// Whether any op strictly between `from` and `to` (same block, `from`
/// first) touches layer `name`: moving an op of that layer from `from` to `to`
/// would then reorder its reads and writes of the state.
inline bool touchedBetween(mlir::Operation *from, mlir::Operation *to,
                           mlir::FlatSymbolRefAttr name) {
  for (mlir::Operation *op = from->getNextNode(); op && op != to; op = op->getNextNode())
    if (touchesLayer(op, name)) return true;
  return false;
}

} // namespace mest

#endif // MEST_PASSES_LAYERREFS_H
