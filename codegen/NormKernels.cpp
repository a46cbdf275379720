//===- NormKernels.cpp - generated batch-norm kernels ---------------------===//
//
// The arithmetic of runtime/kernels/FastBatchNorm.cpp: statistics summed in
// f32 within a plane and f64 across planes, scale and shift derived in f64;
// apply as one fma per element; backward as dx = k1 * dy + k2 * x + k3.
// With `sync` (data-parallel grad steps) the per-channel sums are summed
// across replicas between a sums loop and an apply loop.
//
//===----------------------------------------------------------------------===//
#include "codegen/NormKernels.h"

#include "codegen/RuntimeCalls.h"
#include "codegen/VectorLoops.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mest::codegen;

namespace {

/// Scalar f64 arithmetic, for the per-channel statistics.
struct F64 {
  OpBuilder &b;
  Location loc;
  Value c(double v) { return b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(v)); }
  Value ext(Value f) { return b.create<arith::ExtFOp>(loc, b.getF64Type(), f); }
  Value trunc(Value d) { return b.create<arith::TruncFOp>(loc, b.getF32Type(), d); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
};

/// A kernel over flat arrays of the given sizes, f32 unless `elems` gives a
/// (compact) element type for the array at the same position.
func::FuncOp begin(OpBuilder &b, Location loc, StringRef name, ArrayRef<int64_t> sizes,
                   ArrayRef<Type> elems = {}) {
  SmallVector<Type> args;
  for (auto [k, n] : llvm::enumerate(sizes))
    args.push_back(flatArray(b, n, k < elems.size() ? elems[k] : Type()));
  return beginKernel(b, loc, name, args);
}

/// Per-channel sums [2C] summed across data-parallel replicas: kept in an f64
/// stack array between the kernel's two parallel loops, handed to the runtime
/// (mest_rt_sum_across_replicas, outside any parallel region). Returns the
/// number of replicas whose sums it now holds, as f64.
struct ReplicaSums {
  Value sums;  // memref<2C x f64>
  Value alloc(OpBuilder &b, Location loc, int64_t C) {
    sums = b.create<memref::AllocaOp>(loc, MemRefType::get({2 * C}, b.getF64Type()));
    return sums;
  }
  Value exchange(OpBuilder &b, Location loc, int64_t C) {
    auto module = b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
    Value replicas = callRuntime(b, loc, module, "mest_rt_sum_across_replicas",
                                 {asPointer(b, loc, sums), b.create<arith::ConstantIntOp>(
                                                               loc, 2 * C, 64)},
                                 b.getI64Type());
    return b.create<arith::SIToFPOp>(loc, b.getF64Type(), replicas);
  }
};

/// out[n, c, :] = relu?(in * scale + shift + residual?) for every image n of
/// channel c: the apply loop of the training batch norm, of its recompute and
/// (without residual and ReLU) of evaluation. One definition, so a recompute
/// rounds exactly as the forward did.
void applyChannel(KernelBuilder &kb, VectorLoops &v, int64_t N, int64_t C, int64_t HW, Value c,
                  Value scale, Value shift, Value in, Value residual, bool relu, Value out) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  kb.forLoop(kb.idx(0), kb.idx(N), 1, [&](Value n) {
    Value base = kb.mul(kb.add(kb.mul(n, kb.idx(C)), c), kb.idx(HW));
    v.each(base, HW, [&](Value i, int64_t w) {
      Value y = b.create<math::FmaOp>(loc, v.load(in, i, w), v.splat(scale, w), v.splat(shift, w));
      if (residual) y = b.create<arith::AddFOp>(loc, y, v.load(residual, i, w));
      if (relu) y = b.create<arith::MaximumFOp>(loc, y, v.splat(kb.f32(0.0), w));
      v.store(y, out, i, w);
    });
  });
}

} // namespace

std::string BatchNormApplySpec::key() const {
  return llvm::formatv("bn_apply:{0},{1},{2},{3}{4},{5}{6}", N, C, HW, residual, relu,
                       vectorWidth, KernelBuilder::typesKey({inElem, residualElem, outElem}))
      .str();
}

std::string BatchNormTrainSpec::key() const {
  return llvm::formatv("bn_train:{0},{1},{2},{3},{4},{5}{6}{7}{8}{9}{10},{11}{12}", N, C, HW,
                       eps, momentum, stats, residual, relu, output, affine, sync, vectorWidth,
                       KernelBuilder::typesKey({inElem, residualElem, outElem}))
      .str();
}

std::string BatchNormGradSpec::key() const {
  return llvm::formatv("bn_grad:{0},{1},{2},{3}{4},{5}{6}", N, C, HW, int(mask), sync,
                       vectorWidth, KernelBuilder::typesKey({inElem, reluElem}))
      .str();
}

