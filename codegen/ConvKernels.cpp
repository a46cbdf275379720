//===- ConvKernels.cpp - specialised conv2d / linear kernels --------------===//
//
// The three kernel entry points of a conv2d or linear layer. Each takes the
// padded kernels (PaddedKernels.cpp) where the layer's configuration says so, else the
// direct ones below: im2col-free convolution on NCHW activations where every
// active weight w at (o, c, r, s) adds w * in[n, c, oy*SH - PH + r, ox*SW -
// PW + s] to out[n, o, oy, ox] over the output positions where the tap lands
// inside the input, ranges computed per tap (constants when the tap is static),
// rows in vectors of `vectorWidth`, then halves down to 4, then scalars;
// strided rows load (or update) the contiguous span and shuffle. Direct
// kernels run forward over (image, filter) pairs, backward-data over images
// and backward-weight over filters (block: groups; channel: active channels)
// in the order the runtime's regrouping wrote after the last mutation.
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvKernels.h"

#include "codegen/PaddedKernels.h"

using namespace mlir;
using namespace mest;
using namespace mest::codegen;
using namespace mest::codegen::conv;

func::FuncOp mest::codegen::buildConvForward(OpBuilder &b, Location loc,
                                             const ConvKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  ConvGen g(b, loc, spec);
  KernelBuilder &kb = g.kb;
  SmallVector<Type> args = {g.stateType(), g.inType(), g.outType()};
  if (spec.outputStats) args.push_back(MemRefType::get({spec.N, spec.O, 2}, b.getF32Type()));
  if (spec.inputAffineRelu) args.push_back(MemRefType::get({spec.C, 2}, b.getF32Type()));
  func::FuncOp func = g.begin(name, args);
  Value in = func.getArgument(1), out = func.getArgument(2);
  assert((!spec.outputStats || spec.config.paddedForward) && "statistics need the padded forward");
  assert((!spec.inputAffineRelu || spec.config.paddedForward) && "bn_relu needs the padded copy");
  if (spec.inputAffineRelu) g.inputAffine = func.getArguments().back();
  if (spec.config.paddedForward) {
    emitPaddedForward(g, in, out, spec.outputStats ? func.getArgument(3) : Value());
    g.end();
    return func;
  }
  // The interior: output positions where every tap of the kernel lands inside
  // the input. There the kernel is output-stationary: a chunk of the output row
  // stays in registers while all of the filter's weights stream into it, and is
  // stored once. The border keeps the per-tap clipped updates.
  auto interior = [](int64_t stride, int64_t pad, int64_t k, int64_t size, int64_t outSize) {
    int64_t lo = std::min(outSize, (pad + stride - 1) / stride);
    int64_t hi = size - k + pad >= 0 ? (size - k + pad) / stride + 1 : 0;
    hi = std::max(lo, std::min(outSize, hi));
    return std::pair<int64_t, int64_t>{lo, hi};
  };
  const auto yInterior = interior(spec.SH, spec.PH, spec.KH, spec.H, spec.OH);
  auto oyI0 = yInterior.first;
  auto oyI1 = yInterior.second;
  const auto xInterior = interior(spec.SW, spec.PW, spec.KW, spec.W, spec.OW);
  auto oxI0 = xInterior.first;
  auto oxI1 = xInterior.second;
  // Weight-stationary (order = weight): the interior is empty and every weight
  // takes the clipped path (the rule: mest-configure-kernels).
  if (!spec.config.outputStationary) oyI0 = oyI1 = oxI0 = oxI1 = 0;
  const int64_t vw = spec.vectorWidth;
  kb.parallelLoop(kb.idx(0), kb.idx(spec.N * spec.O), [&](Value no) {
    Value n = kb.div(no, kb.idx(spec.O)), o = kb.rem(no, kb.idx(spec.O));
    Value init = g.bias ? kb.load(g.bias, o) : kb.f32(0.0);
    // Border: bias, then each weight over its valid positions outside the interior.
    kb.forLoop(kb.idx(0), kb.idx(spec.OH), 1, [&](Value oy) {
      g.rowLoop(kb.idx(0), kb.idx(spec.OW), [&](Value ox, int64_t w) {
        g.storeVec(g.splat(init, w), out, {n, o, oy, ox}, w);
      });
    });
    g.forEachWeightOfFilter(o, [&](Tap &t) {
      Value wv = kb.load(g.values, t.v);
      const ConvGen::Rect valid = g.validRect(t);
      Value oy0 = valid.y0, oy1 = valid.y1, ox0 = valid.x0, ox1 = valid.x1;
      auto update = [&](Value ylo, Value yhi, Value xlo, Value xhi) {
        kb.forLoop(ylo, kb.max(ylo, yhi), 1, [&](Value oy) {
          Value iy = kb.add(kb.sub(kb.mul(oy, kb.idx(spec.SH)), kb.idx(spec.PH)), t.r);
          g.rowLoop(xlo, kb.max(xlo, xhi), [&](Value ox, int64_t w) {
            Value ix = kb.add(kb.sub(kb.mul(ox, kb.idx(spec.SW)), kb.idx(spec.PW)), t.s);
            Value acc = g.loadVec(out, {n, o, oy, ox}, w);
            Value x = g.loadStrided(in, {n, t.ic, iy, ix}, w, spec.SW);
            g.storeVec(g.fma(g.splat(wv, w), x, acc), out, {n, o, oy, ox}, w);
          });
        });
      };
      Value yI0 = kb.idx(oyI0), yI1 = kb.idx(oyI1), xI0 = kb.idx(oxI0), xI1 = kb.idx(oxI1);
      update(oy0, kb.min(oy1, yI0), ox0, ox1);  // rows above the interior
      update(kb.max(oy0, yI1), oy1, ox0, ox1);  // rows below
      update(yI0, yI1, ox0, kb.min(ox1, xI0));  // left of it
      update(yI0, yI1, kb.max(ox0, xI1), ox1);  // right of it
    });
    if (oyI1 <= oyI0 || oxI1 <= oxI0) return;
    // Interior, output-stationary: chunks of `vw` (two at a time), then one
    // masked chunk (stride 1) or halving widths for the remainder.
    kb.forLoop(kb.idx(oyI0), kb.idx(oyI1), 1, [&](Value oy) {
      Value iyBase = kb.sub(kb.mul(oy, kb.idx(spec.SH)), kb.idx(spec.PH));
      auto chunk = [&](Value ox, int64_t w, int64_t count, Value mask) {
        SmallVector<Value> accs(count, g.splat(init, w));
        accs = g.forEachWeightOfFilter(o, accs, [&](Tap &t, ValueRange acc) {
          Value wv = g.splat(kb.load(g.values, t.v), w);
          Value iy = kb.add(iyBase, t.r);
          SmallVector<Value> next;
          for (int64_t k = 0; k < count; ++k) {
            Value x0 = kb.add(ox, kb.idx(k * w));
            Value ix = kb.add(kb.sub(kb.mul(x0, kb.idx(spec.SW)), kb.idx(spec.PW)), t.s);
            Value x = mask ? g.loadVec(in, {n, t.ic, iy, ix}, w, mask)
                           : g.loadStrided(in, {n, t.ic, iy, ix}, w, spec.SW);
            next.push_back(g.fma(wv, x, acc[k]));
          }
          return next;
        });
        for (int64_t k = 0; k < count; ++k)
          g.storeVec(accs[k], out, {n, o, oy, kb.add(ox, kb.idx(k * w))}, w, mask);
      };
      int64_t at = oxI0;
      const int64_t len = oxI1 - oxI0, pairs = len / (2 * vw);
      if (pairs > 0)
        kb.forLoop(kb.idx(at), kb.idx(at + pairs * 2 * vw), 2 * vw,
                   [&](Value ox) { chunk(ox, vw, 2, Value()); });
      at += pairs * 2 * vw;
      if (oxI1 - at >= vw) chunk(kb.idx(at), vw, 1, Value()), at += vw;
      if (at < oxI1 && spec.SW == 1) {
        Value mask = b.create<vector::CreateMaskOp>(loc, VectorType::get({vw}, b.getI1Type()),
                                                    ValueRange{kb.idx(oxI1 - at)});
        chunk(kb.idx(at), vw, 1, mask);
        at = oxI1;
      }
      for (int64_t w = vw / 2; w >= 1; w /= 2)
        while (oxI1 - at >= w && (w >= 4 || w == 1)) chunk(kb.idx(at), w, 1, Value()), at += w;
    });
  });
  g.end();
  return func;
}

