//===- PoolLossKernels.cpp - generated pooling and loss kernels -----------===//
#include "codegen/PoolLossKernels.h"

#include "codegen/VectorLoops.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mest::codegen;


func::FuncOp mest::codegen::buildGlobalAvgPoolForward(OpBuilder &b, Location loc, int64_t N,
                                                      int64_t C, int64_t HW, int64_t vw,
                                                      StringRef name, Type inElem,
                                                      Type outElem) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                               {flatArray(b, N * C * HW, inElem), flatArray(b, N * C, outElem)});
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
  func::FuncOp f = beginKernel(b, loc, name, {flatArray(b, N * C), flatArray(b, N * C * HW)});
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

func::FuncOp mest::codegen::buildScaleChannels(OpBuilder &b, Location loc, int64_t N, int64_t C,
                                               int64_t HW, int64_t vw, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(
      b, loc, name, {flatArray(b, N * C * HW), flatArray(b, N * C), flatArray(b, N * C * HW)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N * C), [&](Value p) {
    Value s = kb.load(f.getArgument(1), p);
    v.each(kb.mul(p, kb.idx(HW)), HW, [&](Value i, int64_t w) {
      v.store(b.create<arith::MulFOp>(loc, v.load(f.getArgument(0), i, w), v.splat(s, w)),
              f.getArgument(2), i, w);
    });
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildScaleChannelsGrad(OpBuilder &b, Location loc, int64_t N,
                                                   int64_t C, int64_t HW, int64_t vw,
                                                   StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(
      b, loc, name, {flatArray(b, N * C * HW), flatArray(b, N * C * HW), flatArray(b, N * C)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N * C), [&](Value p) {
    auto s = v.reduce(kb.mul(p, kb.idx(HW)), HW, 1, [&](Value i, int64_t w, ValueRange a) {
      return SmallVector<Value>{b.create<math::FmaOp>(loc, v.load(f.getArgument(0), i, w),
                                                      v.load(f.getArgument(1), i, w), a[0])};
    });
    kb.store(s[0], f.getArgument(2), p);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

/// dst[to + i] = src[from + i] for i in [0, n), in vectors.
static void copyRange(KernelBuilder &kb, VectorLoops &v, Value src, Value from, Value dst,
                      Value to, int64_t n) {
  v.each(kb.idx(0), n, [&](Value i, int64_t w) {
    v.store(v.load(src, kb.add(from, i), w), dst, kb.add(to, i), w);
  });
}

func::FuncOp mest::codegen::buildConcat(OpBuilder &b, Location loc, int64_t N,
                                        ArrayRef<int64_t> channels, int64_t HW, int64_t vw,
                                        StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  int64_t C = 0;
  SmallVector<Type> args;
  for (int64_t c : channels) args.push_back(flatArray(b, N * c * HW)), C += c;
  args.push_back(flatArray(b, N * C * HW));
  func::FuncOp f = beginKernel(b, loc, name, args);
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N), [&](Value n) {
    int64_t offset = 0;
    for (auto [i, c] : llvm::enumerate(channels)) {
      copyRange(kb, v, f.getArgument(i), kb.mul(n, kb.idx(c * HW)), f.getArguments().back(),
                kb.add(kb.mul(n, kb.idx(C * HW)), kb.idx(offset * HW)), c * HW);
      offset += c;
    }
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildSliceChannels(OpBuilder &b, Location loc, int64_t N, int64_t C,
                                               int64_t offset, int64_t count, int64_t HW,
                                               int64_t vw, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                               {flatArray(b, N * C * HW), flatArray(b, N * count * HW)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N), [&](Value n) {
    copyRange(kb, v, f.getArgument(0), kb.add(kb.mul(n, kb.idx(C * HW)), kb.idx(offset * HW)),
              f.getArgument(1), kb.mul(n, kb.idx(count * HW)), count * HW);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildPadChannels(OpBuilder &b, Location loc, int64_t N, int64_t C,
                                             int64_t offset, int64_t count, int64_t HW,
                                             int64_t vw, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                               {flatArray(b, N * count * HW), flatArray(b, N * C * HW)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N), [&](Value n) {
    Value base = kb.mul(n, kb.idx(C * HW));
    auto zero = [&](int64_t from, int64_t to) {
      if (to > from)
        v.each(kb.add(base, kb.idx(from * HW)), (to - from) * HW, [&](Value i, int64_t w) {
          v.store(v.splat(kb.f32(0.0), w), f.getArgument(1), i, w);
        });
    };
    zero(0, offset);
    copyRange(kb, v, f.getArgument(0), kb.mul(n, kb.idx(count * HW)), f.getArgument(1),
              kb.add(base, kb.idx(offset * HW)), count * HW);
    zero(offset + count, C);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildShuffleChannels(OpBuilder &b, Location loc, int64_t N, int64_t C,
                                                 int64_t groups, int64_t HW, int64_t vw,
                                                 StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                               {flatArray(b, N * C * HW), flatArray(b, N * C * HW)});
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vw);
  kb.parallelLoop(kb.idx(0), kb.idx(N), [&](Value n) {
    Value base = kb.mul(n, kb.idx(C * HW));
    kb.forLoop(kb.idx(0), kb.idx(C), 1, [&](Value c) {
      Value src = kb.add(kb.mul(kb.rem(c, kb.idx(groups)), kb.idx(C / groups)),
                         kb.div(c, kb.idx(groups)));
      copyRange(kb, v, f.getArgument(0), kb.add(base, kb.mul(src, kb.idx(HW))),
                f.getArgument(1), kb.add(base, kb.mul(c, kb.idx(HW))), HW);
    });
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

std::string PoolGeometry::key() const {
  return llvm::formatv("{0},{1},{2},{3},{4},{5},{6},{7},{8},{9},{10},{11}{12}", N, C, H, W, KH, KW,
                       SH, SW, PH, PW, OH(), OW(), KernelBuilder::typesKey({inElem, outElem}))
      .str();
}

namespace {
/// For every output position (oy, ox) of every plane p (parallel over planes):
/// body(p, output index, y0, y1, x0, x1) with the window clipped to the input.
void forEachWindow(KernelBuilder &kb, const PoolGeometry &g,
                   const std::function<void(Value, Value, Value, Value, Value, Value)> &body,
                   const std::function<void(Value)> &planeStart = {}) {
  const int64_t OH = g.OH(), OW = g.OW();
  kb.parallelLoop(kb.idx(0), kb.idx(g.N * g.C), [&](Value p) {
    if (planeStart) planeStart(p);
    kb.forLoop(kb.idx(0), kb.idx(OH), 1, [&](Value oy) {
      kb.forLoop(kb.idx(0), kb.idx(OW), 1, [&](Value ox) {
        Value ys = kb.b.createOrFold<arith::SubIOp>(kb.loc, kb.mul(oy, kb.idx(g.SH)), kb.idx(g.PH));
        Value xs = kb.b.createOrFold<arith::SubIOp>(kb.loc, kb.mul(ox, kb.idx(g.SW)), kb.idx(g.PW));
        Value y0 = kb.max(ys, kb.idx(0)), y1 = kb.min(kb.add(ys, kb.idx(g.KH)), kb.idx(g.H));
        Value x0 = kb.max(xs, kb.idx(0)), x1 = kb.min(kb.add(xs, kb.idx(g.KW)), kb.idx(g.W));
        Value o = kb.add(kb.mul(kb.add(kb.mul(p, kb.idx(OH)), oy), kb.idx(OW)), ox);
        body(p, o, y0, y1, x0, x1);
      });
    });
  });
}
/// Index of (y, x) of plane p in a [planes, H, W] array, and of (y, x) in the plane.
Value planeAt(KernelBuilder &kb, const PoolGeometry &g, Value p, Value y, Value x) {
  return kb.add(kb.mul(p, kb.idx(g.H * g.W)), kb.add(kb.mul(y, kb.idx(g.W)), x));
}
void zeroPlane(KernelBuilder &kb, const PoolGeometry &g, Value din, Value p) {
  VectorLoops v(kb, 8);
  v.each(kb.mul(p, kb.idx(g.H * g.W)), g.H * g.W,
         [&](Value i, int64_t w) { v.store(v.splat(kb.f32(0.0), w), din, i, w); });
}
Value windowCount(KernelBuilder &kb, Value y0, Value y1, Value x0, Value x1) {
  Value n = kb.mul(kb.sub(y1, y0), kb.sub(x1, x0));
  return kb.b.create<arith::IndexCastOp>(kb.loc, kb.b.getI64Type(), n);
}
} // namespace

func::FuncOp mest::codegen::buildMaxPoolForward(OpBuilder &b, Location loc, const PoolGeometry &g,
                                                bool argmax, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t outs = g.N * g.C * g.OH() * g.OW();
  SmallVector<Type> args{flatArray(b, g.N * g.C * g.H * g.W, g.inElem),
                         flatArray(b, outs, g.outElem)};
  if (argmax) args.push_back(flatArray(b, outs, b.getI32Type()));
  func::FuncOp f = beginKernel(b, loc, name, args);
  KernelBuilder kb(b, loc);
  Value in = f.getArgument(0), out = f.getArgument(1);
  forEachWindow(kb, g, [&](Value p, Value o, Value y0, Value y1, Value x0, Value x1) {
    Value init[] = {kb.f32(-std::numeric_limits<float>::infinity()), kb.idx(-1)};
    ValueRange best = kb.forLoop(y0, y1, 1, init, [&](Value y, ValueRange a) {
      return SmallVector<Value>(kb.forLoop(x0, x1, 1, a, [&](Value x, ValueRange c) {
        Value v = kb.load(in, planeAt(kb, g, p, y, x));
        Value better = b.create<arith::OrIOp>(
            loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, c[0]),
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, c[1], kb.idx(0)));
        Value where = kb.add(kb.mul(y, kb.idx(g.W)), x);
        return SmallVector<Value>{b.create<arith::SelectOp>(loc, better, v, c[0]),
                                  b.create<arith::SelectOp>(loc, better, where, c[1])};
      }));
    });
    kb.store(best[0], out, o);
    if (argmax)
      kb.store(b.create<arith::IndexCastOp>(loc, b.getI32Type(), best[1]), f.getArgument(2), o);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildMaxPoolBackward(OpBuilder &b, Location loc, const PoolGeometry &g,
                                                 StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t outs = g.N * g.C * g.OH() * g.OW();
  func::FuncOp f = beginKernel(b, loc, name,
                         {flatArray(b, outs), flatArray(b, outs, b.getI32Type()),
                          flatArray(b, g.N * g.C * g.H * g.W)});
  KernelBuilder kb(b, loc);
  Value dout = f.getArgument(0), arg = f.getArgument(1), din = f.getArgument(2);
  // One plane per iteration, so the scatter of overlapping windows is sequential.
  forEachWindow(
      kb, g,
      [&](Value p, Value o, Value, Value, Value, Value) {
        Value at = kb.add(kb.mul(p, kb.idx(g.H * g.W)), kb.loadIndex(arg, o));
        kb.store(b.create<arith::AddFOp>(loc, kb.load(din, at), kb.load(dout, o)), din, at);
      },
      [&](Value p) { zeroPlane(kb, g, din, p); });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildAvgPoolForward(OpBuilder &b, Location loc, const PoolGeometry &g,
                                                StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                               {flatArray(b, g.N * g.C * g.H * g.W, g.inElem),
                                flatArray(b, g.N * g.C * g.OH() * g.OW(), g.outElem)});
  KernelBuilder kb(b, loc);
  Value in = f.getArgument(0), out = f.getArgument(1);
  forEachWindow(kb, g, [&](Value p, Value o, Value y0, Value y1, Value x0, Value x1) {
    Value zero = b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0.0));
    Value sum = kb.forLoop(y0, y1, 1, ValueRange{zero}, [&](Value y, ValueRange a) {
      return SmallVector<Value>(kb.forLoop(x0, x1, 1, a, [&](Value x, ValueRange c) {
        Value v = b.create<arith::ExtFOp>(loc, b.getF64Type(), kb.load(in, planeAt(kb, g, p, y, x)));
        return SmallVector<Value>{b.create<arith::AddFOp>(loc, c[0], v)};
      }));
    })[0];
    Value count = b.create<arith::SIToFPOp>(loc, b.getF64Type(), windowCount(kb, y0, y1, x0, x1));
    kb.store(b.create<arith::TruncFOp>(loc, b.getF32Type(), b.create<arith::DivFOp>(loc, sum, count)),
             out, o);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildAvgPoolBackward(OpBuilder &b, Location loc, const PoolGeometry &g,
                                                 StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp f = beginKernel(b, loc, name,
                         {flatArray(b, g.N * g.C * g.OH() * g.OW()), flatArray(b, g.N * g.C * g.H * g.W)});
  KernelBuilder kb(b, loc);
  Value dout = f.getArgument(0), din = f.getArgument(1);
  forEachWindow(
      kb, g,
      [&](Value p, Value o, Value y0, Value y1, Value x0, Value x1) {
        Value count = b.create<arith::SIToFPOp>(loc, b.getF32Type(), windowCount(kb, y0, y1, x0, x1));
        Value share = b.create<arith::DivFOp>(loc, kb.load(dout, o), count);
        kb.forLoop(y0, y1, 1, [&](Value y) {
          kb.forLoop(x0, x1, 1, [&](Value x) {
            Value at = planeAt(kb, g, p, y, x);
            kb.store(b.create<arith::AddFOp>(loc, kb.load(din, at), share), din, at);
          });
        });
      },
      [&](Value p) { zeroPlane(kb, g, din, p); });
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
  func::FuncOp f = beginKernel(b, loc, name,
                         {flatArray(b, N * K), flatArray(b, N, b.getI32Type()), flatArray(b, N),
                          flatArray(b, N, b.getI8Type()), flatArray(b, N)});
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
      beginKernel(b, loc, name, {flatArray(b, N * K), flatArray(b, N, b.getI32Type()), flatArray(b, N * K)});
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
