//===- PlanMemory.cpp - the mest-plan-memory pass -------------------------===//
//
// Static arena placement for a straight-line step: every tensor result lives
// from its defining op to its last use; tensors are placed largest first at the
// lowest offset that does not collide with an already placed tensor whose live
// range overlaps (the greedy-by-size strategy of TFLite's arena planner).
//
//===----------------------------------------------------------------------===//
#include "passes/LayerCost.h"
#include "passes/Passes.h"

#include "dialect/MestDialect.h"
#include "runtime/formats/StateLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace mest {
#define GEN_PASS_DEF_MESTPLANMEMORY
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;

namespace {

struct Buffer {
  Value value;
  int64_t bytes, first, last, offset = -1;
};

int64_t tensorBytes(Type type) {
  auto t = cast<RankedTensorType>(type);
  int64_t elem = t.getElementType().isInteger(1) ? 1 : t.getElementTypeBitWidth() / 8;
  return t.getNumElements() * elem;
}

bool isStep(func::FuncOp f) { return bool(MestDialect::getStepModel(f)); }

struct PlanMemoryPass : public mest::impl::MestPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    for (auto step : getOperation().getOps<func::FuncOp>()) {
      if (!isStep(step)) continue;
      Block &body = step.getBody().front();
      DenseMap<Operation *, int64_t> position;
      for (auto [i, op] : llvm::enumerate(body)) position[&op] = static_cast<int64_t>(i);
      // Values returned by the step are written to caller-owned outputs.
      Operation *ret = body.getTerminator();
      SmallVector<Buffer> buffers;
      for (Operation &op : body) {
        for (Value v : op.getResults()) {
          if (!isa<RankedTensorType>(v.getType()) || !cast<RankedTensorType>(v.getType()).hasStaticShape()) {
            op.emitOpError() << "produces " << v.getType()
                             << ": the arena plan covers static tensors only";
            return signalPassFailure();
          }
          if (llvm::is_contained(ret->getOperands(), v)) continue;
          int64_t last = position[&op];
          for (Operation *user : v.getUsers()) last = std::max(last, position[user]);
          buffers.push_back({v, rt::alignUp(tensorBytes(v.getType())), position[&op], last});
        }
      }
      std::vector<Buffer *> bySize;
      for (Buffer &b : buffers) bySize.push_back(&b);
      // Largest first, ties in program order (pointers into `buffers`): a
      // stable sort without std::stable_sort's deprecated temporary buffer.
      std::sort(bySize.begin(), bySize.end(), [](Buffer *a, Buffer *b) {
        return a->bytes != b->bytes ? a->bytes > b->bytes : a < b;
      });
      int64_t arena = 0, total = 0;
      std::vector<Buffer *> placed;
      for (Buffer *b : bySize) {
        // Collisions with live-overlapping placed buffers, by offset.
        std::vector<std::pair<int64_t, int64_t>> busy;
        for (Buffer *p : placed)
          if (p->first <= b->last && b->first <= p->last)
            busy.push_back({p->offset, p->offset + p->bytes});
        std::sort(busy.begin(), busy.end());
        int64_t offset = 0;
        for (auto [lo, hi] : busy) {
          if (offset + b->bytes <= lo) break;
          offset = std::max(offset, hi);
        }
        b->offset = offset;
        placed.push_back(b);
        arena = std::max(arena, offset + b->bytes);
        total += b->bytes;
      }
      // Record offsets per op, in result order (-1: written to a step output).
      DenseMap<Value, int64_t> offsetOf;
      for (Buffer &b : buffers) offsetOf[b.value] = b.offset;
      auto i64 = IntegerType::get(&getContext(), 64);
      for (Operation &op : body) {
        if (op.getNumResults() == 0) continue;
        SmallVector<int64_t> offsets;
        for (Value v : op.getResults())
          offsets.push_back(offsetOf.count(v) ? offsetOf[v] : -1);
        op.setAttr(MestDialect::getArenaOffsetsAttrName(),
                   DenseI64ArrayAttr::get(&getContext(), offsets));
      }
      step->setAttr(MestDialect::getArenaBytesAttrName(), IntegerAttr::get(i64, arena));
      int64_t scratch = 0;
      FlatSymbolRefAttr modelRef = MestDialect::getStepModel(step);
      if (auto model = getOperation().lookupSymbol<func::FuncOp>(modelRef.getAttr()))
        scratch = maxScratchBytes(model);
      step->setAttr(MestDialect::getScratchBytesAttrName(), IntegerAttr::get(i64, scratch));
      step.emitRemark() << llvm::formatv(
          "@{4}: arena of {0} bytes for {1} tensors of {2} bytes in all ({3:f2}x reuse), "
          "{5} bytes of stack scratch per thread",
          arena, buffers.size(), total, arena ? double(total) / arena : 0.0, step.getSymName(),
          scratch);
    }
  }
};

} // namespace