func::FuncOp mest::codegen::buildConvBackwardData(OpBuilder &b, Location loc,
                                                  const ConvKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  ConvGen g(b, loc, spec);
  KernelBuilder &kb = g.kb;
  SmallVector<Type> args = {g.stateType(), g.outType(), g.inType()};
  if (spec.addToInputGrad) args.push_back(g.inType());
  func::FuncOp func = g.begin(name, args);
  Value dout = func.getArgument(1), din = func.getArgument(2);
  Value addend = spec.addToInputGrad ? func.getArgument(3) : Value();
  assert((!spec.addToInputGrad || spec.config.paddedBackwardData) &&
         "the fused gradient sum needs the padded backward-data");
  if (spec.config.paddedBackwardData) {
    if (spec.SH == 1)
      emitPaddedBackwardData(g, dout, din, addend);
    else
      emitPaddedBackwardDataStrided(g, dout, din, addend);
    g.end();
    return func;
  }
  kb.parallelLoop(kb.idx(0), kb.idx(spec.N), [&](Value n) {
    kb.forLoop(kb.idx(0), kb.idx(spec.inChannels()), 1, [&](Value c) {
      kb.forLoop(kb.idx(0), kb.idx(spec.H), 1, [&](Value y) {
        g.rowLoop(kb.idx(0), kb.idx(spec.W), [&](Value x, int64_t w) {
          g.storeVec(g.splat(kb.f32(0.0), w), din, {n, c, y, x}, w);
        });
      });
    });
    kb.forLoop(kb.idx(0), kb.idx(spec.O), 1, [&](Value o) {
      g.forEachWeightOfFilter(o, [&](Tap &t) {
        Value wv = kb.load(g.values, t.v);
        const ConvGen::Rect valid = g.validRect(t);
        Value oy0 = valid.y0, oy1 = valid.y1, ox0 = valid.x0, ox1 = valid.x1;
        kb.forLoop(oy0, oy1, 1, [&](Value oy) {
          Value iy = kb.add(kb.sub(kb.mul(oy, kb.idx(spec.SH)), kb.idx(spec.PH)), t.r);
          g.rowLoop(ox0, ox1, [&](Value ox, int64_t w) {
            Value ix = kb.add(kb.sub(kb.mul(ox, kb.idx(spec.SW)), kb.idx(spec.PW)), t.s);
            Value d = g.loadVec(dout, {n, o, oy, ox}, w);
            g.addStrided(din, {n, t.ic, iy, ix}, wv, d, w, spec.SW);
          });
        });
      });
    });
  });
  g.end();
  return func;
}

