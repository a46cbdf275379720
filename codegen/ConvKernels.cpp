//===- ConvKernels.cpp - specialised conv2d / linear kernels --------------===//
//
// Direct (im2col-free) convolution on NCHW activations with the weights in the
// layer's compressed format. Every active weight w at (o, c, r, s) contributes
// w * in[n, c, oy*SH - PH + r, ox*SW - PW + s] to out[n, o, oy, ox] over the
// output positions where the tap lands inside the input; those ranges are
// computed per tap (constants when the tap is static: dense, channel, pattern),
// so no padding copy and no per-element bounds checks. Output rows are
// processed in vectors of `vectorWidth`, then halves down to 4, then scalars;
// strided rows load (or update) the contiguous span and shuffle.
//
// Parallelism: forward over (image, filter) pairs and backward-data over images,
// so threads always get equal work whatever the sparsity; backward-weight over
// filters (block: groups of filters; channel: active channels) in the order the
// runtime's regrouping wrote after the last mutation.
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvKernels.h"

#include "codegen/KernelBuilder.h"
#include "codegen/RuntimeCalls.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <map>

using namespace mlir;
using namespace mest;
using namespace mest::codegen;

namespace {

using rt::Scheme;

/// A weight as the kernels see it: its position and its index v in the packed
/// values (and gradients and momentum).
struct Tap {
  Value o, c, r, s, v;
  int64_t staticR = -1, staticS = -1;  // >= 0 when known at compile time
};

class ConvGen {
public:
  ConvGen(OpBuilder &b, Location loc, const ConvKernelSpec &spec)
      : kb(b, loc), b(b), loc(loc), sp(spec) {}

  /// Creates `func.func @name(args)` and positions the builder in its body.
  func::FuncOp begin(StringRef name, ArrayRef<Type> args) {
    auto func = b.create<func::FuncOp>(loc, name, b.getFunctionType(args, {}));
    func.setPrivate();
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    bindState(entry->getArgument(0));
    return func;
  }
  void end() { b.create<func::ReturnOp>(loc); }

  Type f32() { return b.getF32Type(); }
  MemRefType stateType() { return MemRefType::get({sp.stateBytes}, b.getI8Type()); }
  MemRefType inType() { return MemRefType::get({sp.N, sp.C, sp.H, sp.W}, f32()); }
  MemRefType outType() { return MemRefType::get({sp.N, sp.O, sp.OH, sp.OW}, f32()); }

  void bindState(Value state) {
    const rt::ConvStateLayout &l = sp.layout;
    auto view = [&](int64_t off, int64_t count, Type t) {
      return off < 0 ? Value() : kb.stateView(state, sp.base + off, count, t);
    };
    header = view(l.header, 2, b.getI64Type());
    values = view(l.values, l.capacityValues, f32());
    grads = view(l.grads, l.capacityValues, f32());
    momentum = view(l.momentum, l.capacityValues, f32());
    bias = view(l.bias, sp.O, f32());
    biasGrad = view(l.biasGrad, sp.O, f32());
    biasMomentum = view(l.biasMomentum, sp.O, f32());
    index = view(l.index, l.capacityUnits, b.getI32Type());
    groupPtr = view(l.groupPtr, l.groups + 1, b.getI32Type());
    patternCount = view(l.patternCount, sp.O * sp.numPatterns(), b.getI32Type());
    order = view(l.order, l.workUnits, b.getI32Type());
  }

  /// Decodes a column of the [O, C*KH*KW] view into (c, r, s).
  void decodeColumn(Value col, Tap &t) {
    Value kk = kb.idx(sp.KH * sp.KW);
    t.c = kb.div(col, kk);
    Value rs = kb.rem(col, kk);
    t.r = kb.div(rs, kb.idx(sp.KW));
    t.s = kb.rem(rs, kb.idx(sp.KW));
  }

  using Carried = SmallVector<Value>;
  using TapFn = std::function<Carried(Tap &, ValueRange)>;

  /// Calls fn for every active weight of filter `o`, in storage order, threading
  /// `init` through it (fn returns the next values); returns the final values.
  /// Carried values stay in SSA registers across the scheme's loops.
  Carried forEachWeightOfFilter(Value o, ValueRange init, const TapFn &fn) {
    const int64_t kk = sp.KH * sp.KW;
    auto staticTaps = [&](Value c, ValueRange acc,
                          const std::function<Value(int64_t, int64_t)> &index) {
      Carried cur(acc.begin(), acc.end());
      for (int64_t r = 0; r < sp.KH; ++r)
        for (int64_t s = 0; s < sp.KW; ++s) {
          Tap t{o, c, kb.idx(r), kb.idx(s), index(r, s), r, s};
          cur = fn(t, cur);
        }
      return cur;
    };
    auto loop = [&](Value lo, Value hi, ValueRange acc,
                    const std::function<Carried(Value, ValueRange)> &body) {
      ValueRange out = kb.forLoop(lo, hi, 1, acc, body);
      return Carried(out.begin(), out.end());
    };
    switch (sp.scheme) {
    case Scheme::Dense:
      return loop(kb.idx(0), kb.idx(sp.C), init, [&](Value c, ValueRange acc) {
        return staticTaps(c, acc, [&](int64_t r, int64_t s) {
          return kb.add(kb.mul(kb.add(kb.mul(o, kb.idx(sp.C)), c), kb.idx(kk)),
                        kb.idx(r * sp.KW + s));
        });
      });
    case Scheme::Unstructured:
      return loop(kb.loadIndex(groupPtr, o), kb.loadIndex(groupPtr, kb.add(o, kb.idx(1))), init,
                  [&](Value v, ValueRange acc) {
                    Tap t{o, {}, {}, {}, v};
                    decodeColumn(kb.loadIndex(index, v), t);
                    return fn(t, acc);
                  });
    case Scheme::Block: {
      Value rows = kb.idx(sp.blockRows), g = kb.div(o, rows), i = kb.rem(o, rows);
      return loop(kb.loadIndex(groupPtr, g), kb.loadIndex(groupPtr, kb.add(g, kb.idx(1))), init,
                  [&](Value slot, ValueRange acc) {
                    Tap t{o, {}, {}, {}, kb.add(kb.mul(slot, rows), i)};
                    decodeColumn(kb.loadIndex(index, slot), t);
                    return fn(t, acc);
                  });
    }
    case Scheme::Channel:
      return loop(kb.idx(0), kb.loadIndex(header, kb.idx(0)), init, [&](Value slot, ValueRange acc) {
        return forEachWeightOfChannelSlot(slot, o, acc, fn);
      });
    case Scheme::Pattern: {
      // Kernels of a filter are sorted by pattern: one loop per pattern, each with
      // its 4 taps as constants, so the body is straight-line code.
      const int64_t P = sp.numPatterns();
      Value start = kb.mul(o, kb.loadIndex(header, kb.idx(1)));
      Carried cur(init.begin(), init.end());
      for (int64_t p = 0; p < P; ++p) {
        Value count = kb.loadIndex(patternCount, kb.add(kb.mul(o, kb.idx(P)), kb.idx(p)));
        Value stop = kb.add(start, count);
        cur = loop(start, stop, cur, [&](Value slot, ValueRange acc) {
          Value c = kb.loadIndex(index, slot);
          Carried next(acc.begin(), acc.end());
          for (int64_t t = 0; t < 4; ++t) {
            int64_t tap = sp.taps[p * 4 + t];
            Tap w{o, c, kb.idx(tap / 3), kb.idx(tap % 3),
                  kb.add(kb.mul(slot, kb.idx(4)), kb.idx(t)), tap / 3, tap % 3};
            next = fn(w, next);
          }
          return next;
        });
        start = stop;
      }
      return cur;
    }
    }
    return Carried(init.begin(), init.end());
  }
  /// Pattern scheme: fn(slot, channel, pattern, acc) for every kernel of
  /// filter o, one loop per pattern (the pattern is a compile-time constant).
  Carried forEachPatternKernel(
      Value o, ValueRange init,
      const std::function<Carried(Value, Value, int64_t, ValueRange)> &fn) {
    const int64_t P = sp.numPatterns();
    Value start = kb.mul(o, kb.loadIndex(header, kb.idx(1)));
    Carried cur(init.begin(), init.end());
    for (int64_t p = 0; p < P; ++p) {
      Value count = kb.loadIndex(patternCount, kb.add(kb.mul(o, kb.idx(P)), kb.idx(p)));
      Value stop = kb.add(start, count);
      ValueRange out = kb.forLoop(start, stop, 1, cur, [&](Value slot, ValueRange acc) {
        return fn(slot, kb.loadIndex(index, slot), p, acc);
      });
      cur.assign(out.begin(), out.end());
      start = stop;
    }
    return cur;
  }
  void forEachWeightOfFilter(Value o, const std::function<void(Tap &)> &fn) {
    forEachWeightOfFilter(o, {}, [&](Tap &t, ValueRange) {
      fn(t);
      return Carried{};
    });
  }

