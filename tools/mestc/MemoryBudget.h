//===- MemoryBudget.h - mestc --memory-budget ------------------*- C++ -*-===//
//
// Chooses how a train step keeps what backward needs (activation storage,
// recomputation depth; ReLU masks always) so that its planned memory fits a
// budget with the least recomputation, and describes the chosen plan.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TOOLS_MESTC_MEMORYBUDGET_H
#define MEST_TOOLS_MESTC_MEMORYBUDGET_H

#include "codegen/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mest {

/// "41943040", "40MiB", "40M", "512K", "1.5GiB": binary multiples; nullopt when
/// the text is not a positive size.
std::optional<int64_t> parseBytes(llvm::StringRef text);

/// The memory a planned module needs: state + train arena + scratch per thread.
struct PlannedMemory {
  int64_t state = 0, arena = 0, scratch = 0, threads = 1;
  int64_t total() const { return state + arena + scratch * threads; }
};
PlannedMemory plannedMemory(mlir::ModuleOp planned, int64_t threads);

/// Tries the plans in order of cost (no recomputation, then chains of 1 to 4;
/// at each, the given storage, or f32 then bf16) on clones of `module`, and sets
/// `options` to the first whose planned memory is at most `budget`. On
/// failure, `smallest` is the least memory any plan reaches.
mlir::LogicalResult chooseForBudget(mlir::ModuleOp module, CompileOptions &options,
                                    bool storageGiven, int64_t budget, int64_t threads,
                                    PlannedMemory &chosen, PlannedMemory &smallest,
                                    CompileOptions &smallestOptions);

/// One line per tensor the train step keeps across the turn from forward to
/// backward, with its form: stored (f32, f16, bf16), bit mask, recomputed.
void describeSavedTensors(mlir::ModuleOp planned, llvm::raw_ostream &os);

} // namespace mest

#endif // MEST_TOOLS_MESTC_MEMORYBUDGET_H