namespace {

/// Adds, for each of `taps` (weights of the same filter o and input channel c),
/// the sum over images and the output rectangle [y0, y1) x [x0, x1) of
/// dout[n, o, oy, ox] * in[n, c, iy, ix] to its two partial sums in `acc`
/// (a vector and a scalar per tap). Every tap must land inside the input on the
/// rectangle; each dout chunk is loaded once for all taps.
SmallVector<Value> accumulateRect(ConvGen &g, Value in, Value dout, ArrayRef<Tap *> taps,
                                  Value y0, Value y1, Value x0, Value x1, ValueRange acc) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  const int64_t vw = sp.vectorWidth, T = static_cast<int64_t>(taps.size());
  y1 = kb.max(y0, y1);
  x1 = kb.max(x0, x1);
  Value o = taps[0]->o, c = taps[0]->ic;  // taps of one filter and input channel
  ValueRange sums = kb.forLoop(kb.idx(0), kb.idx(sp.N), 1, acc, [&](Value n, ValueRange a0) {
    ValueRange rows = kb.forLoop(y0, y1, 1, a0, [&](Value oy, ValueRange a1) {
      SmallVector<Value> cur(a1.begin(), a1.end());
      auto iy = [&](int64_t t) {
        return kb.add(kb.sub(kb.mul(oy, kb.idx(sp.SH)), kb.idx(sp.PH)), taps[t]->r);
      };
      auto ix = [&](int64_t t, Value ox) {
        return kb.add(kb.sub(kb.mul(ox, kb.idx(sp.SW)), kb.idx(sp.PW)), taps[t]->s);
      };
      Value nv = kb.div(kb.sub(x1, x0), kb.idx(vw));
      Value stop = kb.add(x0, kb.mul(nv, kb.idx(vw)));
      ValueRange vecs = kb.forLoop(x0, stop, vw, cur, [&](Value ox, ValueRange a) {
        SmallVector<Value> next(a.begin(), a.end());
        Value d = g.loadVec(dout, {n, o, oy, ox}, vw);
        for (int64_t t = 0; t < T; ++t)
          next[2 * t] = g.fma(d, g.loadStrided(in, {n, c, iy(t), ix(t, ox)}, vw, sp.SW),
                              next[2 * t]);
        return next;
      });
      cur.assign(vecs.begin(), vecs.end());
      if (sp.SW == 1) {
        // The remainder as one masked vector: masked-off lanes load 0.
        Value mask = g.b.create<vector::CreateMaskOp>(
            g.loc, VectorType::get({vw}, g.b.getI1Type()), ValueRange{kb.sub(x1, stop)});
        Value d = g.loadVec(dout, {n, o, oy, stop}, vw, mask);
        for (int64_t t = 0; t < T; ++t)
          cur[2 * t] = g.fma(d, g.loadVec(in, {n, c, iy(t), ix(t, stop)}, vw, mask), cur[2 * t]);
      } else {
        ValueRange tail = kb.forLoop(stop, x1, 1, cur, [&](Value ox, ValueRange a) {
          SmallVector<Value> next(a.begin(), a.end());
          Value d = kb.load(dout, {n, o, oy, ox});
          for (int64_t t = 0; t < T; ++t)
            next[2 * t + 1] = g.fma(d, kb.load(in, {n, c, iy(t), ix(t, ox)}), next[2 * t + 1]);
          return next;
        });
        cur.assign(tail.begin(), tail.end());
      }
      return cur;
    });
    return SmallVector<Value>(rows.begin(), rows.end());
  });
  return SmallVector<Value>(sums.begin(), sums.end());
}