  /// Channel scheme: the weights of filter `o` in active-channel slot `slot`,
  /// whose values are the [O, KH, KW] slice of that channel.
  Carried forEachWeightOfChannelSlot(Value slot, Value o, ValueRange init, const TapFn &fn) {
    const int64_t kk = sp.KH * sp.KW;
    Value c = kb.loadIndex(index, slot);
    Carried cur(init.begin(), init.end());
    for (int64_t r = 0; r < sp.KH; ++r)
      for (int64_t s = 0; s < sp.KW; ++s) {
        Tap t{o, c, kb.idx(r), kb.idx(s), Value(), r, s};
        t.v = kb.add(kb.mul(slot, kb.idx(sp.O * kk)),
                     kb.add(kb.mul(o, kb.idx(kk)), kb.idx(r * sp.KW + s)));
        cur = fn(t, cur);
      }
    return cur;
  }
  void forEachWeightOfChannelSlot(Value slot, Value o, const std::function<void(Tap &)> &fn) {
    forEachWeightOfChannelSlot(slot, o, {}, [&](Tap &t, ValueRange) {
      fn(t);
      return Carried{};
    });
  }

  /// Valid output range [lo, hi) along one axis for tap offset k:
  /// 0 <= o*S - P + k < size.
  std::pair<Value, Value> validRange(Value k, int64_t stride, int64_t pad, int64_t size,
                                     int64_t outSize) {
    Value lo = kb.max(kb.idx(0), kb.ceilDiv(kb.sub(kb.idx(pad), k), stride));
    Value hi = kb.min(kb.idx(outSize),
                      kb.add(kb.floorDiv(kb.sub(kb.idx(size - 1 + pad), k), stride), kb.idx(1)));
    hi = kb.max(hi, lo);
    return {lo, hi};
  }

  /// Runs `body(x, width)` over [lo, hi) in vectors of `vectorWidth`, then of
  /// halving widths down to 4, then scalars (width 1). No masked stores: they
  /// are microcoded (slow) on AMD Zen.
  void rowLoop(Value lo, Value hi, const std::function<void(Value, int64_t)> &body) {
    Value start = lo;
    for (int64_t w = sp.vectorWidth; w >= 4; w /= 2) {
      Value n = kb.div(kb.sub(hi, start), kb.idx(w));
      Value stop = kb.add(start, kb.mul(n, kb.idx(w)));
      kb.forLoop(start, stop, w, [&](Value x) { body(x, w); });
      start = stop;
    }
    kb.forLoop(start, hi, 1, [&](Value x) { body(x, 1); });
  }

  Value loadVec(Value mem, ValueRange at, int64_t w, Value mask = Value()) {
    if (w == 1) return kb.load(mem, at);
    auto type = VectorType::get({w}, f32());
    if (mask) {
      Value zero = b.create<arith::ConstantOp>(loc, type, DenseElementsAttr::get(type, 0.0f));
      return b.create<vector::MaskedLoadOp>(loc, type, mem, at, mask, zero);
    }
    return b.create<vector::LoadOp>(loc, type, mem, at);
  }
  void storeVec(Value v, Value mem, ValueRange at, int64_t w, Value mask = Value()) {
    if (w == 1) return kb.store(v, mem, at);
    if (mask) {
      b.create<vector::MaskedStoreOp>(loc, mem, at, mask, v);
      return;
    }
    b.create<vector::StoreOp>(loc, v, mem, at);
  }
  /// w elements at stride `stride` from `at` (last index), as one contiguous
  /// load of the span and a shuffle: stride-2 rows stay vectorised.
  Value loadStrided(Value mem, SmallVector<Value> at, int64_t w, int64_t stride) {
    if (w == 1 || stride == 1) return loadVec(mem, at, w);
    const int64_t span = (w - 1) * stride + 1;
    Value v = b.create<vector::LoadOp>(loc, VectorType::get({span}, f32()), mem, at);
    SmallVector<int64_t> pick;
    for (int64_t i = 0; i < w; ++i) pick.push_back(i * stride);
    return b.create<vector::ShuffleOp>(loc, v, v, pick);
  }
  /// mem[at + stride * i] += a * x[i] for i < w: read-modify-write of the span,
  /// with x spread to every stride-th lane and zeros between.
  void addStrided(Value mem, SmallVector<Value> at, Value a, Value x, int64_t w, int64_t stride) {
    if (w == 1 || stride == 1) {
      storeVec(fma(splat(a, w), x, loadVec(mem, at, w)), mem, at, w);
      return;
    }
    const int64_t span = (w - 1) * stride + 1;
    auto vt = VectorType::get({w}, f32());
    Value zero = b.create<arith::ConstantOp>(loc, vt, DenseElementsAttr::get(vt, 0.0f));
    SmallVector<int64_t> spread;
    for (int64_t j = 0; j < span; ++j) spread.push_back(j % stride == 0 ? j / stride : w);
    Value wide = b.create<vector::ShuffleOp>(loc, x, zero, spread);
    auto st = VectorType::get({span}, f32());
    Value cur = b.create<vector::LoadOp>(loc, st, mem, at);
    Value aw = b.create<vector::BroadcastOp>(loc, st, a);
    b.create<vector::StoreOp>(loc, fma(aw, wide, cur), mem, at);
  }

  Value splat(Value s, int64_t w) {
    return w == 1 ? s : b.create<vector::BroadcastOp>(loc, VectorType::get({w}, f32()), s);
  }
  Value fma(Value a, Value x, Value acc) { return b.create<math::FmaOp>(loc, a, x, acc); }

