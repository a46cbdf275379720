//===- ReportCost.cpp - the mest-report-cost pass -------------------------===//
//
// Prints the cost table of each model: the user's first answer to "what will
// this cost?".
//
//===----------------------------------------------------------------------===//
#include "passes/LayerCost.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace mest {
#define GEN_PASS_DEF_MESTREPORTCOST
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

/// Layers of a model in program order, with whether each needs its input gradient.
SmallVector<LayerCost> costModel(func::FuncOp model) {
  SmallVector<LayerCost> rows;
  Value input = model.getArgument(0);
  model.walk([&](LayerOpInterface layer) {
    rows.push_back(computeLayerCost(layer, layer->getOperand(0) != input));
  });
  return rows;
}

LayerCost total(ArrayRef<LayerCost> rows) {
  LayerCost t;
  t.name = "total";
  for (const LayerCost &r : rows) {
    t.params += r.params;
    t.activeTarget += r.activeTarget;
    t.activeCapacity += r.activeCapacity;
    t.fwdMacsTarget += r.fwdMacsTarget;
    t.fwdMacsDense += r.fwdMacsDense;
    t.bwdMacsTarget += r.bwdMacsTarget;
    t.bwdMacsDense += r.bwdMacsDense;
    t.storageBytes += r.storageBytes;
  }
  return t;
}

/// What the compiled model will hold in memory, as far as it is planned: the
/// state block (mest-plan-storage), the arena of the steps (mest-plan-memory)
/// and the kernels' stack scratch per thread (mest-configure-kernels).
struct MemoryPlan {
  std::optional<int64_t> state, arena;
  int64_t scratch = 0;
};
MemoryPlan memoryPlan(ModuleOp module, func::FuncOp model) {
  MemoryPlan p;
  if (auto s = model->getAttrOfType<IntegerAttr>(MestDialect::getStateBytesAttrName()))
    p.state = s.getInt();
  p.scratch = maxScratchBytes(model);
  for (auto f : module.getOps<func::FuncOp>()) {
    FlatSymbolRefAttr ref = MestDialect::getStepModel(f);
    auto arena = f->getAttrOfType<IntegerAttr>(MestDialect::getArenaBytesAttrName());
    if (ref && ref.getValue() == model.getSymName() && arena)
      p.arena = std::max(p.arena.value_or(0), arena.getInt());
  }
  return p;
}

void printTable(func::FuncOp model, ArrayRef<LayerCost> rows, const MemoryPlan &plan,
                raw_ostream &os) {
  os << "mest cost report for @" << model.getSymName() << " (MACs per batch of "
     << cast<ShapedType>(model.getArgument(0).getType()).getDimSize(0) << ")\n";
  auto line = [&](const LayerCost &r) {
    os << llvm::format("%-22s %-10s %-12s %10lld %10lld %10lld %13lld %13lld %13lld %13lld "
                       "%11lld\n",
                       r.name.c_str(), r.kind.c_str(), r.scheme.c_str(), (long long)r.params,
                       (long long)r.activeTarget, (long long)r.activeCapacity,
                       (long long)r.fwdMacsTarget, (long long)r.fwdMacsDense,
                       (long long)r.bwdMacsTarget, (long long)r.bwdMacsDense,
                       (long long)r.storageBytes);
  };
  os << llvm::formatv("{0,-22} {1,-10} {2,-12} {3,10} {4,10} {5,10} {6,13} {7,13} {8,13} "
                      "{9,13} {10,11}\n",
                      "layer", "kind", "scheme", "params", "active", "capacity", "fwd-MACs",
                      "fwd-dense", "bwd-MACs", "bwd-dense", "bytes");
  for (const LayerCost &r : rows) line(r);
  LayerCost t = total(rows);
  line(t);
  double denseBytes = 16.0 * t.params; // w, grad, momentum (+ BN stats) if stored dense
  os << llvm::format("density %.4f at target, %.4f at capacity; fwd MACs %.3fx fewer than "
                     "dense; storage %.2f MiB (%.2f MiB if dense)\n",
                     double(t.activeTarget) / t.params, double(t.activeCapacity) / t.params,
                     double(t.fwdMacsDense) / t.fwdMacsTarget, t.storageBytes / 1048576.0,
                     denseBytes / 1048576.0);
  auto bytes = [](std::optional<int64_t> v) {
    return v ? std::to_string(*v) + " bytes" : std::string("not planned");
  };
  os << "memory: state " << bytes(plan.state) << ", arena " << bytes(plan.arena)
     << ", stack scratch " << plan.scratch << " bytes per thread";
  if (plan.state && plan.arena)
    os << llvm::formatv("; planned {0} bytes ({1:f2} MiB) + {2} bytes x threads",
                        *plan.state + *plan.arena, (*plan.state + *plan.arena) / 1048576.0,
                        plan.scratch);
  os << "\n";
}

void printJson(func::FuncOp model, ArrayRef<LayerCost> rows, const MemoryPlan &plan,
               raw_ostream &os) {
  auto obj = [](const LayerCost &r) {
    return llvm::json::Object{
        {"name", r.name},          {"kind", r.kind},
        {"scheme", r.scheme},      {"params", r.params},
        {"active", r.activeTarget}, {"capacity", r.activeCapacity},
        {"fwd_macs", r.fwdMacsTarget}, {"fwd_macs_dense", r.fwdMacsDense},
        {"bwd_macs", r.bwdMacsTarget}, {"bwd_macs_dense", r.bwdMacsDense},
        {"bytes", r.storageBytes}};
  };
  llvm::json::Array layers;
  for (const LayerCost &r : rows) layers.push_back(obj(r));
  llvm::json::Object doc{{"model", model.getSymName().str()},
                         {"layers", std::move(layers)},
                         {"total", obj(total(rows))},
                         {"state_bytes", plan.state ? llvm::json::Value(*plan.state) : nullptr},
                         {"arena_bytes", plan.arena ? llvm::json::Value(*plan.arena) : nullptr},
                         {"scratch_bytes_per_thread", plan.scratch}};
  os << llvm::json::Value(std::move(doc)) << "\n";
}

struct ReportCostPass : public mest::impl::MestReportCostBase<ReportCostPass> {
  using mest::impl::MestReportCostBase<ReportCostPass>::MestReportCostBase;

  void runOnOperation() override {
    if (format != "table" && format != "json") {
      getOperation().emitError() << "mest-report-cost: unknown format '" << format
                                 << "', expected table or json";
      return signalPassFailure();
    }
    for (auto model : getOperation().getOps<func::FuncOp>()) {
      if (!model->hasAttr(MestDialect::getModelAttrName())) continue;
      SmallVector<LayerCost> rows = costModel(model);
      MemoryPlan plan = memoryPlan(getOperation(), model);
      if (format == "json")
        printJson(model, rows, plan, llvm::outs());
      else
        printTable(model, rows, plan, llvm::outs());
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
