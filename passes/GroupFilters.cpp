//===- GroupFilters.cpp - the mest-group-filters pass ---------------------===//
#include "passes/LayerCost.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mest {
#define GEN_PASS_DEF_MESTGROUPFILTERS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

StringRef policyFor(Scheme s) {
  switch (s) {
  case Scheme::unstructured:
  case Scheme::block: return "balance-nnz";
  case Scheme::pattern: return "pattern-mix";
  case Scheme::channel:
  case Scheme::dense: return "none";
  }
  return "none";
}

struct GroupFiltersPass : public mest::impl::MestGroupFiltersBase<GroupFiltersPass> {
  void runOnOperation() override {
    getOperation().walk([&](Operation *op) {
      if (!isa<Conv2dOp, LinearOp>(op)) return;
      op->setAttr(MestDialect::getRegroupAttrName(),
                  StringAttr::get(&getContext(),
                                  policyFor(getWeightInfo(op).sparsity.getScheme())));
    });
  }
};

} // namespace