  /// Geometry of the padded kernels: the input (forward, backward-weight) or
  /// the output gradient (backward-data) is copied into zero-bordered planes;
  /// with stride S each channel becomes S x S phase planes (rows and columns
  /// of one residue mod S), so every conv is a stride-1 conv on phase planes
  /// of Hp x Wp. An output plane is computed on the flattened grid of pitch
  /// Wp: output (y, x) is element y * Wp + x and tap (r, s) of channel c reads
  /// tapOffset(c, r, s) further on, so every weight streams one contiguous
  /// vector range, with no clipping. Columns x >= OW of the grid are junk.
  struct Padded {
    int64_t channels, H, W, PH, PW, SH, SW, OH, OW;  // the conv being computed
    int64_t Hp, Wp, flat, vecs, plane, size;
  };
  /// (KH, KW default to the layer's kernel.)
  Padded padded(int64_t channels, int64_t H, int64_t W, int64_t PH, int64_t PW, int64_t SH,
                int64_t SW, int64_t KH = 0, int64_t KW = 0) const {
    KH = KH ? KH : sp.KH;
    KW = KW ? KW : sp.KW;
    Padded p{channels, H, W, PH, PW, SH, SW, (H + 2 * PH - KH) / SH + 1,
             (W + 2 * PW - KW) / SW + 1};
    p.Hp = (H + 2 * PH + SH - 1) / SH;
    p.Wp = (W + 2 * PW + SW - 1) / SW;
    p.flat = p.OH * p.Wp;
    p.vecs = (p.flat + sp.vectorWidth - 1) / sp.vectorWidth;
    // Planes start vector-aligned, so a channel's taps can share aligned loads.
    p.plane = (p.Hp * p.Wp + sp.vectorWidth - 1) / sp.vectorWidth * sp.vectorWidth;
    // The last vector of the last plane reads up to (KW-1)/SW + vectorWidth past it.
    p.size = channels * SH * SW * p.plane + (KW - 1) / SW + 2 * sp.vectorWidth;
    return p;
  }
  /// The forward conv, and backward-data (stride 1) as the conv of the output
  /// gradient padded by K - 1 - P with the taps flipped.
  Padded paddedForward() const {
    return padded(sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.SW);
  }
  Padded paddedBackwardData() const {
    return padded(sp.O, sp.OH, sp.OW, sp.KH - 1 - sp.PH, sp.KW - 1 - sp.PW, 1, 1);
  }
  /// Backward-data at stride 2: phase (i, j) of the input gradient (padded
  /// coordinates 2a + i, 2b + j) is the stride-1 conv, with a ceil(K/2) kernel,
  /// of the output gradient padded by ceil(K/2) - 1, over the taps
  /// (2kr + i, 2ks + j) flipped.
  Padded paddedBackwardDataPhases() const {
    const int64_t kr = (sp.KH + 1) / 2, ks = (sp.KW + 1) / 2;
    return padded(sp.O, sp.OH, sp.OW, kr - 1, ks - 1, 1, 1, kr, ks);
  }
  /// Where tap (r, s) of channel c starts reading, relative to the output.
  Value tapOffset(const Padded &p, Value c, Value r, Value s) {
    Value phase = kb.add(kb.mul(kb.add(kb.mul(c, kb.idx(p.SH)), kb.rem(r, kb.idx(p.SH))),
                                kb.idx(p.SW)),
                         kb.rem(s, kb.idx(p.SW)));
    return kb.add(kb.mul(phase, kb.idx(p.plane)),
                  kb.add(kb.mul(kb.div(r, kb.idx(p.SH)), kb.idx(p.Wp)),
                         kb.div(s, kb.idx(p.SW))));
  }
  /// A scratch buffer on the stack. Inside a parallel loop the alloca lands in
  /// the OpenMP region, once per thread (scf-to-openmp, then canonicalisation).
  Value scratch(int64_t count, Type elem = {}) {
    auto type = MemRefType::get({count}, elem ? elem : f32());
    return b.create<memref::AllocaOp>(loc, type, b.getI64IntegerAttr(64));
  }
  /// mem[at, at + count) = 0.
  void zeroRange(Value mem, Value at, int64_t count) {
    if (count <= 0) return;
    rowLoop(at, kb.add(at, kb.idx(count)), [&](Value x, int64_t w) {
      storeVec(splat(kb.f32(0.0), w), mem, {x}, w);
    });
  }
  /// buf = image n of src [N, channels, H, W], zero-bordered by (PH, PW) and
  /// split into phase planes, with zeros after the last plane. Which rows and
  /// columns of a phase plane hold data is known at compile time.
  void fillPadded(const Padded &p, Value src, Value n, Value buf) {
    auto valid = [](int64_t phase, int64_t stride, int64_t pad, int64_t size, int64_t outer) {
      // Phase positions a with 0 <= a * stride + phase - pad < size.
      int64_t lo = std::max<int64_t>(0, (pad - phase + stride - 1) / stride);
      int64_t hi = size - 1 + pad - phase >= 0 ? (size - 1 + pad - phase) / stride + 1 : 0;
      hi = std::min(hi, outer);
      return std::pair<int64_t, int64_t>{std::min(lo, hi), hi};
    };
    kb.forLoop(kb.idx(0), kb.idx(p.channels), 1, [&](Value c) {
      for (int64_t i = 0; i < p.SH; ++i)
        for (int64_t j = 0; j < p.SW; ++j) {
          Value base = kb.mul(kb.add(kb.mul(c, kb.idx(p.SH * p.SW)), kb.idx(i * p.SW + j)),
                              kb.idx(p.plane));
          auto [a0, a1] = valid(i, p.SH, p.PH, p.H, p.Hp);
          auto [b0, b1] = valid(j, p.SW, p.PW, p.W, p.Wp);
          zeroRange(buf, base, a0 * p.Wp);
          kb.forLoop(kb.idx(a0), kb.idx(a1), 1, [&](Value a) {
            Value row = kb.add(base, kb.mul(a, kb.idx(p.Wp)));
            Value iy = kb.add(kb.mul(a, kb.idx(p.SH)), kb.idx(i - p.PH));
            zeroRange(buf, row, b0);
            rowLoop(kb.idx(b0), kb.idx(b1), [&](Value bx, int64_t w) {
              Value ix = kb.add(kb.mul(bx, kb.idx(p.SW)), kb.idx(j - p.PW));
              storeVec(loadStrided(src, {n, c, iy, ix}, w, p.SW), buf, {kb.add(row, bx)}, w);
            });
            zeroRange(buf, kb.add(row, kb.idx(b1)), p.Wp - b1);
          });
          zeroRange(buf, kb.add(base, kb.idx(a1 * p.Wp)), p.plane - a1 * p.Wp);
        }
    });
    const int64_t used = p.channels * p.SH * p.SW * p.plane;
    zeroRange(buf, kb.idx(used), p.size - used);
  }
  /// dst[n, o, y, x] = flat[y * Wp + x] for the OH x OW valid positions.
  /// With `addend`, dst = flat + addend (same shape as dst).
  void storeValid(const Padded &p, Value flat, Value dst, Value n, Value o,
                  Value addend = {}) {
    kb.forLoop(kb.idx(0), kb.idx(p.OH), 1, [&](Value y) {
      Value row = kb.mul(y, kb.idx(p.Wp));
      rowLoop(kb.idx(0), kb.idx(p.OW), [&](Value x, int64_t w) {
        storeVec(plus(loadVec(flat, {kb.add(row, x)}, w), addend, {n, o, y, x}, w), dst,
                 {n, o, y, x}, w);
      });
    });
  }
  /// v + addend[at...] (w lanes), or v without an addend.
  Value plus(Value v, Value addend, ValueRange at, int64_t w) {
    return addend ? b.create<arith::AddFOp>(loc, v, loadVec(addend, at, w)).getResult() : v;
  }
  /// dst[at + y * Wp + x] = src[n, o, y, x] on the flattened output grid of p,
  /// with the junk columns and the tail up to vecs * vw zeroed, so that dot
  /// products over whole vectors see the valid positions only.
  void loadFlat(const Padded &p, Value src, Value n, Value o, Value dst, Value at) {
    kb.forLoop(kb.idx(0), kb.idx(p.OH), 1, [&](Value y) {
      Value row = kb.add(at, kb.mul(y, kb.idx(p.Wp)));
      rowLoop(kb.idx(0), kb.idx(p.OW), [&](Value x, int64_t w) {
        storeVec(loadVec(src, {n, o, y, x}, w), dst, {kb.add(row, x)}, w);
      });
      for (int64_t x = p.OW; x < p.Wp; ++x) kb.store(kb.f32(0.0), dst, kb.add(row, kb.idx(x)));
    });
    zeroRange(dst, kb.add(at, kb.idx(p.flat)), p.vecs * sp.vectorWidth - p.flat);
  }
  /// stats[n, o] = (sum, sum of squares) of the OH x OW valid positions of
  /// the flattened plane (still in L1 after storeValid).
  void planeStats(const Padded &p, Value flat, Value stats, Value n, Value o) {
    const int64_t vw = sp.vectorWidth;
    Value zero = splat(kb.f32(0.0), vw);
    ValueRange sums = kb.forLoop(kb.idx(0), kb.idx(p.OH), 1, {zero, zero},
                                 [&](Value y, ValueRange acc) {
      Value s = acc[0], q = acc[1];
      for (int64_t x = 0; x < p.OW; x += vw) {
        Value at = kb.add(kb.mul(y, kb.idx(p.Wp)), kb.idx(x));
        Value mask;
        if (p.OW - x < vw)
          mask = b.create<vector::CreateMaskOp>(loc, VectorType::get({vw}, b.getI1Type()),
                                                ValueRange{kb.idx(p.OW - x)});
        Value v = loadVec(flat, {at}, vw, mask);
        s = b.create<arith::AddFOp>(loc, s, v);
        q = fma(v, v, q);
      }
      return Carried{s, q};
    });
    for (int64_t k = 0; k < 2; ++k)
      kb.store(b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, sums[k]), stats,
               {n, o, kb.idx(k)});
  }

