//===- PoolLossKernels.cpp - generated pooling and loss kernels -----------===//
#include "codegen/PoolLossKernels.h"

#include "codegen/VectorLoops.h"

using namespace mlir;
using namespace mest::codegen;

namespace {
func::FuncOp begin(OpBuilder &b, Location loc, StringRef name, ArrayRef<Type> args) {
  auto f = b.create<func::FuncOp>(loc, name, b.getFunctionType(args, {}));
  b.setInsertionPointToStart(f.addEntryBlock());
  return f;
}
Type flat(OpBuilder &b, int64_t n, Type elem = {}) {
  return MemRefType::get({n}, elem ? elem : b.getF32Type());
}
} // namespace

func::FuncOp mest::codegen::buildGlobalAvgPoolForward(OpBuilder &b, Location loc, int64_t N,
                                                      int64_t C, int64_t HW, int64_t vw,
                                                      StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = begin(b, loc, name, {flat(b, N * C * HW), flat(b, N * C)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N * C), [&](Value p) {
    auto s = v.reduce(kb.mul(p, kb.idx(HW)), HW, 1, [&](Value i, int64_t w, ValueRange a) {
      return SmallVector<Value>{b.create<arith::AddFOp>(loc, a[0], v.load(f.getArgument(0), i, w))};
    });
    kb.store(b.create<arith::DivFOp>(loc, s[0], kb.f32(double(HW))), f.getArgument(1), p);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildGlobalAvgPoolBackward(OpBuilder &b, Location loc, int64_t N,
                                                       int64_t C, int64_t HW, int64_t vw,
                                                       StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = begin(b, loc, name, {flat(b, N * C), flat(b, N * C * HW)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N * C), [&](Value p) {
    Value g = b.create<arith::DivFOp>(loc, kb.load(f.getArgument(0), p), kb.f32(double(HW)));
    v.each(kb.mul(p, kb.idx(HW)), HW,
           [&](Value i, int64_t w) { v.store(v.splat(g, w), f.getArgument(1), i, w); });
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

namespace {
/// Per example n: the arg-max and max of the logits row, and sum(exp(z - max)) in f64.
struct RowStats {
  Value arg, zmax, sum;
};
RowStats rowStats(KernelBuilder &kb, Value logits, Value row, int64_t K) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  ValueRange best = kb.forLoop(kb.idx(1), kb.idx(K), 1, ValueRange{kb.idx(0), kb.load(logits, row)},
                               [&](Value k, ValueRange a) -> SmallVector<Value> {
                                 Value z = kb.load(logits, kb.add(row, k));
                                 Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                                                    z, a[1]);
                                 return {b.create<arith::SelectOp>(loc, gt, k, a[0]),
                                         b.create<arith::SelectOp>(loc, gt, z, a[1])};
                               });
  Value zmax = b.create<arith::ExtFOp>(loc, b.getF64Type(), best[1]);
  Value zero = b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0.0));
  ValueRange sum = kb.forLoop(kb.idx(0), kb.idx(K), 1, ValueRange{zero},
                              [&](Value k, ValueRange a) -> SmallVector<Value> {
                                Value z = b.create<arith::ExtFOp>(
                                    loc, b.getF64Type(), kb.load(logits, kb.add(row, k)));
                                Value e = b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, z, zmax));
                                return {b.create<arith::AddFOp>(loc, a[0], e)};
                              });
  return {best[0], zmax, sum[0]};
}
} // namespace

func::FuncOp mest::codegen::buildSoftmaxCrossEntropyForward(OpBuilder &b, Location loc, int64_t N,
                                                            int64_t K, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = begin(b, loc, name,
                         {flat(b, N * K), flat(b, N, b.getI32Type()), flat(b, N),
                          flat(b, N, b.getI8Type()), flat(b, N)});
  Value logits = f.getArgument(0), labels = f.getArgument(1), loss = f.getArgument(2),
        correct = f.getArgument(3), margin = f.getArgument(4);
  KernelBuilder kb(b, loc);
  kb.forLoop(kb.idx(0), kb.idx(N), 1, [&](Value n) {
    Value row = kb.mul(n, kb.idx(K));
    RowStats r = rowStats(kb, logits, row, K);
    Value y = kb.loadIndex(labels, n);
    Value zy = kb.load(logits, kb.add(row, y));
    Value l = b.create<arith::SubFOp>(
        loc, b.create<arith::AddFOp>(loc, b.create<math::LogOp>(loc, r.sum), r.zmax),
        b.create<arith::ExtFOp>(loc, b.getF64Type(), zy));
    kb.store(b.create<arith::TruncFOp>(loc, b.getF32Type(), l), loss, n);
    Value hit = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, r.arg, y);
    kb.store(b.create<arith::ExtUIOp>(loc, b.getI8Type(), hit), correct, n);
    Value other = kb.forLoop(kb.idx(0), kb.idx(K), 1,
                             ValueRange{kb.f32(-std::numeric_limits<float>::infinity())},
                             [&](Value k, ValueRange a) -> SmallVector<Value> {
                               Value z = kb.load(logits, kb.add(row, k));
                               Value take = b.create<arith::AndIOp>(
                                   loc,
                                   b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, k, y),
                                   b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, z, a[0]));
                               return {b.create<arith::SelectOp>(loc, take, z, a[0])};
                             })[0];
    kb.store(b.create<arith::SubFOp>(loc, zy, other), margin, n);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildSoftmaxCrossEntropyBackward(OpBuilder &b, Location loc, int64_t N,
                                                             int64_t K, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f =
      begin(b, loc, name, {flat(b, N * K), flat(b, N, b.getI32Type()), flat(b, N * K)});
  Value logits = f.getArgument(0), labels = f.getArgument(1), dlogits = f.getArgument(2);
  KernelBuilder kb(b, loc);
  kb.forLoop(kb.idx(0), kb.idx(N), 1, [&](Value n) {
    Value row = kb.mul(n, kb.idx(K));
    RowStats r = rowStats(kb, logits, row, K);
    Value y = kb.loadIndex(labels, n);
    kb.forLoop(kb.idx(0), kb.idx(K), 1, [&](Value k) {
      Value z = b.create<arith::ExtFOp>(loc, b.getF64Type(), kb.load(logits, kb.add(row, k)));
      Value p = b.create<arith::DivFOp>(
          loc, b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, z, r.zmax)), r.sum);
      Value isY = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, k, y);
      Value one = b.create<arith::SelectOp>(
          loc, isY, b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(1.0)),
          b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0.0)));
      Value g = b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, p, one),
                                        b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(double(N))));
      kb.store(b.create<arith::TruncFOp>(loc, b.getF32Type(), g), dlogits, kb.add(row, k));
    });
  });
  b.create<func::ReturnOp>(loc);
  return f;
}
