//===- ConvGen.h - the builder the conv kernel generators share ----------===//
//
// Internal to codegen/. ConvGen binds a layer's state views and offers loops,
// vector helpers, the weight iteration of each scheme and the padded-grid
// helpers that ConvKernels.cpp (entry points, direct kernels) and
// PaddedKernels.cpp (kernels on zero-bordered copies) build on.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_CONVGEN_H
#define MEST_CODEGEN_CONVGEN_H

#include "codegen/ConvKernels.h"
#include "codegen/KernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <functional>
#include <map>

namespace mest::codegen::conv {

using namespace mlir;
using rt::Scheme;

/// A weight as the kernels see it: its position (channel c of filter o's
/// weights, the input channel ic it reads) and its index v in the packed values
/// (and gradients and momentum). ic is c unless the convolution is grouped.
struct Tap {
  Value o, c, r, s, v;
  int64_t staticR = -1, staticS = -1;  // >= 0 when known at compile time
  Value ic = Value();
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
    kernel = func;
    return func;
  }
  void end() {
    b.create<func::ReturnOp>(loc);
    kernel->setAttr("mest.scratch_bytes_used", b.getI64IntegerAttr(scratchBytesUsed));
  }

  Type f32() { return b.getF32Type(); }
  /// The layer's own block of the state (its base is the caller's business, so
  /// layers of equal shape, scheme, storage and configuration share kernels).
  MemRefType stateType() { return MemRefType::get({sp.layout.total}, b.getI8Type()); }
  /// The activations' buffers: f32 unless the spec says a compact type.
  MemRefType inType() {
    return MemRefType::get({sp.N, sp.inChannels(), sp.H, sp.W}, sp.inElem ? sp.inElem : f32());
  }
  MemRefType outType() {
    return MemRefType::get({sp.N, sp.O, sp.OH, sp.OW}, sp.outElem ? sp.outElem : f32());
  }