  /// Computes M flattened output planes of a padded conv into `flat` (plane i
  /// at i * vecs * vw): chunks of vectors of every plane stay in registers
  /// (carried values, plane i starting at inits[i]) while `weights` streams
  /// every contributing weight into them through `add(values, offset, acc)`,
  /// which adds values[i] * buf[offset + at + j * vw] to chunk vector j of
  /// plane i (one load serves all M planes) and returns the new accumulators.
  using Accumulate = std::function<Carried(ValueRange values, Value offset, ValueRange acc)>;
  /// Several weights of one channel at once: `base` (a multiple of vw) plus
  /// static tap offsets. Their input vectors come from shared aligned loads
  /// and shuffles instead of one unaligned load each (PatDNN's reuse of a
  /// kernel row's input across its taps).
  using AccumulateTaps = std::function<Carried(ValueRange values, Value base,
                                               ArrayRef<int64_t> offsets, ValueRange acc)>;
  using WeightStream =
      std::function<Carried(ValueRange acc, const Accumulate &add, const AccumulateTaps &taps)>;
  void paddedPlanes(const Padded &p, Value buf, Value flat, ArrayRef<Value> inits,
                    const WeightStream &weights) {
    const int64_t vw = sp.vectorWidth, M = static_cast<int64_t>(inits.size());
    // Accumulators, M broadcasts and a load must fit the register file (32
    // vector registers with AVX-512, 16 below).
    const int64_t regs = vw >= 16 ? 24 : 12;
    const int64_t R = std::min(p.vecs, M == 1 ? regs / 2 : std::max<int64_t>(1, regs / M - 1));
    auto chunk = [&](Value at, int64_t count) {
      Carried init;
      for (int64_t i = 0; i < M; ++i) init.append(count, inits[i]);
      auto add = [&](ValueRange values, Value offset, ValueRange acc) {
        SmallVector<Value> wv;
        for (Value v : values) wv.push_back(splat(v, vw));
        Value base = kb.add(offset, at);
        Carried next(acc.begin(), acc.end());
        for (int64_t j = 0; j < count; ++j) {
          Value x = loadVec(buf, {kb.add(base, kb.idx(j * vw))}, vw);
          for (int64_t i = 0; i < M; ++i)
            next[i * count + j] = fma(wv[i], x, acc[i * count + j]);
        }
        return next;
      };
      auto addTaps = [&](ValueRange values, Value base, ArrayRef<int64_t> offsets,
                         ValueRange acc) {
        assert(M == 1 && "tap groups feed one plane");
        SmallVector<Value> wv;
        for (Value v : values) wv.push_back(splat(v, vw));
        Value from = kb.add(base, at);
        std::map<int64_t, Value> loaded;  // aligned vector k of the window
        auto aligned = [&](int64_t k) {
          auto [it, fresh] = loaded.try_emplace(k);
          if (fresh) it->second = loadVec(buf, {kb.add(from, kb.idx(k * vw))}, vw);
          return it->second;
        };
        Carried next(acc.begin(), acc.end());
        for (int64_t j = 0; j < count; ++j)
          for (size_t t = 0; t < offsets.size(); ++t) {
            const int64_t q = offsets[t] / vw + j, m = offsets[t] % vw;
            Value x = aligned(q);
            if (m) {
              SmallVector<int64_t> lanes;
              for (int64_t l = 0; l < vw; ++l) lanes.push_back(m + l);
              x = b.create<vector::ShuffleOp>(loc, x, aligned(q + 1), lanes);
            }
            next[j] = fma(wv[t], x, next[j]);
          }
        return next;
      };
      Carried accs = weights(init, add, addTaps);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < count; ++j)
          storeVec(accs[i * count + j], flat, {kb.add(at, kb.idx(i * p.vecs * vw + j * vw))},
                   vw);
    };
    const int64_t full = p.vecs / R, rest = p.vecs % R;
    kb.forLoop(kb.idx(0), kb.idx(full * R * vw), R * vw, [&](Value at) { chunk(at, R); });
    if (rest) chunk(kb.idx(full * R * vw), rest);
  }

  const ConvKernelSpec &spec() const { return sp; }

  KernelBuilder kb;
  OpBuilder &b;
  Location loc;
  const ConvKernelSpec &sp;
  Value header, values, grads, momentum, bias, biasGrad, biasMomentum, index, groupPtr,
      patternCount, order;
};

} // namespace

namespace {
/// Stack bytes the padded kernels of a layer need on one thread, the largest
/// over the three directions (the formulas of the emit* functions below).
int64_t paddedScratchBytes(const ConvKernelSpec &sp) {
  const int64_t vw = sp.vectorWidth, kk = sp.KH * sp.KW;
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  auto geometry = [&](int64_t channels, int64_t H, int64_t W, int64_t PH, int64_t PW,
                      int64_t S, int64_t KH, int64_t KW) {
    const int64_t Hp = (H + 2 * PH + S - 1) / S, Wp = (W + 2 * PW + S - 1) / S;
    const int64_t OH = (H + 2 * PH - KH) / S + 1;
    const int64_t vecs = (OH * Wp + vw - 1) / vw;
    return std::pair<int64_t, int64_t>{channels * S * S * Hp * Wp + KW + vw, vecs * vw};
  };
  const int64_t M = sp.scheme == Scheme::Block ? sp.blockRows : 1;
  auto [in, flat] = geometry(sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.KH, sp.KW);
  int64_t floats = in + M * flat;  // forward
  // backward-weight: B images of input, the output gradients, the partial sums
  const int64_t vecs = flat / vw;
  int64_t B = std::max<int64_t>(1, (vw >= 16 ? 24 : 10) / vecs);
  while (sp.N % B) --B;
  const bool channel = sp.scheme == Scheme::Channel;
  floats = std::max(floats, B * in + (channel ? sp.O : M) * B * flat +
                                (channel ? kk : std::min(sp.C * kk, cap)) * vw);
  if (sp.scheme == Scheme::Block) floats = std::max(floats, in + M * flat + cap * vw);
  // backward-data: the padded output gradient, its planes, the weight lists
  if (sp.SH == 1 && sp.SW == 1) {
    auto [g, f] = geometry(sp.O, sp.OH, sp.OW, std::max<int64_t>(0, sp.KH - 1 - sp.PH),
                           std::max<int64_t>(0, sp.KW - 1 - sp.PW), 1, sp.KH, sp.KW);
    floats = std::max(floats, g + f + 2 * cap + 2 * (sp.C + 1));
  } else {
    const int64_t kr = (sp.KH + 1) / 2, ks = (sp.KW + 1) / 2;
    auto [g, f] = geometry(sp.O, sp.OH, sp.OW, kr - 1, ks - 1, 1, kr, ks);
    floats = std::max(floats, g + 4 * f + 2 * cap + 2 * (4 * sp.C + 1));
  }
  return 4 * floats;
}
} // namespace

bool mest::codegen::usePaddedKernels(const ConvKernelSpec &spec) {
  if (spec.convKernels == "direct" || spec.SH > 2 || spec.SW > 2 || spec.SH != spec.SW)
    return false;
  // Scratch lives on the thread's stack: stay well inside libomp's 4 MiB.
  if (paddedScratchBytes(spec) > (3 << 19)) return false;
  // Linear layers and tiny planes would use a sliver of each vector.
  return spec.convKernels == "padded" || spec.OH * spec.OW >= 16;
}

namespace {
/// Backward-data is padded only at stride 1 (a strided one would scatter).
bool usePaddedBackwardData(const ConvKernelSpec &spec) {
  return usePaddedKernels(spec) && spec.SH == 1 && spec.SW == 1 && spec.KH - 1 >= spec.PH &&
         spec.KW - 1 >= spec.PW;
}
} // namespace

