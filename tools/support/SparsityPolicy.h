//===- SparsityPolicy.h - per-layer sparsity options of the model tools ---===//
//
// mest-model and mest-import take the same policy options (--scheme,
// --sparsity, --capacity, --override NAME=SCHEME[:TARGET[:CAPACITY]]); this is
// their one parser.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TOOLS_SUPPORT_SPARSITYPOLICY_H
#define MEST_TOOLS_SUPPORT_SPARSITYPOLICY_H

#include "dialect/MestDialect.h"

#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace mest::tools {

/// Parses SCHEME[:TARGET[:CAPACITY]]; a missing target is `defaultTarget`, a
/// missing capacity `defaultCapacity` when given, else the target. On failure
/// returns null and sets `error` (attribute verification also reports to the
/// context's diagnostic handler).
SparsityAttr parsePolicy(mlir::MLIRContext *ctx, llvm::StringRef text, double defaultTarget,
                         std::optional<double> defaultCapacity, std::string &error);

/// The policy of the default sparse layers and the per-layer overrides, from
/// the tools' options. On failure returns false and sets `error`.
struct LayerPolicies {
  SparsityAttr sparse;
  llvm::StringMap<SparsityAttr> overrides;
  llvm::StringMap<bool> used;  // overrides a layer asked for

  bool parse(mlir::MLIRContext *ctx, const std::string &scheme, double target, double capacity,
             const std::vector<std::string> &overrideTexts, std::string &error);
  /// The policy of a layer: its override, else `sparse` when `isSparse`, else dense.
  SparsityAttr of(llvm::StringRef name, bool isSparse);
  /// The first override no layer asked for, or "".
  std::string unusedOverride() const;
};

} // namespace mest::tools

#endif // MEST_TOOLS_SUPPORT_SPARSITYPOLICY_H
