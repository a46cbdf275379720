//===- VectorLoops.h - vector loops over flat f32 arrays --------*- C++ -*-===//
//
// What the batch-norm, pooling and elementwise kernels share: a loop over
// [base, base + n) in vectors of `vw` floats with a scalar tail, loads and
// stores at either width (of f32, or of f16/bf16 arrays converted to f32),
// splats, and horizontal sums.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_VECTORLOOPS_H
#define MEST_CODEGEN_VECTORLOOPS_H

#include "codegen/KernelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace mest::codegen {

/// An internal kernel `name(args...)` with no results, the builder inside its body.
inline mlir::func::FuncOp beginKernel(mlir::OpBuilder &b, mlir::Location loc,
                                      llvm::StringRef name, llvm::ArrayRef<mlir::Type> args) {
  auto f = b.create<mlir::func::FuncOp>(loc, name, b.getFunctionType(args, {}));
  b.setInsertionPointToStart(f.addEntryBlock());
  return f;
}
/// memref<n x elem>, f32 by default: the kernels' flat arrays.
inline mlir::Type flatArray(mlir::OpBuilder &b, int64_t n, mlir::Type elem = {}) {
  return mlir::MemRefType::get({n}, elem ? elem : b.getF32Type());
}

class VectorLoops {
public:
  VectorLoops(KernelBuilder &kb, int64_t vw) : kb(kb), b(kb.b), loc(kb.loc), vw(vw) {}

  mlir::Type type(int64_t w) {
    return w == 1 ? mlir::Type(b.getF32Type()) : mlir::VectorType::get({w}, b.getF32Type());
  }
  mlir::Value splat(mlir::Value s, int64_t w) {
    return w == 1 ? s : b.create<mlir::vector::BroadcastOp>(loc, type(w), s).getResult();
  }
  /// (f16/bf16 arrays convert: KernelBuilder::loadFloats.)
  mlir::Value load(mlir::Value mem, mlir::Value i, int64_t w) { return kb.loadFloats(mem, i, w); }
  void store(mlir::Value v, mlir::Value mem, mlir::Value i, int64_t w) {
    kb.storeFloats(v, mem, i, w);
  }
  /// The sum of a vector's lanes (a scalar as is).
  mlir::Value sum(mlir::Value v) {
    if (!mlir::isa<mlir::VectorType>(v.getType())) return v;
    return b.create<mlir::vector::ReductionOp>(loc, mlir::vector::CombiningKind::ADD, v);
  }

  /// body(i, w) for i = base, base + vw, ... in vectors of w = vw, then the
  /// remaining n % vw elements one by one (w = 1).
  void each(mlir::Value base, int64_t n, const std::function<void(mlir::Value, int64_t)> &body) {
    int64_t full = n / vw * vw;
    if (full) kb.forLoop(base, kb.add(base, kb.idx(full)), vw, [&](mlir::Value i) { body(i, vw); });
    if (full < n)
      kb.forLoop(kb.add(base, kb.idx(full)), kb.add(base, kb.idx(n)), 1,
                 [&](mlir::Value i) { body(i, 1); });
  }

  /// Sums over [base, base + n): body(i, w, partial sums of width w) returns
  /// the next partial sums; the result is the horizontal sum of each.
  llvm::SmallVector<mlir::Value> reduce(
      mlir::Value base, int64_t n, int64_t count,
      const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, int64_t, mlir::ValueRange)>
          &body) {
    int64_t full = n / vw * vw;
    llvm::SmallVector<mlir::Value> total(count, kb.f32(0.0));
    auto run = [&](mlir::Value lo, mlir::Value hi, int64_t w) {
      llvm::SmallVector<mlir::Value> init(count, splat(kb.f32(0.0), w));
      mlir::ValueRange out = kb.forLoop(lo, hi, w, init, [&](mlir::Value i, mlir::ValueRange a) {
        return body(i, w, a);
      });
      for (int64_t k = 0; k < count; ++k)
        total[k] = b.create<mlir::arith::AddFOp>(loc, total[k], sum(out[k]));
    };
    if (full) run(base, kb.add(base, kb.idx(full)), vw);
    if (full < n) run(kb.add(base, kb.idx(full)), kb.add(base, kb.idx(n)), 1);
    return total;
  }

  KernelBuilder &kb;
  mlir::OpBuilder &b;
  mlir::Location loc;
  int64_t vw;
};

} // namespace mest::codegen

#endif // MEST_CODEGEN_VECTORLOOPS_H