namespace {

/// Output-stationary forward on the padded input (see ConvGen::Padded): per
/// image, the input is copied once into a zero-bordered per-thread buffer; per
/// filter, every active weight streams into the flattened output plane.
void emitPaddedForward(ConvGen &g, Value in, Value out, Value stats) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedForward();
  // Block: the filters of a group share their columns, so the group is
  // computed at once and every input load feeds all of its filters.
  const int64_t M = sp.scheme == Scheme::Block ? sp.blockRows : 1;
  const int64_t planeFloats = p.vecs * sp.vectorWidth;
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(p.size), flat = g.scratch(M * planeFloats);
    g.fillPadded(p, in, n, buf);
    kb.forLoop(kb.idx(0), kb.idx(sp.O / M), 1, [&](Value unit) {
      Value o0 = kb.mul(unit, kb.idx(M));
      SmallVector<Value> inits;
      for (int64_t i = 0; i < M; ++i)
        inits.push_back(g.splat(g.bias ? kb.load(g.bias, kb.add(o0, kb.idx(i))) : kb.f32(0.0),
                                sp.vectorWidth));
      g.paddedPlanes(p, buf, flat, inits, [&](ValueRange acc, const ConvGen::Accumulate &add,
                                              const ConvGen::AccumulateTaps &addTaps) {
        if (sp.scheme == Scheme::Pattern)
          return g.forEachPatternKernel(o0, acc, [&](Value slot, Value c, int64_t pattern,
                                                     ValueRange a) {
            SmallVector<Value> values;
            SmallVector<int64_t> offsets;
            for (int64_t t = 0; t < 4; ++t) {
              const int64_t tap = sp.taps[pattern * 4 + t], r = tap / 3, s = tap % 3;
              values.push_back(kb.load(g.values, kb.add(kb.mul(slot, kb.idx(4)), kb.idx(t))));
              offsets.push_back(((r % p.SH) * p.SW + s % p.SW) * p.plane + (r / p.SH) * p.Wp +
                                s / p.SW);
            }
            return addTaps(values, kb.mul(c, kb.idx(p.SH * p.SW * p.plane)), offsets, a);
          });
        // Dense and channel: all KH x KW taps of a channel at once.
        auto channelTaps = [&](Value c, const std::function<Value(int64_t, int64_t)> &index,
                               ValueRange a) {
          // A row of taps at a time: few enough live values to stay in registers.
          ConvGen::Carried cur(a.begin(), a.end());
          for (int64_t r = 0; r < sp.KH; ++r) {
            SmallVector<Value> values;
            SmallVector<int64_t> offsets;
            for (int64_t s = 0; s < sp.KW; ++s) {
              values.push_back(kb.load(g.values, index(r, s)));
              offsets.push_back(((r % p.SH) * p.SW + s % p.SW) * p.plane + (r / p.SH) * p.Wp +
                                s / p.SW);
            }
            cur = addTaps(values, kb.mul(c, kb.idx(p.SH * p.SW * p.plane)), offsets, cur);
          }
          return cur;
        };
        const int64_t kk = sp.KH * sp.KW;
        if (sp.scheme == Scheme::Dense) {
          ValueRange r = kb.forLoop(kb.idx(0), kb.idx(sp.C), 1, acc, [&](Value c, ValueRange a) {
            Value first = kb.mul(kb.add(kb.mul(o0, kb.idx(sp.C)), c), kb.idx(kk));
            return channelTaps(c, [&](int64_t r, int64_t s) {
              return kb.add(first, kb.idx(r * sp.KW + s));
            }, a);
          });
          return ConvGen::Carried(r.begin(), r.end());
        }
        if (sp.scheme == Scheme::Channel) {
          ValueRange r = kb.forLoop(
              kb.idx(0), kb.loadIndex(g.header, kb.idx(0)), 1, acc, [&](Value slot, ValueRange a) {
                Value first = kb.add(kb.mul(slot, kb.idx(sp.O * kk)), kb.mul(o0, kb.idx(kk)));
                return channelTaps(kb.loadIndex(g.index, slot), [&](int64_t r, int64_t s) {
                  return kb.add(first, kb.idx(r * sp.KW + s));
                }, a);
              });
          return ConvGen::Carried(r.begin(), r.end());
        }
        if (M == 1)
          return g.forEachWeightOfFilter(o0, acc, [&](Tap &t, ValueRange a) {
            return add({kb.load(g.values, t.v)}, g.tapOffset(p, t.c, t.r, t.s), a);
          });
        ValueRange r = kb.forLoop(
            kb.loadIndex(g.groupPtr, unit), kb.loadIndex(g.groupPtr, kb.add(unit, kb.idx(1))), 1,
            acc, [&](Value slot, ValueRange a) {
              Tap t;
              g.decodeColumn(kb.loadIndex(g.index, slot), t);
              SmallVector<Value> values;
              for (int64_t i = 0; i < M; ++i)
                values.push_back(
                    kb.load(g.values, kb.add(kb.mul(slot, kb.idx(M)), kb.idx(i))));
              return add(values, g.tapOffset(p, t.c, t.r, t.s), a);
            });
        return ConvGen::Carried(r.begin(), r.end());
      });
      for (int64_t i = 0; i < M; ++i) {
        Value plane = g.b.create<memref::SubViewOp>(g.loc, flat, ArrayRef<int64_t>{i * planeFloats},
                                                    ArrayRef<int64_t>{planeFloats},
                                                    ArrayRef<int64_t>{1});
        Value o = kb.add(o0, kb.idx(i));
        g.storeValid(p, plane, out, n, o);
        if (stats) g.planeStats(p, plane, stats, n, o);
      }
    });
  });
}

/// The active weights listed by key(tap) in [0, keys) as (offset(tap), value) pairs on
/// the stack (a counting sort, O(capacity), sequential); returns the key starts (keys + 1), the offsets and the values.
std::array<Value, 3> weightsByKey(ConvGen &g, int64_t keys,
                                  const std::function<Value(Tap &)> &key,
                                  const std::function<Value(Tap &)> &offset) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  Value start = g.scratch(keys + 1, b.getIndexType());
  Value cursor = g.scratch(keys, b.getIndexType());
  Value offsets = g.scratch(cap, b.getI32Type()), weights = g.scratch(cap);
  kb.forLoop(kb.idx(0), kb.idx(keys + 1), 1, [&](Value k) { kb.store(kb.idx(0), start, k); });
  kb.forLoop(kb.idx(0), kb.idx(sp.O), 1, [&](Value o) {
    g.forEachWeightOfFilter(o, [&](Tap &t) {
      Value next = kb.add(key(t), kb.idx(1));
      kb.store(kb.add(kb.load(start, next), kb.idx(1)), start, next);
    });
  });
  kb.forLoop(kb.idx(0), kb.idx(keys), 1, [&](Value k) {
    Value next = kb.add(k, kb.idx(1));
    kb.store(kb.add(kb.load(start, next), kb.load(start, k)), start, next);
    kb.store(kb.load(start, k), cursor, k);
  });
  kb.forLoop(kb.idx(0), kb.idx(sp.O), 1, [&](Value o) {
    g.forEachWeightOfFilter(o, [&](Tap &t) {
      Value k = key(t);
      Value at = kb.load(cursor, k);
      kb.store(kb.add(at, kb.idx(1)), cursor, k);
      kb.store(b.create<arith::IndexCastOp>(g.loc, b.getI32Type(), offset(t)), offsets, at);
      kb.store(kb.load(g.values, t.v), weights, at);
    });
  });
  return {start, offsets, weights};
}

/// Backward-data as the forward conv of the padded output gradient with the
/// taps flipped, output-stationary per input channel. The weights are read by
/// input channel, so each call first lists them that way (weightsByKey): per
/// channel c, the weights' values and their offsets o * plane + (KH-1-r) * Wp
/// + (KW-1-s) in the padded gradient (usePaddedKernels bounds the lists).
void emitPaddedBackwardData(ConvGen &g, Value dout, Value din, Value addend) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedBackwardData();
  auto [start, offsets, weights] = weightsByKey(
      g, sp.C, [&](Tap &t) { return t.c; },
      [&](Tap &t) {
        return kb.add(kb.mul(t.o, kb.idx(p.plane)),
                      kb.add(kb.mul(kb.sub(kb.idx(sp.KH - 1), t.r), kb.idx(p.Wp)),
                             kb.sub(kb.idx(sp.KW - 1), t.s)));
      });
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(p.size), flat = g.scratch(p.vecs * sp.vectorWidth);
    g.fillPadded(p, dout, n, buf);
    kb.forLoop(kb.idx(0), kb.idx(sp.C), 1, [&](Value c) {
      Value lo = kb.load(start, c), hi = kb.load(start, kb.add(c, kb.idx(1)));
      g.paddedPlanes(p, buf, flat, {g.splat(kb.f32(0.0), sp.vectorWidth)},
                     [&](ValueRange acc, const ConvGen::Accumulate &add,
                           const ConvGen::AccumulateTaps &) {
                       ValueRange r = kb.forLoop(lo, hi, 1, acc, [&](Value e, ValueRange a) {
                         return add({kb.load(weights, e)}, kb.loadIndex(offsets, e), a);
                       });
                       return ConvGen::Carried(r.begin(), r.end());
                     });
      g.storeValid(p, flat, din, n, c, addend);
    });
  });
}

/// Whether the stride-2 phase backward-data covers every input row and column.
bool phasesCoverInput(const ConvKernelSpec &sp) {
  if (sp.SH != 2 || sp.SW != 2) return false;
  const int64_t rows = sp.OH + (sp.KH + 1) / 2 - 1, cols = sp.OW + (sp.KW + 1) / 2 - 1;
  return (sp.H - 1 + sp.PH) / 2 < rows && (sp.W - 1 + sp.PW) / 2 < cols;
}

