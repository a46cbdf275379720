//===- KernelBuilder.h - small helpers to emit loop nests -----------------===//
//
// A thin layer over OpBuilder for the kernel generators: index arithmetic that
// folds constants (so loops over static shapes get static bounds), loops with
// and without carried values, typed views of the state block, and loads that
// widen int32 metadata to index.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_KERNELBUILDER_H
#define MEST_CODEGEN_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace mest::codegen {

class KernelBuilder {
public:
  KernelBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::OpBuilder &b;
  mlir::Location loc;

  mlir::Value idx(int64_t v) { return b.create<mlir::arith::ConstantIndexOp>(loc, v); }
  mlir::Value f32(double v) {
    return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr(static_cast<float>(v)));
  }
  mlir::Value add(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::AddIOp>(loc, a, c);
  }
  mlir::Value sub(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::SubIOp>(loc, a, c);
  }
  mlir::Value mul(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::MulIOp>(loc, a, c);
  }
  mlir::Value div(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::DivUIOp>(loc, a, c);
  }
  mlir::Value rem(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::RemUIOp>(loc, a, c);
  }
  mlir::Value max(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::MaxSIOp>(loc, a, c);
  }
  mlir::Value min(mlir::Value a, mlir::Value c) {
    return b.createOrFold<mlir::arith::MinSIOp>(loc, a, c);
  }
  /// floor(a / c) for signed a and positive constant c.
  mlir::Value floorDiv(mlir::Value a, int64_t c) {
    return c == 1 ? a : b.createOrFold<mlir::arith::FloorDivSIOp>(loc, a, idx(c));
  }
  mlir::Value ceilDiv(mlir::Value a, int64_t c) {
    return c == 1 ? a : b.createOrFold<mlir::arith::CeilDivSIOp>(loc, a, idx(c));
  }

  /// memref<count x elem> over the state block at a constant byte offset.
  mlir::Value stateView(mlir::Value state, int64_t offset, int64_t count, mlir::Type elem) {
    auto type = mlir::MemRefType::get({count}, elem);
    return b.create<mlir::memref::ViewOp>(loc, type, state, idx(offset), mlir::ValueRange{});
  }
  mlir::Value load(mlir::Value mem, mlir::ValueRange at) {
    return b.create<mlir::memref::LoadOp>(loc, mem, at);
  }
  void store(mlir::Value v, mlir::Value mem, mlir::ValueRange at) {
    b.create<mlir::memref::StoreOp>(loc, v, mem, at);
  }
  /// Loads an int32 (or int64) element and widens it to index.
  mlir::Value loadIndex(mlir::Value mem, mlir::ValueRange at) {
    mlir::Value v = load(mem, at);
    return b.create<mlir::arith::IndexCastOp>(loc, b.getIndexType(), v);
  }

  void forLoop(mlir::Value lo, mlir::Value hi, int64_t step,
               const std::function<void(mlir::Value)> &body) {
    b.create<mlir::scf::ForOp>(loc, lo, hi, idx(step), mlir::ValueRange{},
                               [&](mlir::OpBuilder &nb, mlir::Location, mlir::Value iv,
                                   mlir::ValueRange) {
                                 mlir::OpBuilder::InsertionGuard guard(b);
                                 b.setInsertionPoint(nb.getInsertionBlock(),
                                                     nb.getInsertionPoint());
                                 body(iv);
                                 b.create<mlir::scf::YieldOp>(loc);
                               });
  }
  /// A loop carrying values; `body` returns the next values.
  mlir::ValueRange forLoop(
      mlir::Value lo, mlir::Value hi, int64_t step, mlir::ValueRange init,
      const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> &body) {
    auto loop = b.create<mlir::scf::ForOp>(
        loc, lo, hi, idx(step), init,
        [&](mlir::OpBuilder &nb, mlir::Location, mlir::Value iv, mlir::ValueRange args) {
          mlir::OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          b.create<mlir::scf::YieldOp>(loc, body(iv, args));
        });
    return loop.getResults();
  }
  /// A parallel loop over [lo, hi) (OpenMP worksharing after lowering).
  void parallelLoop(mlir::Value lo, mlir::Value hi,
                    const std::function<void(mlir::Value)> &body) {
    b.create<mlir::scf::ParallelOp>(
        loc, mlir::ValueRange{lo}, mlir::ValueRange{hi}, mlir::ValueRange{idx(1)},
        [&](mlir::OpBuilder &nb, mlir::Location, mlir::ValueRange ivs) {
          mlir::OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          body(ivs[0]);
        });
  }
};

} // namespace mest::codegen

#endif // MEST_CODEGEN_KERNELBUILDER_H
