//===- MemoryBudget.cpp - mestc --memory-budget ---------------------------===//
#include "MemoryBudget.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;

namespace mest {

std::optional<int64_t> parseBytes(llvm::StringRef text) {
  text = text.trim();
  size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
    ++end;
  double value;
  if (end == 0 || text.take_front(end).getAsDouble(value)) return std::nullopt;
  llvm::StringRef unit = text.drop_front(end).trim();
  double scale = 0;
  for (auto [names, s] : {std::pair{"", 1.0}, {"B", 1.0}, {"K", 1024.0}, {"KB", 1024.0},
                          {"KiB", 1024.0}, {"M", 1048576.0}, {"MB", 1048576.0},
                          {"MiB", 1048576.0}, {"G", 1073741824.0}, {"GB", 1073741824.0},
                          {"GiB", 1073741824.0}})
    if (unit == names) scale = s;
  double bytes = value * scale;
  if (scale == 0 || !(bytes >= 1) || bytes > 9e18) return std::nullopt;
  return static_cast<int64_t>(std::llround(bytes));
}

PlannedMemory plannedMemory(ModuleOp planned, int64_t threads) {
  PlannedMemory m;
  m.threads = threads;
  for (auto f : planned.getOps<func::FuncOp>()) {
    if (auto a = f->getAttrOfType<IntegerAttr>(MestDialect::getStateBytesAttrName()))
      m.state = std::max(m.state, a.getInt());
    if (!MestDialect::isTrainingStep(f)) continue;
    if (auto a = f->getAttrOfType<IntegerAttr>(MestDialect::getArenaBytesAttrName()))
      m.arena = std::max(m.arena, a.getInt());
    if (auto a = f->getAttrOfType<IntegerAttr>(MestDialect::getScratchBytesAttrName()))
      m.scratch = std::max(m.scratch, a.getInt());
  }
  return m;
}

LogicalResult chooseForBudget(ModuleOp module, CompileOptions &options, bool storageGiven,
                              int64_t budget, int64_t threads, PlannedMemory &chosen,
                              PlannedMemory &smallest, CompileOptions &smallestOptions) {
  SmallVector<std::string> storages{options.activationStorage};
  if (!storageGiven && options.activationStorage == "f32") storages.push_back("bf16");
  bool any = false;
  for (int64_t depth = 0; depth <= 4; ++depth) {
    for (const std::string &storage : storages) {
      CompileOptions trial = options;
      trial.activationStorage = storage;
      trial.recomputeDepth = depth;
      OwningOpRef<ModuleOp> copy = module.clone();
      PassManager pm(module.getContext());
      buildPlanPipeline(pm, trial);
      {
        ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &d) {
          return success(d.getSeverity() == DiagnosticSeverity::Remark);
        });
        if (failed(pm.run(*copy))) return failure();
      }
      PlannedMemory m = plannedMemory(*copy, threads);
      if (!any || m.total() < smallest.total()) smallest = m, smallestOptions = trial;
      any = true;
      if (m.total() <= budget) {
        options = trial;
        chosen = m;
        return success();
      }
    }
  }
  return failure();
}

void describeSavedTensors(ModuleOp planned, llvm::raw_ostream &os) {
  for (auto step : planned.getOps<func::FuncOp>()) {
    if (!MestDialect::isTrainingStep(step)) continue;
    Block &body = step.getBody().front();
    DenseMap<Operation *, int64_t> position;
    int64_t loss = -1;
    for (auto [k, op] : llvm::enumerate(body)) {
      position[&op] = static_cast<int64_t>(k);
      if (loss < 0 && isa<SoftmaxCrossEntropyOp>(op)) loss = static_cast<int64_t>(k);
    }
    auto producer = [](Operation *op) {
      if (auto layer = op->getAttrOfType<FlatSymbolRefAttr>("layer"))
        return (layer.getValue() + " " + op->getName().stripDialect()).str();
      return op->getName().stripDialect().str();
    };
    auto shape = [](Type t) {
      auto r = cast<RankedTensorType>(t);
      std::string s;
      llvm::raw_string_ostream ss(s);
      llvm::interleave(r.getShape(), ss, "x");
      ss << " " << r.getElementType();
      return s;
    };
    // Result 0 of each op: the activations (statistics, indices and
    // per-channel tensors, batch_norm_affine's only, are small).
    for (Operation &op : body) {
      if (position[&op] >= loss) break;
      if (op.getNumResults() == 0 || !isa<RankedTensorType>(op.getResult(0).getType()) ||
          isa<BatchNormAffineOp>(op))
        continue;
      Value v = op.getResult(0);
      bool saved = llvm::any_of(v.getUsers(), [&](Operation *u) { return position[u] > loss; });
      auto bn = dyn_cast<BatchNormTrainOp>(&op);
      if (bn && !saved && bn.getAffine())
        os << llvm::formatv("  {0,-34} {1,-22} recomputed in backward\n", producer(&op),
                            shape(v.getType()));
      else if (isa<ReluMaskOp>(&op) && saved)
        os << llvm::formatv("  {0,-34} {1,-22} 1-bit ReLU mask\n",
                            producer(op.getOperand(0).getDefiningOp()),
                            shape(op.getOperand(0).getType()));
      else if (saved && !isa<ReluMaskOp>(&op))
        os << llvm::formatv("  {0,-34} {1,-22} stored\n", producer(&op), shape(v.getType()));
    }
  }
}

} // namespace mest