/// Stride-2 backward-data on phases (see ConvGen::paddedBackwardDataPhases):
/// per image and input channel, the four phase planes are computed
/// output-stationary like the stride-1 case, then interleaved into the
/// gradient's rows: even and odd lanes come from the two column phases.
void emitPaddedBackwardDataStrided(ConvGen &g, Value dout, Value din, Value addend) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded q = g.paddedBackwardDataPhases();
  const int64_t kr = (sp.KH + 1) / 2, ks = (sp.KW + 1) / 2, vw = sp.vectorWidth;
  const int64_t planeFloats = q.vecs * vw;
  auto [start, offsets, weights] = weightsByKey(
      g, sp.C * 4,
      [&](Tap &t) {
        return kb.add(kb.mul(t.c, kb.idx(4)),
                      kb.add(kb.mul(kb.rem(t.r, kb.idx(2)), kb.idx(2)), kb.rem(t.s, kb.idx(2))));
      },
      [&](Tap &t) {
        return kb.add(kb.mul(t.o, kb.idx(q.plane)),
                      kb.add(kb.mul(kb.sub(kb.idx(kr - 1), kb.div(t.r, kb.idx(2))), kb.idx(q.Wp)),
                             kb.sub(kb.idx(ks - 1), kb.div(t.s, kb.idx(2)))));
      });
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(q.size), flat = g.scratch(4 * planeFloats);
    g.fillPadded(q, dout, n, buf);
    kb.forLoop(kb.idx(0), kb.idx(sp.C), 1, [&](Value c) {
      for (int64_t phase = 0; phase < 4; ++phase) {
        Value key = kb.add(kb.mul(c, kb.idx(4)), kb.idx(phase));
        Value lo = kb.load(start, key), hi = kb.load(start, kb.add(key, kb.idx(1)));
        Value plane = b.create<memref::SubViewOp>(g.loc, flat, ArrayRef<int64_t>{phase * planeFloats},
                                                  ArrayRef<int64_t>{planeFloats},
                                                  ArrayRef<int64_t>{1});
        g.paddedPlanes(q, buf, plane, {g.splat(kb.f32(0.0), vw)},
                       [&](ValueRange acc, const ConvGen::Accumulate &add,
                           const ConvGen::AccumulateTaps &) {
                         ValueRange r = kb.forLoop(lo, hi, 1, acc, [&](Value e, ValueRange a) {
                           return add({kb.load(weights, e)}, kb.loadIndex(offsets, e), a);
                         });
                         return ConvGen::Carried(r.begin(), r.end());
                       });
      }
      // Rows of row phase i: iy = 2a + i - PH.
      for (int64_t i = 0; i < 2; ++i) {
        const int64_t a0 = std::max<int64_t>(0, (sp.PH - i + 1) / 2);
        const int64_t a1 = (sp.H - 1 + sp.PH - i) >= 0 ? (sp.H - 1 + sp.PH - i) / 2 + 1 : 0;
        kb.forLoop(kb.idx(a0), kb.idx(std::max(a0, a1)), 1, [&](Value a) {
          Value iy = kb.add(kb.mul(a, kb.idx(2)), kb.idx(i - sp.PH));
          Value row = kb.mul(a, kb.idx(q.Wp));
          // Lane l of ix0..: X = ix0 + PW + l, column phase (X % 2), b = X / 2.
          // With ix0 even, lanes alternate between phase j0 = PW % 2 (from
          // b0 = (ix0 + PW) / 2) and phase 1 - j0 (from b0 + j0).
          const int64_t j0 = sp.PW % 2;
          g.rowLoop(kb.idx(0), kb.idx(sp.W), [&](Value ix, int64_t w) {
            Value b0 = kb.add(row, kb.div(kb.add(ix, kb.idx(sp.PW)), kb.idx(2)));
            auto phaseAt = [&](int64_t j, Value at) {
              return kb.add(at, kb.idx((i * 2 + j) * planeFloats));
            };
            if (w == 1) {
              // ix may be odd here: its own phase and column.
              Value X = kb.add(ix, kb.idx(sp.PW));
              Value j = kb.rem(X, kb.idx(2));
              Value at = kb.add(kb.add(row, kb.div(X, kb.idx(2))),
                                kb.mul(kb.add(kb.mul(kb.idx(i), kb.idx(2)), j), kb.idx(planeFloats)));
              kb.store(g.plus(kb.load(flat, at), addend, {n, c, iy, ix}, 1), din,
                       {n, c, iy, ix});
              return;
            }
            Value u = g.loadVec(flat, {phaseAt(j0, b0)}, w / 2);
            Value v = g.loadVec(flat, {phaseAt(1 - j0, kb.add(b0, kb.idx(j0)))}, w / 2);
            SmallVector<int64_t> lanes;
            for (int64_t l = 0; l < w / 2; ++l) lanes.append({l, w / 2 + l});
            Value out = b.create<vector::ShuffleOp>(g.loc, u, v, lanes);
            g.storeVec(g.plus(out, addend, {n, c, iy, ix}, w), din, {n, c, iy, ix}, w);
          });
        });
      }
    });
  });
}

} // namespace

bool mest::codegen::usePaddedBackwardDataKernels(const ConvKernelSpec &spec) {
  return usePaddedBackwardData(spec) || (usePaddedKernels(spec) && phasesCoverInput(spec));
}