func::FuncOp mest::codegen::buildBatchNormTrain(OpBuilder &b, Location loc,
                                                const BatchNormTrainSpec &sp, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t N = sp.N, C = sp.C, HW = sp.HW, act = N * C * HW;
  SmallVector<int64_t> sizes{2 * C, C, C, act};
  SmallVector<Type> elems{{}, {}, {}, sp.inElem};
  if (sp.stats) sizes.push_back(N * C * 2), elems.push_back({});
  if (sp.residual) sizes.push_back(act), elems.push_back(sp.residualElem);
  if (sp.output) sizes.push_back(act), elems.push_back(sp.outElem);
  sizes.append({C, C});
  if (sp.affine) sizes.push_back(2 * C);
  func::FuncOp f = begin(b, loc, name, sizes, elems);
  unsigned a = 0;
  Value params = f.getArgument(a++), runMean = f.getArgument(a++), runVar = f.getArgument(a++),
        in = f.getArgument(a++);
  Value stats = sp.stats ? f.getArgument(a++) : Value();
  Value residual = sp.residual ? f.getArgument(a++) : Value();
  Value out = sp.output ? f.getArgument(a++) : Value();
  Value mean = f.getArgument(a++), invStd = f.getArgument(a++);
  Value affine = sp.affine ? f.getArgument(a++) : Value();
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, sp.vectorWidth);
  F64 d{b, loc};
  // The sums of channel c over the batch (f64): from the conv's per-plane
  // statistics or one pass over the input.
  auto channelSums = [&](Value c) -> SmallVector<Value> {
    ValueRange sums = kb.forLoop(
        kb.idx(0), kb.idx(N), 1, ValueRange{d.c(0.0), d.c(0.0)},
        [&](Value n, ValueRange acc) -> SmallVector<Value> {
          Value plane = kb.add(kb.mul(n, kb.idx(C)), c);
          if (stats) {
            Value at = kb.mul(plane, kb.idx(2));
            return {d.add(acc[0], d.ext(kb.load(stats, at))),
                    d.add(acc[1], d.ext(kb.load(stats, kb.add(at, kb.idx(1)))))};
          }
          auto s = v.reduce(kb.mul(plane, kb.idx(HW)), HW, 2,
                            [&](Value i, int64_t w, ValueRange p) -> SmallVector<Value> {
                              Value x = v.load(in, i, w);
                              return {b.create<arith::AddFOp>(loc, p[0], x),
                                      b.create<math::FmaOp>(loc, x, x, p[1])};
                            });
          return {d.add(acc[0], d.ext(s[0])), d.add(acc[1], d.ext(s[1]))};
        });
    return {sums[0], sums[1]};
  };
  // Mean, variance, (scale, shift), the output and the running statistics of
  // channel c from its sums over `count` values.
  auto apply = [&](Value c, ValueRange sums, Value count) {
    Value m = d.div(sums[0], count);
    Value var = b.create<arith::MaximumFOp>(loc, d.c(0.0),
                                            d.sub(d.div(sums[1], count), d.mul(m, m)));
    Value is = d.div(d.c(1.0), b.create<math::SqrtOp>(loc, d.add(var, d.c(sp.eps))));
    Value gamma = d.ext(kb.load(params, c)), beta = d.ext(kb.load(params, kb.add(c, kb.idx(C))));
    Value scale = d.trunc(d.mul(gamma, is)), shift = d.trunc(d.sub(beta, d.mul(m, d.mul(gamma, is))));
    if (affine) {
      kb.store(scale, affine, kb.mul(c, kb.idx(2)));
      kb.store(shift, affine, kb.add(kb.mul(c, kb.idx(2)), kb.idx(1)));
    }
    if (out) applyChannel(kb, v, N, C, HW, c, scale, shift, in, residual, sp.relu, out);
    kb.store(d.trunc(m), mean, c);
    kb.store(d.trunc(is), invStd, c);
    // Bessel's correction n / (n - 1), 1 for a single value.
    Value bessel = d.div(count, b.create<arith::MaximumFOp>(loc, d.sub(count, d.c(1.0)),
                                                             d.c(1.0)));
    Value unbiased = d.mul(var, bessel);
    auto running = [&](Value mem, Value batch) {
      kb.store(d.trunc(d.add(d.mul(d.c(1.0 - sp.momentum), d.ext(kb.load(mem, c))),
                             d.mul(d.c(sp.momentum), batch))),
               mem, c);
    };
    running(runMean, m);
    running(runVar, unbiased);
  };
  const double count = double(N * HW);
  if (!sp.sync) {
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) { apply(c, channelSums(c), d.c(count)); });
  } else {
    ReplicaSums replica;
    Value all = replica.alloc(b, loc, C);
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
      SmallVector<Value> s = channelSums(c);
      Value at = kb.mul(c, kb.idx(2));
      kb.store(s[0], all, at);
      kb.store(s[1], all, kb.add(at, kb.idx(1)));
    });
    Value replicas = replica.exchange(b, loc, C);
    Value total = d.mul(replicas, d.c(count));
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
      Value at = kb.mul(c, kb.idx(2));
      apply(c, ValueRange{kb.load(all, at), kb.load(all, kb.add(at, kb.idx(1)))}, total);
    });
  }
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildBatchNormBackward(OpBuilder &b, Location loc,
                                                   const BatchNormGradSpec &sp, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t N = sp.N, C = sp.C, HW = sp.HW, act = N * C * HW;
  SmallVector<int64_t> sizes{2 * C, 2 * C, act, act, C, C};
  SmallVector<Type> elems{{}, {}, sp.inElem, {}, {}, {}, sp.reluElem};
  if (sp.mask == ReluMask::Output) sizes.push_back(act);
  if (sp.mask == ReluMask::Affine) sizes.push_back(2 * C);
  sizes.push_back(act);
  func::FuncOp f = begin(b, loc, name, sizes, elems);
  Value params = f.getArgument(0), grads = f.getArgument(1), in = f.getArgument(2),
        dout = f.getArgument(3), mean = f.getArgument(4), invStd = f.getArgument(5);
  Value maskSrc = sp.mask != ReluMask::None ? f.getArgument(6) : Value();
  Value din = f.getArguments().back();
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, sp.vectorWidth);
  F64 d{b, loc};
  // Everything of channel c the backward needs: its ReLU mask's affine map,
  // the masked gradient, and the sums of dy and dy * x over the batch.
  struct Channel {
    Value scale, shift;
  };
  auto channel = [&](Value c) {
    Channel ch;
    if (sp.mask == ReluMask::Affine) {
      ch.scale = kb.load(maskSrc, kb.mul(c, kb.idx(2)));
      ch.shift = kb.load(maskSrc, kb.add(kb.mul(c, kb.idx(2)), kb.idx(1)));
    }
    return ch;
  };
  // dy where the ReLU after the batch norm was positive: its stored output,
  // or the same fma the consumers of a folded batch norm computed.
  auto gradient = [&](const Channel &ch, Value i, int64_t w, Value x) -> Value {
    Value dy = v.load(dout, i, w);
    if (sp.mask == ReluMask::None) return dy;
    Value zero = v.splat(kb.f32(0.0), w);
    Value keep;
    if (sp.mask == ReluMask::Output) {
      keep = kb.positive(maskSrc, i, w);
    } else {
      Value y = b.create<math::FmaOp>(loc, x, v.splat(ch.scale, w), v.splat(ch.shift, w));
      keep = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, y, zero);
    }
    return b.create<arith::SelectOp>(loc, keep, dy, zero);
  };
  auto channelSums = [&](Value c, const Channel &ch) -> SmallVector<Value> {
    ValueRange sums = kb.forLoop(
        kb.idx(0), kb.idx(N), 1, ValueRange{d.c(0.0), d.c(0.0)},
        [&](Value n, ValueRange acc) -> SmallVector<Value> {
          Value base = kb.mul(kb.add(kb.mul(n, kb.idx(C)), c), kb.idx(HW));
          auto s = v.reduce(base, HW, 2, [&](Value i, int64_t w, ValueRange p) -> SmallVector<Value> {
            Value x = v.load(in, i, w), g = gradient(ch, i, w, x);
            return {b.create<arith::AddFOp>(loc, p[0], g), b.create<math::FmaOp>(loc, g, x, p[1])};
          });
          return {d.add(acc[0], d.ext(s[0])), d.add(acc[1], d.ext(s[1]))};
        });
    return {sums[0], sums[1]};
  };
  // The scale and shift gradients of channel c from its sums of dy and dy * x
  // (with `store`), then din from the sums over the M values they were taken
  // over. A replica stores its own sums' gradients (the exchange of gradients
  // averages them) and computes din from everyone's.
  auto finish = [&](Value c, const Channel &ch, Value sumDy, Value sumDyX, Value M, bool store) {
    Value m = d.ext(kb.load(mean, c)), is = d.ext(kb.load(invStd, c)),
          g = d.ext(kb.load(params, c));
    Value sumDyXhat = d.mul(is, d.sub(sumDyX, d.mul(m, sumDy)));
    if (store) {
      kb.store(d.trunc(sumDyXhat), grads, c);
      kb.store(d.trunc(sumDy), grads, kb.add(c, kb.idx(C)));
    }
    if (!M) return;
    Value gis = d.mul(g, is), gis2 = d.mul(gis, is);
    Value k1 = d.trunc(gis);
    Value k2 = d.trunc(d.sub(d.c(0.0), d.div(d.mul(gis2, sumDyXhat), M)));
    Value k3 = d.trunc(d.add(d.sub(d.c(0.0), d.div(d.mul(gis, sumDy), M)),
                             d.mul(d.div(d.mul(gis2, sumDyXhat), M), m)));
    kb.forLoop(kb.idx(0), kb.idx(N), 1, [&](Value n) {
      Value base = kb.mul(kb.add(kb.mul(n, kb.idx(C)), c), kb.idx(HW));
      v.each(base, HW, [&](Value i, int64_t w) {
        Value x = v.load(in, i, w), gr = gradient(ch, i, w, x);
        Value dx = b.create<math::FmaOp>(loc, v.splat(k1, w), gr,
                                         b.create<math::FmaOp>(loc, v.splat(k2, w), x,
                                                               v.splat(k3, w)));
        v.store(dx, din, i, w);
      });
    });
  };
  const double M = double(N * HW);
  if (!sp.sync) {
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
      Channel ch = channel(c);
      SmallVector<Value> sums = channelSums(c, ch);
      finish(c, ch, sums[0], sums[1], d.c(M), true);
    });
  } else {
    ReplicaSums replica;
    Value all = replica.alloc(b, loc, C);
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
      Channel ch = channel(c);
      SmallVector<Value> sums = channelSums(c, ch);
      finish(c, ch, sums[0], sums[1], Value(), true);
      Value at = kb.mul(c, kb.idx(2));
      kb.store(sums[0], all, at);
      kb.store(sums[1], all, kb.add(at, kb.idx(1)));
    });
    Value total = d.mul(replica.exchange(b, loc, C), d.c(M));
    kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
      Value at = kb.mul(c, kb.idx(2));
      finish(c, channel(c), kb.load(all, at), kb.load(all, kb.add(at, kb.idx(1))), total,
             false);
    });
  }
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildBatchNormEval(OpBuilder &b, Location loc, int64_t N, int64_t C,
                                               int64_t HW, double eps, int64_t vectorWidth,
                                               StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t act = N * C * HW;
  func::FuncOp f = begin(b, loc, name, {2 * C, C, C, act, act});
  Value params = f.getArgument(0), runMean = f.getArgument(1), runVar = f.getArgument(2),
        in = f.getArgument(3), out = f.getArgument(4);
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, vectorWidth);
  F64 d{b, loc};
  kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
    Value is = d.div(d.c(1.0), b.create<math::SqrtOp>(
                                   loc, d.add(d.ext(kb.load(runVar, c)), d.c(eps))));
    Value gis = d.mul(d.ext(kb.load(params, c)), is);
    Value scale = d.trunc(gis);
    Value shift = d.trunc(d.sub(d.ext(kb.load(params, kb.add(c, kb.idx(C)))),
                                d.mul(d.ext(kb.load(runMean, c)), gis)));
    applyChannel(kb, v, N, C, HW, c, scale, shift, in, Value(), false, out);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}

