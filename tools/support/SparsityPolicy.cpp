//===- SparsityPolicy.cpp - per-layer sparsity options of the model tools -===//
#include "tools/support/SparsityPolicy.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace mest::tools {

SparsityAttr parsePolicy(MLIRContext *ctx, StringRef text, double defaultTarget,
                         std::optional<double> defaultCapacity, std::string &error) {
  SmallVector<StringRef> parts;
  text.split(parts, ':');
  std::optional<Scheme> s = symbolizeScheme(parts[0]);
  if (!s || parts.size() > 3) {
    error = "expected SCHEME[:TARGET[:CAPACITY]] with SCHEME one of dense, unstructured, "
            "channel, block, pattern; got '" + text.str() + "'";
    return {};
  }
  if (*s == Scheme::dense) return SparsityAttr::getDense(ctx);
  double t = defaultTarget;
  if (parts.size() > 1 && parts[1].getAsDouble(t)) {
    error = "target '" + parts[1].str() + "' is not a number";
    return {};
  }
  double c = parts.size() == 1 && defaultCapacity ? *defaultCapacity : t;
  if (parts.size() > 2 && parts[2].getAsDouble(c)) {
    error = "capacity '" + parts[2].str() + "' is not a number";
    return {};
  }
  auto attr =
      SparsityAttr::getChecked(mlir::detail::getDefaultDiagnosticEmitFn(ctx), ctx, *s, t, c);
  if (!attr) error = "invalid sparsity '" + text.str() + "'";
  return attr;
}

bool LayerPolicies::parse(MLIRContext *ctx, const std::string &scheme, double target,
                          double capacity, const std::vector<std::string> &overrideTexts,
                          std::string &error) {
  std::optional<double> cap = capacity >= 0 ? std::optional<double>(capacity) : std::nullopt;
  sparse = parsePolicy(ctx, scheme, target, cap, error);
  if (!sparse) {
    error = "--scheme/--sparsity/--capacity: " + error;
    return false;
  }
  if (cap && sparse.isDense()) {
    error = "--capacity needs a sparse --scheme";
    return false;
  }
  for (const std::string &o : overrideTexts) {
    auto [name, pol] = StringRef(o).split('=');
    if (name.empty() || pol.empty()) {
      error = "--override: expected NAME=POLICY, got '" + o + "'";
      return false;
    }
    SparsityAttr attr = parsePolicy(ctx, pol, target, std::nullopt, error);
    if (!attr) {
      error = "--override " + name.str() + ": " + error;
      return false;
    }
    overrides[name] = attr;
  }
  return true;
}

SparsityAttr LayerPolicies::of(StringRef name, bool isSparse) {
  auto it = overrides.find(name);
  if (it != overrides.end()) {
    used[name] = true;
    return it->second;
  }
  return isSparse ? sparse : SparsityAttr::getDense(sparse.getContext());
}

std::string LayerPolicies::unusedOverride() const {
  for (const auto &o : overrides)
    if (!used.count(o.getKey())) return o.getKey().str();
  return "";
}

} // namespace mest::tools