/// Zero partial sums for `taps` taps: a vector and a scalar each.
SmallVector<Value> zeroSums(ConvGen &g, int64_t taps) {
  auto vecType = VectorType::get({g.spec().vectorWidth}, g.f32());
  Value zv = g.b.create<arith::ConstantOp>(g.loc, vecType, DenseElementsAttr::get(vecType, 0.0f));
  Value zs = g.kb.f32(0.0);
  SmallVector<Value> out;
  for (int64_t t = 0; t < taps; ++t) out.append({zv, zs});
  return out;
}

Value reduceSums(ConvGen &g, Value vec, Value scalar) {
  return g.b.create<vector::ReductionOp>(g.loc, vector::CombiningKind::ADD, vec, scalar);
}

/// Gradient of one weight over its valid output positions.
Value weightGradient(ConvGen &g, Value in, Value dout, Tap &t) {
  const ConvGen::Rect valid = g.validRect(t);
  Value oy0 = valid.y0, oy1 = valid.y1, ox0 = valid.x0, ox1 = valid.x1;
  Tap *taps[] = {&t};
  SmallVector<Value> s = accumulateRect(g, in, dout, taps, oy0, oy1, ox0, ox1, zeroSums(g, 1));
  return reduceSums(g, s[0], s[1]);
}

/// Gradients of the 4 taps of a pattern kernel: jointly (one dout load per
/// chunk for all 4) on the rectangle where all taps are valid, each alone on
/// the rest of its valid positions.
SmallVector<Value> patternKernelGradients(ConvGen &g, Value in, Value dout,
                                          MutableArrayRef<Tap> taps) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  SmallVector<std::pair<Value, Value>> ys, xs;
  Value y0, y1, x0, x1;
  for (Tap &t : taps) {
    ys.push_back(g.validRange(t.r, sp.SH, sp.PH, sp.H, sp.OH));
    xs.push_back(g.validRange(t.s, sp.SW, sp.PW, sp.W, sp.OW));
    y0 = y0 ? kb.max(y0, ys.back().first) : ys.back().first;
    y1 = y1 ? kb.min(y1, ys.back().second) : ys.back().second;
    x0 = x0 ? kb.max(x0, xs.back().first) : xs.back().first;
    x1 = x1 ? kb.min(x1, xs.back().second) : xs.back().second;
  }
  y1 = kb.max(y0, y1);
  x1 = kb.max(x0, x1);
  SmallVector<Tap *> all;
  for (Tap &t : taps) all.push_back(&t);
  SmallVector<Value> joint =
      accumulateRect(g, in, dout, all, y0, y1, x0, x1, zeroSums(g, taps.size()));
  SmallVector<Value> grads;
  for (size_t t = 0; t < taps.size(); ++t) {
    Tap *one[] = {&taps[t]};
    SmallVector<Value> s = {joint[2 * t], joint[2 * t + 1]};
    const auto yRange = ys[t];
    const auto oy0 = yRange.first;
    const auto oy1 = yRange.second;
    const auto xRange = xs[t];
    const auto ox0 = xRange.first;
    const auto ox1 = xRange.second;
    s = accumulateRect(g, in, dout, one, oy0, kb.min(oy1, y0), ox0, ox1, s);  // above
    s = accumulateRect(g, in, dout, one, kb.max(oy0, y1), oy1, ox0, ox1, s);  // below
    s = accumulateRect(g, in, dout, one, y0, y1, ox0, kb.min(ox1, x0), s);    // left
    s = accumulateRect(g, in, dout, one, y0, y1, kb.max(ox0, x1), ox1, s);    // right
    grads.push_back(reduceSums(g, s[0], s[1]));
  }
  return grads;
}

} // namespace