func::FuncOp mest::codegen::buildConvForward(OpBuilder &b, Location loc,
                                             const ConvKernelSpec &spec, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  ConvGen g(b, loc, spec);
  KernelBuilder &kb = g.kb;
  SmallVector<Type> args = {g.stateType(), g.inType(), g.outType()};
  if (spec.outputStats) args.push_back(MemRefType::get({spec.N, spec.O, 2}, b.getF32Type()));
  func::FuncOp func = g.begin(name, args);
  Value in = func.getArgument(1), out = func.getArgument(2);
  assert((!spec.outputStats || usePaddedKernels(spec)) && "statistics need the padded forward");
  if (usePaddedKernels(spec)) {
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
  auto [oyI0, oyI1] = interior(spec.SH, spec.PH, spec.KH, spec.H, spec.OH);
  auto [oxI0, oxI1] = interior(spec.SW, spec.PW, spec.KW, spec.W, spec.OW);
  // Measured on ResNet-32 at 80-90% (docs/performance.md): output-stationary
  // wins where taps are decoded at run time (unstructured, block), a filter has
  // many weights to stream into its registers (>= 24 at capacity) and rows are
  // short (<= 16) at stride 1 (e.g. 64x64 on 8x8: 2.5 -> 1.8 ms). With
  // compile-time taps (pattern, channel, dense), few weights, long or strided
  // rows, the weight-stationary per-tap streams are faster, so there the
  // interior is empty and every weight takes the clipped path.
  const int64_t weightsPerFilter = spec.layout.capacityValues / spec.O;
  const bool outputStationary =
      spec.forwardOrder == "output" ||
      (spec.forwardOrder == "auto" &&
       (spec.scheme == Scheme::Unstructured || spec.scheme == Scheme::Block) && spec.SW == 1 &&
       spec.SH == 1 && weightsPerFilter >= 24 && spec.OW <= 16);
  if (!outputStationary) oyI0 = oyI1 = oxI0 = oxI1 = 0;
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
      auto [oy0, oy1] = g.validRange(t.r, spec.SH, spec.PH, spec.H, spec.OH);
      auto [ox0, ox1] = g.validRange(t.s, spec.SW, spec.PW, spec.W, spec.OW);
      auto update = [&](Value ylo, Value yhi, Value xlo, Value xhi) {
        kb.forLoop(ylo, kb.max(ylo, yhi), 1, [&](Value oy) {
          Value iy = kb.add(kb.sub(kb.mul(oy, kb.idx(spec.SH)), kb.idx(spec.PH)), t.r);
          g.rowLoop(xlo, kb.max(xlo, xhi), [&](Value ox, int64_t w) {
            Value ix = kb.add(kb.sub(kb.mul(ox, kb.idx(spec.SW)), kb.idx(spec.PW)), t.s);
            Value acc = g.loadVec(out, {n, o, oy, ox}, w);
            Value x = g.loadStrided(in, {n, t.c, iy, ix}, w, spec.SW);
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
            Value x = mask ? g.loadVec(in, {n, t.c, iy, ix}, w, mask)
                           : g.loadStrided(in, {n, t.c, iy, ix}, w, spec.SW);
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
  assert((!spec.addToInputGrad || usePaddedBackwardDataKernels(spec)) &&
         "the fused gradient sum needs the padded backward-data");
  if (usePaddedBackwardData(spec)) {
    emitPaddedBackwardData(g, dout, din, addend);
    g.end();
    return func;
  }
  if (usePaddedKernels(spec) && phasesCoverInput(spec)) {
    emitPaddedBackwardDataStrided(g, dout, din, addend);
    g.end();
    return func;
  }
  kb.parallelLoop(kb.idx(0), kb.idx(spec.N), [&](Value n) {
    kb.forLoop(kb.idx(0), kb.idx(spec.C), 1, [&](Value c) {
      kb.forLoop(kb.idx(0), kb.idx(spec.H), 1, [&](Value y) {
        g.rowLoop(kb.idx(0), kb.idx(spec.W), [&](Value x, int64_t w) {
          g.storeVec(g.splat(kb.f32(0.0), w), din, {n, c, y, x}, w);
        });
      });
    });
    kb.forLoop(kb.idx(0), kb.idx(spec.O), 1, [&](Value o) {
      g.forEachWeightOfFilter(o, [&](Tap &t) {
        Value wv = kb.load(g.values, t.v);
        auto [oy0, oy1] = g.validRange(t.r, spec.SH, spec.PH, spec.H, spec.OH);
        auto [ox0, ox1] = g.validRange(t.s, spec.SW, spec.PW, spec.W, spec.OW);
        kb.forLoop(oy0, oy1, 1, [&](Value oy) {
          Value iy = kb.add(kb.sub(kb.mul(oy, kb.idx(spec.SH)), kb.idx(spec.PH)), t.r);
          g.rowLoop(ox0, ox1, [&](Value ox, int64_t w) {
            Value ix = kb.add(kb.sub(kb.mul(ox, kb.idx(spec.SW)), kb.idx(spec.PW)), t.s);
            Value d = g.loadVec(dout, {n, o, oy, ox}, w);
            g.addStrided(din, {n, t.c, iy, ix}, wv, d, w, spec.SW);
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
  Value o = taps[0]->o, c = taps[0]->c;
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
  const ConvKernelSpec &sp = g.spec();
  auto [oy0, oy1] = g.validRange(t.r, sp.SH, sp.PH, sp.H, sp.OH);
  auto [ox0, ox1] = g.validRange(t.s, sp.SW, sp.PW, sp.W, sp.OW);
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
    auto [oy0, oy1] = ys[t];
    auto [ox0, ox1] = xs[t];
    s = accumulateRect(g, in, dout, one, oy0, kb.min(oy1, y0), ox0, ox1, s);  // above
    s = accumulateRect(g, in, dout, one, kb.max(oy0, y1), oy1, ox0, ox1, s);  // below
    s = accumulateRect(g, in, dout, one, y0, y1, ox0, kb.min(ox1, x0), s);    // left
    s = accumulateRect(g, in, dout, one, y0, y1, kb.max(ox0, x1), ox1, s);    // right
    grads.push_back(reduceSums(g, s[0], s[1]));
  }
  return grads;
}

/// grads[v] = g; then SGD: d = g + wd * w; m = mu * m + d; w -= lr * m.
void sgdAt(ConvGen &g, Value values, Value grads, Value mom, Value v, Value grad, Value lr,
           Value mu, Value wd) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  Location l = g.loc;
  kb.store(grad, grads, v);
  Value w = kb.load(values, v);
  Value d = b.create<math::FmaOp>(l, wd, w, grad);
  Value m = b.create<math::FmaOp>(l, mu, kb.load(mom, v), d);
  kb.store(m, mom, v);
  kb.store(b.create<arith::SubFOp>(l, w, b.create<arith::MulFOp>(l, lr, m)), values, v);
}

/// Backward-weight on padded inputs: the gradient of weight (c, r, s) of
/// filter o is the dot product of the output gradient plane, on the flattened
/// grid with zeros in the junk columns, with the input's phase plane at
/// tapOffset(c, r, s). The work units (filters; block: groups of filters;
/// channel: active channels) are split into one chunk per thread, in the
/// regrouping's order where there is one (libomp's static chunks, which the
/// regrouping balanced). Each thread copies every image's padded input once
/// and, per (filter, unit), keeps chunks of the output gradient in registers
/// while each weight dots them with its input ranges. Small planes take B
/// images per pass so a pass fills the registers; when one pass covers the
/// plane the dot product is reduced straight into the gradient, else through
/// per-weight vector partial sums (per-thread scratch). SGD follows per unit,
/// by the thread that owns it.
void emitPaddedBackwardWeight(ConvGen &g, Value in, Value dout, Value lr, Value mu, Value wd) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedForward();
  const int64_t vw = sp.vectorWidth, kk = sp.KH * sp.KW;
  const bool channel = sp.scheme == Scheme::Channel;
  const int64_t rows = sp.scheme == Scheme::Block ? sp.blockRows : 1;
  const int64_t maxWeights =
      channel ? kk : std::min(sp.C * kk, std::max<int64_t>(sp.layout.capacityValues, 1));
  // Output-gradient vectors held in registers: all but a load and four sums.
  const int64_t R = vw >= 16 ? 24 : 10;
  int64_t B = std::max<int64_t>(1, R / p.vecs);
  while (sp.N % B) --B;
  const int64_t chunkVecs = std::min(p.vecs, R), full = p.vecs / chunkVecs;
  const int64_t rest = p.vecs % chunkVecs;
  const bool onePass = full + (rest ? 1 : 0) == 1;
  const int64_t gradPlanes = B * p.vecs * vw;  // one filter's output gradients
  auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
  Value units = channel ? kb.loadIndex(g.header, kb.idx(0)) : kb.idx(sp.O / rows);
  Value threads = callRuntime(b, g.loc, module, "mest_rt_parallel_chunks", {}, b.getI64Type());
  threads = b.create<arith::IndexCastOp>(g.loc, b.getIndexType(), threads);
  threads = kb.max(kb.idx(1), kb.min(threads, units));
  Value per = b.create<arith::CeilDivSIOp>(g.loc, units, threads);
  // The (filter, weights) items of units [u0, u1).
  using Weights = std::function<ConvGen::Carried(ValueRange, const ConvGen::TapFn &)>;
  auto forEachItem = [&](Value u0, Value u1, const std::function<void(Value, const Weights &)> &fn) {
    kb.forLoop(u0, u1, 1, [&](Value i) {
      if (channel) {
        kb.forLoop(kb.idx(0), kb.idx(sp.O), 1, [&](Value o) {
          fn(o, [&](ValueRange init, const ConvGen::TapFn &tap) {
            return g.forEachWeightOfChannelSlot(i, o, init, tap);
          });
        });
        return;
      }
      Value unit = sp.scheme == Scheme::Dense ? i : kb.loadIndex(g.order, i);
      for (int64_t r = 0; r < rows; ++r) {
        Value o = kb.add(kb.mul(unit, kb.idx(rows)), kb.idx(r));
        fn(o, [&, o](ValueRange init, const ConvGen::TapFn &tap) {
          return g.forEachWeightOfFilter(o, init, tap);
        });
      }
    });
  };
  auto eachWeight = [&](const Weights &weights, const std::function<void(Tap &)> &fn) {
    weights({}, [&](Tap &w, ValueRange) {
      fn(w);
      return ConvGen::Carried{};
    });
  };
  kb.parallelLoop(kb.idx(0), threads, [&](Value t) {
    Value u0 = kb.mul(t, per), u1 = kb.min(units, kb.add(u0, per));
    Value buf = g.scratch(B * p.size);
    // Channel: every filter's output gradients, copied once per image batch.
    Value grad = g.scratch((channel ? sp.O : 1) * gradPlanes);
    Value partial = onePass ? Value() : g.scratch(maxWeights * vw);
    auto image = [&](Value mem, int64_t i, int64_t size) -> Value {
      return b.create<memref::SubViewOp>(g.loc, mem, ArrayRef<int64_t>{i * size},
                                         ArrayRef<int64_t>{size}, ArrayRef<int64_t>{1});
    };
    // Filter o's output gradients of images n0.. on the flattened grid at `at`.
    auto copyGrad = [&](Value n0, Value o, Value at) {
      for (int64_t i = 0; i < B; ++i)
        g.loadFlat(p, dout, kb.add(n0, kb.idx(i)), o, grad, kb.add(at, kb.idx(i * p.vecs * vw)));
    };
    Value zeroVec = g.splat(kb.f32(0.0), vw);
    forEachItem(u0, u1, [&](Value, const Weights &weights) {
      eachWeight(weights, [&](Tap &w) { kb.store(kb.f32(0.0), g.grads, w.v); });
    });
    kb.forLoop(kb.idx(0), kb.idx(sp.N), B, [&](Value n0) {
      for (int64_t i = 0; i < B; ++i)
        g.fillPadded(p, in, kb.add(n0, kb.idx(i)), image(buf, i, p.size));
      if (channel)
        kb.forLoop(kb.idx(0), kb.idx(sp.O), 1,
                   [&](Value o) { copyGrad(n0, o, kb.mul(o, kb.idx(gradPlanes))); });
      forEachItem(u0, u1, [&](Value o, const Weights &weights) {
        Value gradAt = channel ? kb.mul(o, kb.idx(gradPlanes)) : kb.idx(0);
        if (!channel) copyGrad(n0, o, gradAt);
        // Dots `count` vectors from `at` of each of the B images with every weight.
        auto pass = [&](Value at, int64_t count, bool first) {
          SmallVector<Value> d;
          Value from = kb.add(gradAt, at);
          for (int64_t i = 0; i < B; ++i)
            for (int64_t j = 0; j < count; ++j)
              d.push_back(g.loadVec(grad, {kb.add(from, kb.idx(i * p.vecs * vw + j * vw))}, vw));
          weights({kb.idx(0)}, [&](Tap &w, ValueRange k) {
            Value base = kb.add(g.tapOffset(p, w.c, w.r, w.s), at);
            // Four independent chains: an FMA's latency is four times its
            // issue interval, so one chain would run at a quarter of the rate.
            Value sum[4] = {zeroVec, zeroVec, zeroVec, zeroVec};
            for (int64_t i = 0; i < B; ++i)
              for (int64_t j = 0; j < count; ++j) {
                Value x = g.loadVec(buf, {kb.add(base, kb.idx(i * p.size + j * vw))}, vw);
                int64_t chain = (i * count + j) % 4;
                sum[chain] = g.fma(d[i * count + j], x, sum[chain]);
              }
            Value total = b.create<arith::AddFOp>(
                g.loc, b.create<arith::AddFOp>(g.loc, sum[0], sum[1]),
                b.create<arith::AddFOp>(g.loc, sum[2], sum[3]));
            if (onePass) {
              kb.store(b.create<vector::ReductionOp>(g.loc, vector::CombiningKind::ADD, total,
                                                     kb.load(g.grads, w.v)),
                       g.grads, w.v);
            } else {
              Value slot = kb.mul(k[0], kb.idx(vw));
              if (!first)
                total = b.create<arith::AddFOp>(g.loc, total, g.loadVec(partial, {slot}, vw));
              g.storeVec(total, partial, {slot}, vw);
            }
            return ConvGen::Carried{kb.add(k[0], kb.idx(1))};
          });
        };
        if (full > 0) {
          pass(kb.idx(0), chunkVecs, true);
          kb.forLoop(kb.idx(chunkVecs * vw), kb.idx(full * chunkVecs * vw), chunkVecs * vw,
                     [&](Value at) { pass(at, chunkVecs, false); });
        }
        if (rest) pass(kb.idx(full * chunkVecs * vw), rest, full == 0);
        if (onePass) return;
        weights({kb.idx(0)}, [&](Tap &w, ValueRange k) {
          Value sum = b.create<vector::ReductionOp>(
              g.loc, vector::CombiningKind::ADD,
              g.loadVec(partial, {kb.mul(k[0], kb.idx(vw))}, vw), kb.load(g.grads, w.v));
          kb.store(sum, g.grads, w.v);
          return ConvGen::Carried{kb.add(k[0], kb.idx(1))};
        });
      });
    });
    forEachItem(u0, u1, [&](Value, const Weights &weights) {
      eachWeight(weights, [&](Tap &w) {
        sgdAt(g, g.values, g.grads, g.momentum, w.v, kb.load(g.grads, w.v), lr, mu, wd);
      });
    });
  });
}

/// Block-scheme backward-weight: as emitPaddedBackwardWeight, but a group's
/// filters share their columns, so each input load of a column feeds the dot
/// products of all of the group's weights on it. The per-weight vector sums
/// live across all images in per-thread scratch indexed by the weight (bounded
/// by paddedScratchBytes) and are reduced once, at the end.
void emitPaddedBackwardWeightBlock(ConvGen &g, Value in, Value dout, Value lr, Value mu,
                                   Value wd) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedForward();
  const int64_t vw = sp.vectorWidth, M = sp.blockRows, planeFloats = p.vecs * vw;
  // M gradient vectors per column load, M sums and the load in registers.
  const int64_t R = std::min(p.vecs, std::max<int64_t>(1, (vw >= 16 ? 24 : 12) / M - 1));
  const int64_t full = p.vecs / R, rest = p.vecs % R;
  auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
  Value units = kb.idx(sp.O / M);
  Value threads = callRuntime(b, g.loc, module, "mest_rt_parallel_chunks", {}, b.getI64Type());
  threads = b.create<arith::IndexCastOp>(g.loc, b.getIndexType(), threads);
  threads = kb.max(kb.idx(1), kb.min(threads, units));
  Value per = b.create<arith::CeilDivSIOp>(g.loc, units, threads);
  auto valueIndex = [&](Value slot, int64_t i) {
    return kb.add(kb.mul(slot, kb.idx(M)), kb.idx(i));
  };
  kb.parallelLoop(kb.idx(0), threads, [&](Value t) {
    Value u0 = kb.mul(t, per), u1 = kb.min(units, kb.add(u0, per));
    Value buf = g.scratch(p.size), grad = g.scratch(M * planeFloats);
    Value partial = g.scratch(std::max<int64_t>(sp.layout.capacityValues, 1) * vw);
    Value zeroVec = g.splat(kb.f32(0.0), vw);
    // Slots of the groups in this thread's chunk.
    auto forEachSlot = [&](const std::function<void(Value, Value)> &fn) {
      kb.forLoop(u0, u1, 1, [&](Value i) {
        Value unit = kb.loadIndex(g.order, i);
        kb.forLoop(kb.loadIndex(g.groupPtr, unit),
                   kb.loadIndex(g.groupPtr, kb.add(unit, kb.idx(1))), 1,
                   [&](Value slot) { fn(unit, slot); });
      });
    };
    forEachSlot([&](Value, Value slot) {
      for (int64_t i = 0; i < M; ++i)
        g.storeVec(zeroVec, partial, {kb.mul(valueIndex(slot, i), kb.idx(vw))}, vw);
    });
    kb.forLoop(kb.idx(0), kb.idx(sp.N), 1, [&](Value n) {
      g.fillPadded(p, in, n, buf);
      kb.forLoop(u0, u1, 1, [&](Value i) {
        Value unit = kb.loadIndex(g.order, i);
        // The group's output gradients on the flattened grid.
        for (int64_t f = 0; f < M; ++f)
          g.loadFlat(p, dout, n, kb.add(kb.mul(unit, kb.idx(M)), kb.idx(f)), grad,
                     kb.idx(f * planeFloats));
        auto pass = [&](Value at, int64_t count) {
          SmallVector<Value> d;
          for (int64_t f = 0; f < M; ++f)
            for (int64_t j = 0; j < count; ++j)
              d.push_back(g.loadVec(grad, {kb.add(at, kb.idx(f * planeFloats + j * vw))}, vw));
          kb.forLoop(kb.loadIndex(g.groupPtr, unit),
                     kb.loadIndex(g.groupPtr, kb.add(unit, kb.idx(1))), 1, [&](Value slot) {
                       Tap w;
                       g.decodeColumn(kb.loadIndex(g.index, slot), w);
                       Value base = kb.add(g.tapOffset(p, w.c, w.r, w.s), at);
                       SmallVector<Value> sum(M, zeroVec);
                       for (int64_t j = 0; j < count; ++j) {
                         Value x = g.loadVec(buf, {kb.add(base, kb.idx(j * vw))}, vw);
                         for (int64_t f = 0; f < M; ++f)
                           sum[f] = g.fma(d[f * count + j], x, sum[f]);
                       }
                       for (int64_t f = 0; f < M; ++f) {
                         Value at = kb.mul(valueIndex(slot, f), kb.idx(vw));
                         g.storeVec(b.create<arith::AddFOp>(g.loc, sum[f],
                                                            g.loadVec(partial, {at}, vw)),
                                    partial, {at}, vw);
                       }
                     });
        };
        kb.forLoop(kb.idx(0), kb.idx(full * R * vw), R * vw, [&](Value at) { pass(at, R); });
        if (rest) pass(kb.idx(full * R * vw), rest);
      });
    });
    forEachSlot([&](Value, Value slot) {
      for (int64_t i = 0; i < M; ++i) {
        Value v = valueIndex(slot, i);
        Value grad = b.create<vector::ReductionOp>(
            g.loc, vector::CombiningKind::ADD, g.loadVec(partial, {kb.mul(v, kb.idx(vw))}, vw));
        sgdAt(g, g.values, g.grads, g.momentum, v, grad, lr, mu, wd);
      }
    });
  });
}

} // namespace


func::FuncOp mest::codegen::buildConvBackwardWeight(OpBuilder &b, Location loc,
                                                    const ConvKernelSpec &spec,
                                                    StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  ConvGen g(b, loc, spec);
  KernelBuilder &kb = g.kb;
  Type f32 = b.getF32Type();
  func::FuncOp func =
      g.begin(name, {g.stateType(), g.inType(), g.outType(), f32, f32, f32});
  Value in = func.getArgument(1), dout = func.getArgument(2);
  Value lr = func.getArgument(3), mu = func.getArgument(4), wd = func.getArgument(5);
  auto update = [&](Tap &t) {
    Value grad = weightGradient(g, in, dout, t);
    sgdAt(g, g.values, g.grads, g.momentum, t.v, grad, lr, mu, wd);
  };
  if (usePaddedKernels(spec) && spec.scheme == Scheme::Block)
    emitPaddedBackwardWeightBlock(g, in, dout, lr, mu, wd);
  else if (usePaddedKernels(spec))
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
