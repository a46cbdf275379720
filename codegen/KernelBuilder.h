//===- KernelBuilder.h - small helpers to emit loop nests -----------------===//
//
// A thin layer over OpBuilder for the kernel generators: index arithmetic that
// folds constants (so loops over static shapes get static bounds), loops with
// and without carried values, typed views of the state block, and loads that
// widen int32 metadata to index. Loads and stores of f16/bf16 buffers (the
// compact activations of mest-compact-activations) convert to and from f32:
// kernels compute in f32 whatever their buffers hold.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_KERNELBUILDER_H
#define MEST_CODEGEN_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>

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
  static mlir::Type elementOf(mlir::Value mem) {
    return mlir::cast<mlir::MemRefType>(mem.getType()).getElementType();
  }
  /// A 16-bit float storage type (converted on load and store).
  static bool isCompact(mlir::Type elem) { return elem && (elem.isF16() || elem.isBF16()); }
  /// `elem` if it is a compact storage type, else null (f32 or none).
  static mlir::Type compactOrNull(mlir::Type elem) {
    return isCompact(elem) ? elem : mlir::Type();
  }
  /// ":t1:t2..." for the kernel cache keys, an empty field for each null (f32).
  static std::string typesKey(llvm::ArrayRef<mlir::Type> types) {
    std::string key;
    llvm::raw_string_ostream os(key);
    for (mlir::Type t : types) {
      os << ':';
      if (t) t.print(os);
    }
    return key;
  }
  /// `v` (scalar or vector) with element type `elem`, same shape.
  static mlir::Type withElement(mlir::Value v, mlir::Type elem) {
    if (auto vt = mlir::dyn_cast<mlir::VectorType>(v.getType()))
      return mlir::VectorType::get(vt.getShape(), elem);
    return elem;
  }
  /// f16/bf16 to f32; anything else as it is.
  mlir::Value widen(mlir::Value v) {
    if (!isCompact(mlir::getElementTypeOrSelf(v.getType()))) return v;
    return b.create<mlir::arith::ExtFOp>(loc, withElement(v, b.getF32Type()), v);
  }
  /// f32 rounded (to nearest even) to a compact `elem`; else as it is.
  mlir::Value narrow(mlir::Value v, mlir::Type elem) {
    if (!isCompact(elem)) return v;
    return b.create<mlir::arith::TruncFOp>(loc, withElement(v, elem), v);
  }
  /// What a load returns after `v` is stored in a buffer of `elem` (f32 or
  /// null: `v` itself).
  mlir::Value roundTrip(mlir::Value v, mlir::Type elem) { return widen(narrow(v, elem)); }

  mlir::Value load(mlir::Value mem, mlir::ValueRange at) {
    return widen(b.create<mlir::memref::LoadOp>(loc, mem, at));
  }
  void store(mlir::Value v, mlir::Value mem, mlir::ValueRange at) {
    b.create<mlir::memref::StoreOp>(loc, narrow(v, elementOf(mem)), mem, at);
  }
  /// w consecutive floats from `at` (the last index) as f32 (a scalar for
  /// w = 1); with `mask`, lanes off the mask read 0.
  mlir::Value loadFloats(mlir::Value mem, mlir::ValueRange at, int64_t w,
                         mlir::Value mask = {}) {
    if (w == 1) return load(mem, at);
    auto type = mlir::VectorType::get({w}, elementOf(mem));
    if (mask) {
      mlir::Value zero = b.create<mlir::arith::ConstantOp>(loc, type, b.getZeroAttr(type));
      return widen(b.create<mlir::vector::MaskedLoadOp>(loc, type, mem, at, mask, zero));
    }
    return widen(b.create<mlir::vector::LoadOp>(loc, type, mem, at));
  }
  /// Whether each of the w floats from `at` is > 0 (i1, a vector for w > 1).
  /// A compact buffer is compared as 16-bit integers: a 16-bit float is > 0
  /// iff its bits, signed, lie in (0, +inf]. (Comparing the widened f32 lets
  /// LLVM narrow the comparison back to half, which x86 without AVX512-FP16
  /// scalarises: the f16 ReLU-gradient kernels ran 4x slower that way.)
  mlir::Value positive(mlir::Value mem, mlir::ValueRange at, int64_t w) {
    mlir::Type elem = elementOf(mem);
    if (!isCompact(elem)) {
      mlir::Value v = loadFloats(mem, at, w);
      mlir::Value zero = b.create<mlir::arith::ConstantOp>(loc, v.getType(),
                                                           b.getZeroAttr(v.getType()));
      return b.create<mlir::arith::CmpFOp>(loc, mlir::arith::CmpFPredicate::OGT, v, zero);
    }
    mlir::Type i16 = b.getI16Type();
    mlir::Value raw, bits;
    if (w == 1) {
      raw = b.create<mlir::memref::LoadOp>(loc, mem, at);
      bits = b.create<mlir::arith::BitcastOp>(loc, i16, raw);
    } else {
      raw = b.create<mlir::vector::LoadOp>(loc, mlir::VectorType::get({w}, elem), mem, at);
      bits = b.create<mlir::vector::BitCastOp>(loc, mlir::VectorType::get({w}, i16), raw);
    }
    auto splat = [&](int64_t c) -> mlir::Value {
      mlir::TypedAttr value = b.getIntegerAttr(i16, c);
      if (w > 1)
        value = mlir::DenseElementsAttr::get(mlir::cast<mlir::ShapedType>(bits.getType()),
                                             mlir::Attribute(value));
      return b.create<mlir::arith::ConstantOp>(loc, value);
    };
    const int64_t inf = elem.isF16() ? 0x7C00 : 0x7F80;
    mlir::Value gt0 = b.create<mlir::arith::CmpIOp>(loc, mlir::arith::CmpIPredicate::sgt, bits,
                                                    splat(0));
    mlir::Value leInf = b.create<mlir::arith::CmpIOp>(loc, mlir::arith::CmpIPredicate::sle, bits,
                                                      splat(inf));
    return b.create<mlir::arith::AndIOp>(loc, gt0, leInf);
  }
  /// Stores f32 `v` (w lanes, or a scalar) at `at`, rounded to the buffer's type.
  void storeFloats(mlir::Value v, mlir::Value mem, mlir::ValueRange at, int64_t w,
                   mlir::Value mask = {}) {
    if (w == 1) return store(v, mem, at);
    v = narrow(v, elementOf(mem));
    if (mask)
      b.create<mlir::vector::MaskedStoreOp>(loc, mem, at, mask, v);
    else
      b.create<mlir::vector::StoreOp>(loc, v, mem, at);
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