  void bindState(Value state) {
    const rt::ConvStateLayout &l = sp.layout;
    auto view = [&](int64_t off, int64_t count, Type t) {
      return off < 0 ? Value() : kb.stateView(state, off, count, t);
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

  /// The input channel that channel c of filter o's weights reads.
  Value inputChannel(Value o, Value c) {
    if (sp.groups == 1) return c;
    return kb.add(kb.mul(kb.div(o, kb.idx(sp.O / sp.groups)), kb.idx(sp.C)), c);
  }

  /// Calls fn for every active weight of filter `o`, in storage order, threading
  /// `init` through it (fn returns the next values); returns the final values.
  /// Carried values stay in SSA registers across the scheme's loops.
  Carried forEachWeightOfFilter(Value o, ValueRange init, const TapFn &userFn) {
    const int64_t kk = sp.KH * sp.KW;
    const TapFn fn = [&](Tap &t, ValueRange acc) {
      t.ic = inputChannel(o, t.c);
      return userFn(t, acc);
    };
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
    case Scheme::Pattern:
      // Kernels of a filter are sorted by pattern: one loop per pattern, each with
      // its 4 taps as constants, so the body is straight-line code.
      return forEachPatternKernel(o, init, [&](Value slot, Value c, int64_t p, ValueRange acc) {
        Carried next(acc.begin(), acc.end());
        for (int64_t t = 0; t < 4; ++t) {
          int64_t tap = sp.taps[p * 4 + t];
          Tap w{o, c, kb.idx(tap / 3), kb.idx(tap % 3),
                kb.add(kb.mul(slot, kb.idx(4)), kb.idx(t)), tap / 3, tap % 3};
          next = fn(w, next);
        }
        return next;
      });
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
        Tap t{o, c, kb.idx(r), kb.idx(s), Value(), r, s, c};
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

  /// The output positions [y0, y1) x [x0, x1) where tap t lands inside the input.
  struct Rect {
    Value y0, y1, x0, x1;
  };
  Rect validRect(const Tap &t) {
    auto y = validRange(t.r, sp.SH, sp.PH, sp.H, sp.OH);
    auto x = validRange(t.s, sp.SW, sp.PW, sp.W, sp.OW);
    return {y.first, y.second, x.first, x.second};
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
    return kb.loadFloats(mem, at, w, mask);
  }
  void storeVec(Value v, Value mem, ValueRange at, int64_t w, Value mask = Value()) {
    kb.storeFloats(v, mem, at, w, mask);
  }
  /// w elements at stride `stride` from `at` (last index), as one contiguous
  /// load of the span and a shuffle: stride-2 rows stay vectorised.
  Value loadStrided(Value mem, SmallVector<Value> at, int64_t w, int64_t stride) {
    if (w == 1 || stride == 1) return loadVec(mem, at, w);
    const int64_t span = (w - 1) * stride + 1;
    Value v = b.create<vector::LoadOp>(loc, VectorType::get({span}, kb.elementOf(mem)), mem, at);
    SmallVector<int64_t> pick;
    for (int64_t i = 0; i < w; ++i) pick.push_back(i * stride);
    return kb.widen(b.create<vector::ShuffleOp>(loc, v, v, pick));
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
    Value cur = kb.loadFloats(mem, at, span);
    Value aw = b.create<vector::BroadcastOp>(loc, st, a);
    kb.storeFloats(fma(aw, wide, cur), mem, at, span);
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
    return paddedGeometry(sp, channels, H, W, PH, PW, SH, SW, KH, KW);
  }
  /// The one definition of a padded buffer's geometry (paddedScratchBytes
  /// sizes the stack from it too).
  static Padded paddedGeometry(const ConvKernelSpec &sp, int64_t channels, int64_t H, int64_t W,
                               int64_t PH, int64_t PW, int64_t SH, int64_t SW, int64_t KH = 0,
                               int64_t KW = 0) {
    KH = KH ? KH : sp.KH;
    KW = KW ? KW : sp.KW;
    Padded p{channels, H, W, PH, PW, SH, SW, (H + 2 * PH - KH) / SH + 1,
             (W + 2 * PW - KW) / SW + 1, 0, 0, 0, 0, 0, 0};
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
    Type e = type.getElementType();
    scratchBytesUsed += count * (e.isIndex() ? 8 : std::max<int64_t>(1, e.getIntOrFloatBitWidth() / 8));
    return b.create<memref::AllocaOp>(loc, type, b.getI64IntegerAttr(64));
  }
  /// Stack bytes per thread the scratch() buffers of this kernel take: checked
  /// against the configuration's scratch_bytes (the formula
  /// paddedScratchBytes), so the two cannot disagree in silence.
  int64_t scratchBytesUsed = 0;
  func::FuncOp kernel;  // the function begin() made
  /// affine[C, 2] of ConvKernelSpec::inputAffineRelu (null without it).
  Value inputAffine;
  /// mem[at, at + count) = 0.
  void zeroRange(Value mem, Value at, int64_t count) {
    if (count <= 0) return;
    rowLoop(at, kb.add(at, kb.idx(count)), [&](Value x, int64_t w) {
      storeVec(splat(kb.f32(0.0), w), mem, {x}, w);
    });
  }
  /// buf = image n of src [N, channels, H, W], zero-bordered by (PH, PW) and
  /// split into phase planes, with zeros after the last plane. Which rows and
  /// columns of a phase plane hold data is known at compile time. With
  /// `affine` ([channels, 2]), the data is relu(fma(src, scale, shift)) (the
  /// border stays zero: it pads the ReLU's output).
  void fillPadded(const Padded &p, Value src, Value n, Value buf, Value affine = {}) {
    auto valid = [](int64_t phase, int64_t stride, int64_t pad, int64_t size, int64_t outer) {
      // Phase positions a with 0 <= a * stride + phase - pad < size.
      int64_t lo = std::max<int64_t>(0, (pad - phase + stride - 1) / stride);
      int64_t hi = size - 1 + pad - phase >= 0 ? (size - 1 + pad - phase) / stride + 1 : 0;
      hi = std::min(hi, outer);
      return std::pair<int64_t, int64_t>{std::min(lo, hi), hi};
    };
    kb.forLoop(kb.idx(0), kb.idx(p.channels), 1, [&](Value c) {
      Value scale = affine ? kb.load(affine, {c, kb.idx(0)}) : Value();
      Value shift = affine ? kb.load(affine, {c, kb.idx(1)}) : Value();
      auto prologue = [&](Value v, int64_t w) -> Value {
        if (!affine) return v;
        Value y = b.create<math::FmaOp>(loc, v, splat(scale, w), splat(shift, w));
        return b.create<arith::MaximumFOp>(loc, y, splat(kb.f32(0.0), w));
      };
      for (int64_t i = 0; i < p.SH; ++i)
        for (int64_t j = 0; j < p.SW; ++j) {
          Value base = kb.mul(kb.add(kb.mul(c, kb.idx(p.SH * p.SW)), kb.idx(i * p.SW + j)),
                              kb.idx(p.plane));
          const auto aValid = valid(i, p.SH, p.PH, p.H, p.Hp);
          const auto a0 = aValid.first;
          const auto a1 = aValid.second;
          const auto bValid = valid(j, p.SW, p.PW, p.W, p.Wp);
          const auto b0 = bValid.first;
          const auto b1 = bValid.second;
          zeroRange(buf, base, a0 * p.Wp);
          kb.forLoop(kb.idx(a0), kb.idx(a1), 1, [&](Value a) {
            Value row = kb.add(base, kb.mul(a, kb.idx(p.Wp)));
            Value iy = kb.add(kb.mul(a, kb.idx(p.SH)), kb.idx(i - p.PH));
            zeroRange(buf, row, b0);
            rowLoop(kb.idx(b0), kb.idx(b1), [&](Value bx, int64_t w) {
              Value ix = kb.add(kb.mul(bx, kb.idx(p.SW)), kb.idx(j - p.PW));
              storeVec(prologue(loadStrided(src, {n, c, iy, ix}, w, p.SW), w), buf,
                       {kb.add(row, bx)}, w);
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
        // The statistics of what the output buffer holds (rounded when compact).
        Value v = kb.roundTrip(loadVec(flat, {at}, vw, mask), sp.outElem);
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
  /// Several weights of one channel at once, for every plane (values[i * T +
  /// t]: plane i's weight on tap t): `base` (a multiple of vw) plus T static
  /// tap offsets. Their input vectors come from shared aligned loads
  /// and shuffles instead of one unaligned load each (PatDNN's reuse of a
  /// kernel row's input across its taps).
  using AccumulateTaps = std::function<Carried(ValueRange values, Value base,
                                               ArrayRef<int64_t> offsets, ValueRange acc)>;
  using WeightStream =
      std::function<Carried(ValueRange acc, const Accumulate &add, const AccumulateTaps &taps)>;
  /// The tile is M = inits.size() planes x `vectors` vectors (fewer when the
  /// plane has fewer).
  void paddedPlanes(const Padded &p, Value buf, Value flat, ArrayRef<Value> inits,
                    int64_t vectors, const WeightStream &weights) {
    const int64_t vw = sp.vectorWidth, M = static_cast<int64_t>(inits.size());
    const int64_t R = std::min(p.vecs, vectors);
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
        // values[i * T + t]: plane i's weight on tap t of the T offsets; one
        // aligned load and shuffle of an input vector feeds all M planes.
        const int64_t T = static_cast<int64_t>(offsets.size());
        assert(static_cast<int64_t>(values.size()) == M * T && "a weight per plane and tap");
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
            for (int64_t i = 0; i < M; ++i)
              next[i * count + j] = fma(wv[i * T + t], x, next[i * count + j]);
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

/// grads[v] = g; then, when the kernel fuses the update, SGD:
/// d = g + wd * w; m = mu * m + d; w -= lr * m.
inline void sgdAt(ConvGen &g, Value values, Value grads, Value mom, Value v, Value grad, Value lr,
           Value mu, Value wd) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  Location l = g.loc;
  kb.store(grad, grads, v);
  if (!g.spec().fuseUpdate) return;
  Value w = kb.load(values, v);
  Value d = b.create<math::FmaOp>(l, wd, w, grad);
  Value m = b.create<math::FmaOp>(l, mu, kb.load(mom, v), d);
  kb.store(m, mom, v);
  kb.store(b.create<arith::SubFOp>(l, w, b.create<arith::MulFOp>(l, lr, m)), values, v);
}

} // namespace mest::codegen::conv

#endif // MEST_CODEGEN_CONVGEN_H