func::FuncOp mest::codegen::buildConvBackwardWeight(OpBuilder &b, Location loc,
                                                    const ConvKernelSpec &spec,
                                                    StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  ConvGen g(b, loc, spec);
  KernelBuilder &kb = g.kb;
  Type f32 = b.getF32Type();
  SmallVector<Type> args{g.stateType(), g.inType(), g.outType(), f32, f32, f32};
  if (spec.inputAffineRelu) args.push_back(MemRefType::get({spec.C, 2}, f32));
  func::FuncOp func = g.begin(name, args);
  assert((!spec.inputAffineRelu || spec.config.paddedBackwardWeight) &&
         "bn_relu needs the padded copy");
  if (spec.inputAffineRelu) g.inputAffine = func.getArguments().back();
  Value in = func.getArgument(1), dout = func.getArgument(2);
  Value lr = func.getArgument(3), mu = func.getArgument(4), wd = func.getArgument(5);
  auto update = [&](Tap &t) {
    Value grad = weightGradient(g, in, dout, t);
    sgdAt(g, g.values, g.grads, g.momentum, t.v, grad, lr, mu, wd);
  };
  if (spec.config.paddedBackwardWeight && spec.scheme == Scheme::Block)
    emitPaddedBackwardWeightBlock(g, in, dout, lr, mu, wd);
  else if (spec.config.paddedBackwardWeight)
    emitPaddedBackwardWeight(g, in, dout, lr, mu, wd);
  else switch (spec.scheme) {
  case Scheme::Dense:
    kb.parallelLoop(kb.idx(0), kb.idx(spec.O),
                    [&](Value o) { g.forEachWeightOfFilter(o, update); });
    break;
  case Scheme::Unstructured:
    kb.parallelLoop(kb.idx(0), kb.idx(spec.O), [&](Value i) {
      g.forEachWeightOfFilter(kb.loadIndex(g.order, i), update);
    });
    break;
  case Scheme::Pattern:
    // The 4 taps of each kernel are differentiated together (patternKernelGradients).
    kb.parallelLoop(kb.idx(0), kb.idx(spec.O), [&](Value i) {
      SmallVector<Tap, 4> kernel;
      g.forEachWeightOfFilter(kb.loadIndex(g.order, i), [&](Tap &t) {
        kernel.push_back(t);
        if (kernel.size() < 4) return;
        SmallVector<Value> grads = patternKernelGradients(g, in, dout, kernel);
        for (size_t k = 0; k < 4; ++k)
          sgdAt(g, g.values, g.grads, g.momentum, kernel[k].v, grads[k], lr, mu, wd);
        kernel.clear();
      });
    });
    break;
  case Scheme::Block:
    kb.parallelLoop(kb.idx(0), kb.idx(spec.O / spec.blockRows), [&](Value i) {
      Value grp = kb.loadIndex(g.order, i);
      for (int64_t r = 0; r < spec.blockRows; ++r)
        g.forEachWeightOfFilter(kb.add(kb.mul(grp, kb.idx(spec.blockRows)), kb.idx(r)),
                                update);
    });
    break;
  case Scheme::Channel:
    // Parallel over active channels: each owns a contiguous [O, KH, KW] slice.
    kb.parallelLoop(kb.idx(0), kb.loadIndex(g.header, kb.idx(0)), [&](Value slot) {
      kb.forLoop(kb.idx(0), kb.idx(spec.O), 1,
                 [&](Value o) { g.forEachWeightOfChannelSlot(slot, o, update); });
    });
    break;
  }
  if (g.bias) {
    kb.parallelLoop(kb.idx(0), kb.idx(spec.O), [&](Value o) {
      Value sum = kb.forLoop(kb.idx(0), kb.idx(spec.N), 1, {kb.f32(0.0)}, [&](Value n, ValueRange a) {
        return SmallVector<Value>{kb.forLoop(kb.idx(0), kb.idx(spec.OH), 1, a, [&](Value oy, ValueRange a2) {
          return SmallVector<Value>{kb.forLoop(kb.idx(0), kb.idx(spec.OW), 1, a2, [&](Value ox, ValueRange a3) {
            return SmallVector<Value>{b.create<arith::AddFOp>(loc, a3[0], kb.load(dout, {n, o, oy, ox}))};
          })[0]};
        })[0]};
      })[0];
      sgdAt(g, g.bias, g.biasGrad, g.biasMomentum, o, sum, lr, mu, wd);
    });
  }
  g.end();
  return func;
}