func::FuncOp mest::codegen::buildBatchNormApply(OpBuilder &b, Location loc,
                                                const BatchNormApplySpec &sp, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  const int64_t N = sp.N, C = sp.C, HW = sp.HW, act = N * C * HW;
  SmallVector<int64_t> sizes{act, 2 * C};
  SmallVector<Type> elems{sp.inElem, {}};
  if (sp.residual) sizes.push_back(act), elems.push_back(sp.residualElem);
  sizes.push_back(act), elems.push_back(sp.outElem);
  func::FuncOp f = begin(b, loc, name, sizes, elems);
  Value in = f.getArgument(0), affine = f.getArgument(1);
  Value residual = sp.residual ? f.getArgument(2) : Value();
  Value out = f.getArguments().back();
  KernelBuilder kb(b, loc);
  VectorLoops v(kb, sp.vectorWidth);
  kb.parallelLoop(kb.idx(0), kb.idx(C), [&](Value c) {
    Value scale = kb.load(affine, kb.mul(c, kb.idx(2)));
    Value shift = kb.load(affine, kb.add(kb.mul(c, kb.idx(2)), kb.idx(1)));
    applyChannel(kb, v, N, C, HW, c, scale, shift, in, residual, sp.relu, out);
  });
  b.create<func::ReturnOp>(loc);
  return f;
}
