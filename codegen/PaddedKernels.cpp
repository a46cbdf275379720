//===- PaddedKernels.cpp - conv kernels on zero-bordered copies -----------===//
//
// The input (forward, backward-weight) or output gradient (backward-data) of
// an image is copied once into a zero-bordered per-thread stack buffer; stride
// 2 splits each channel into 2x2 phase planes. Output planes are computed on
// the flattened grid of the padded pitch, where every tap of a weight is one
// contiguous range: output-stationary register chunks, no clipping, no border
// code (ConvGen::Padded). docs/pipeline.md describes each direction.
//
//===----------------------------------------------------------------------===//
#include "codegen/PaddedKernels.h"

#include "codegen/RuntimeCalls.h"

using namespace mest::codegen;

int64_t mest::codegen::backwardWeightBatch(const ConvKernelSpec &sp) {
  const conv::ConvGen::Padded p =
      conv::ConvGen::paddedGeometry(sp, sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.SW);
  const int64_t images = sp.N / sp.config.imageGroups;
  // The tile's filters share the gradient registers.
  const int64_t perFilter = sp.config.gradientRegisters / sp.config.weightTileFilters;
  int64_t B = std::max<int64_t>(1, perFilter / p.vecs);
  while (images % B) --B;
  return B;
}

/// The stack each emit* function below takes per thread, buffer by buffer
/// (the weight lists and the unstructured offset table are on the calling
/// thread's stack, the padded copies and planes on every thread's), the largest
/// over the three directions. The emitters count what they allocate and
/// mest-lower-kernels refuses a kernel that takes more than this.
int64_t mest::codegen::paddedScratchBytes(const ConvKernelSpec &sp) {
  using conv::ConvGen;
  const int64_t vw = sp.vectorWidth, kk = sp.KH * sp.KW;
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  const bool block = sp.scheme == rt::Scheme::Block, channel = sp.scheme == rt::Scheme::Channel;
  const int64_t M = block ? sp.blockRows : 1;  // backward-weight's filters per group
  const int64_t offsetTable = sp.scheme == rt::Scheme::Unstructured ? 4 * cap : 0;  // int32
  const ConvGen::Padded p =
      ConvGen::paddedGeometry(sp, sp.C, sp.H, sp.W, sp.PH, sp.PW, sp.SH, sp.SW);
  const int64_t planeFloats = p.vecs * vw;
  // Forward: the padded image and the tile's output planes.
  int64_t bytes = offsetTable + 4 * (p.size + sp.config.tileFilters * planeFloats);
  // Backward-weight: B padded images, the output-gradient planes, partial
  // sums; over image groups also the groups' partial gradients (on the calling
  // thread's stack, counted as if per thread).
  const int64_t groupSums = sp.config.imageGroups > 1 ? 4 * sp.config.imageGroups * cap : 0;
  if (block) {
    bytes = std::max(bytes, groupSums + 4 * (p.size + M * planeFloats + cap * vw));
  } else {
    const int64_t T = sp.config.weightTileFilters;  // filters per tile
    const int64_t R = sp.config.gradientRegisters / T, B = backwardWeightBatch(sp);
    const int64_t chunkVecs = std::min(p.vecs, R);
    const bool onePass = p.vecs / chunkVecs + (p.vecs % chunkVecs ? 1 : 0) == 1;
    const int64_t maxWeights = channel ? kk : std::min(sp.C * kk, cap);
    bytes = std::max(bytes, groupSums + offsetTable +
                                4 * (B * p.size + (channel ? sp.O : T) * B * planeFloats +
                                     (onePass ? 0 : T * maxWeights * vw)));
  }
  // Backward-data: the weights listed by key (start and cursor are index
  // arrays, 8 bytes), the padded output gradient and its planes.
  auto lists = [&](int64_t keys) { return 8 * (2 * keys + 1) + 8 * cap; };
  if (sp.SH == 1 && sp.SW == 1 && sp.KH - 1 >= sp.PH && sp.KW - 1 >= sp.PW) {
    const ConvGen::Padded q = ConvGen::paddedGeometry(sp, sp.O, sp.OH, sp.OW, sp.KH - 1 - sp.PH,
                                                      sp.KW - 1 - sp.PW, 1, 1);
    if (backwardDataOnTaps(sp))  // no lists: the tile's planes
      bytes = std::max(bytes, 4 * (q.size + sp.config.dataTileChannels * q.vecs * vw));
    else
      bytes = std::max(bytes, lists(sp.C) + 4 * (q.size + q.vecs * vw));
  } else if (paddedBackwardDataApplies(sp)) {
    const int64_t kr = (sp.KH + 1) / 2, ks = (sp.KW + 1) / 2;
    const ConvGen::Padded q =
        ConvGen::paddedGeometry(sp, sp.O, sp.OH, sp.OW, kr - 1, ks - 1, 1, 1, kr, ks);
    bytes = std::max(bytes, lists(4 * sp.C) + 4 * (q.size + 4 * q.vecs * vw));
  }
  return bytes;
}

namespace mest::codegen::conv {

/// The active weights listed by key(tap) in [0, keys) as (offset(tap), value) pairs on
/// the stack (a counting sort, O(capacity), sequential); returns the key starts (keys + 1), the offsets and the values.
static std::array<Value, 3> weightsByKey(ConvGen &g, int64_t keys,
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

/// Unstructured layers: every active weight's input offset (tapOffset of its
/// decoded column), indexed like the values, computed once per call instead
/// of once per chunk, pass and image.
static Value unstructuredOffsets(ConvGen &g, const ConvGen::Padded &p) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  Value table = g.scratch(std::max<int64_t>(sp.layout.capacityValues, 1), g.b.getI32Type());
  kb.forLoop(kb.idx(0), kb.idx(sp.O), 1, [&](Value o) {
    g.forEachWeightOfFilter(o, [&](Tap &w) {
      Value offset = g.tapOffset(p, w.c, w.r, w.s);
      kb.store(g.b.create<arith::IndexCastOp>(g.loc, g.b.getI32Type(), offset), table, w.v);
    });
  });
  return table;
}

/// Output-stationary forward on the padded input (see ConvGen::Padded): per
/// image, the input is copied once into a zero-bordered per-thread buffer; per
/// filter, every active weight streams into the flattened output plane.
void emitPaddedForward(ConvGen &g, Value in, Value out, Value stats) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedForward();
  // The register tile (mest-configure-kernels): M filters whose weights sit
  // on the same input positions (block: a group's rows, which share their
  // columns; dense and channel: consecutive filters) are computed at once, so
  // every input load feeds all M filters.
  const int64_t M = sp.config.tileFilters;
  const int64_t planeFloats = p.vecs * sp.vectorWidth;
  Value offsets =
      sp.scheme == Scheme::Unstructured ? unstructuredOffsets(g, p) : Value();
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(p.size), flat = g.scratch(M * planeFloats);
    g.fillPadded(p, in, n, buf, g.inputAffine);
    kb.forLoop(kb.idx(0), kb.idx(sp.O / M), 1, [&](Value unit) {
      Value o0 = kb.mul(unit, kb.idx(M));
      SmallVector<Value> inits;
      for (int64_t i = 0; i < M; ++i)
        inits.push_back(g.splat(g.bias ? kb.load(g.bias, kb.add(o0, kb.idx(i))) : kb.f32(0.0),
                                sp.vectorWidth));
      g.paddedPlanes(p, buf, flat, inits, sp.config.tileVectors,
                     [&](ValueRange acc, const ConvGen::Accumulate &add,
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
        // Dense and channel: all KH x KW taps of a channel at once, for the
        // tile's M filters, whose weights of the channel start `first` and
        // lie `filterStride` apart.
        const int64_t kk = sp.KH * sp.KW;
        auto channelTaps = [&](Value c, Value first, int64_t filterStride, ValueRange a) {
          // A row of taps at a time: few enough live values to stay in registers.
          ConvGen::Carried cur(a.begin(), a.end());
          for (int64_t r = 0; r < sp.KH; ++r) {
            SmallVector<Value> values;
            SmallVector<int64_t> offsets;
            for (int64_t i = 0; i < M; ++i)
              for (int64_t s = 0; s < sp.KW; ++s)
                values.push_back(
                    kb.load(g.values, kb.add(first, kb.idx(i * filterStride + r * sp.KW + s))));
            for (int64_t s = 0; s < sp.KW; ++s)
              offsets.push_back(((r % p.SH) * p.SW + s % p.SW) * p.plane + (r / p.SH) * p.Wp +
                                s / p.SW);
            cur = addTaps(values, kb.mul(c, kb.idx(p.SH * p.SW * p.plane)), offsets, cur);
          }
          return cur;
        };
        if (sp.scheme == Scheme::Dense) {
          ValueRange r = kb.forLoop(kb.idx(0), kb.idx(sp.C), 1, acc, [&](Value c, ValueRange a) {
            Value first = kb.mul(kb.add(kb.mul(o0, kb.idx(sp.C)), c), kb.idx(kk));
            return channelTaps(c, first, sp.C * kk, a);
          });
          return ConvGen::Carried(r.begin(), r.end());
        }
        if (sp.scheme == Scheme::Channel) {
          ValueRange r = kb.forLoop(
              kb.idx(0), kb.loadIndex(g.header, kb.idx(0)), 1, acc, [&](Value slot, ValueRange a) {
                Value first = kb.add(kb.mul(slot, kb.idx(sp.O * kk)), kb.mul(o0, kb.idx(kk)));
                return channelTaps(kb.loadIndex(g.index, slot), first, kk, a);
              });
          return ConvGen::Carried(r.begin(), r.end());
        }
        if (M == 1)
          return g.forEachWeightOfFilter(o0, acc, [&](Tap &t, ValueRange a) {
            return add({kb.load(g.values, t.v)},
                       offsets ? kb.loadIndex(offsets, t.v) : g.tapOffset(p, t.c, t.r, t.s),
                       a);
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


/// Backward-data as the forward conv of the padded output gradient with the
/// taps flipped, output-stationary per input channel. The weights are read by
/// input channel, so each call first lists them that way (weightsByKey): per
/// channel c, the weights' values and their offsets o * plane + (KH-1-r) * Wp
/// + (KW-1-s) in the padded gradient (paddedScratchBytes bounds the lists).
void emitPaddedBackwardData(ConvGen &g, Value dout, Value din, Value addend) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  if (backwardDataOnTaps(sp)) return emitPaddedBackwardDataOnTaps(g, dout, din, addend);
  const ConvGen::Padded p = g.paddedBackwardData();
  const auto byKey = weightsByKey(
      g, sp.C, [&](Tap &t) { return t.c; },
      [&](Tap &t) {
        return kb.add(kb.mul(t.o, kb.idx(p.plane)),
                      kb.add(kb.mul(kb.sub(kb.idx(sp.KH - 1), t.r), kb.idx(p.Wp)),
                             kb.sub(kb.idx(sp.KW - 1), t.s)));
      });
  Value start = byKey[0];
  Value offsets = byKey[1];
  Value weights = byKey[2];
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(p.size), flat = g.scratch(p.vecs * sp.vectorWidth);
    g.fillPadded(p, dout, n, buf);
    kb.forLoop(kb.idx(0), kb.idx(sp.C), 1, [&](Value c) {
      Value lo = kb.load(start, c), hi = kb.load(start, kb.add(c, kb.idx(1)));
      g.paddedPlanes(p, buf, flat, {g.splat(kb.f32(0.0), sp.vectorWidth)},
                     sp.config.dataTileVectors,
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

/// Stride-1 backward-data of dense and channel layers on register tiles of
/// `data_tile_channels` input channels (dense: consecutive channels; channel:
/// consecutive active slots, each holding every filter's taps): per image the
/// output gradient is copied once, zero-bordered; per tile, every filter's
/// kernel rows stream into the tile's planes, the taps of a row sharing
/// aligned loads and shuffles (ConvGen::paddedPlanes), each load feeding all
/// of the tile's channels. No weight lists: the taps are compile-time. A
/// channel layer's inactive channels get zero (or the addend) first, so an
/// addend that is the gradient itself stays right.
void emitPaddedBackwardDataOnTaps(ConvGen &g, Value dout, Value din, Value addend) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedBackwardData();
  const int64_t M = sp.config.dataTileChannels, kk = sp.KH * sp.KW;
  const int64_t planeFloats = p.vecs * sp.vectorWidth;
  const bool channel = sp.scheme == Scheme::Channel;
  kb.parallelLoop(kb.idx(0), kb.idx(sp.N), [&](Value n) {
    Value buf = g.scratch(p.size), flat = g.scratch(M * planeFloats);
    g.fillPadded(p, dout, n, buf);
    auto plane = [&](int64_t i) {
      return b.create<memref::SubViewOp>(g.loc, flat, ArrayRef<int64_t>{i * planeFloats},
                                         ArrayRef<int64_t>{planeFloats}, ArrayRef<int64_t>{1});
    };
    if (channel) {
      g.zeroRange(flat, kb.idx(0), planeFloats);
      kb.forLoop(kb.idx(0), kb.idx(sp.C), 1,
                 [&](Value c) { g.storeValid(p, plane(0), din, n, c, addend); });
    }
    // Units u0 .. u0 + m - 1 (channels, or slots of active channels).
    auto tile = [&](Value u0, int64_t m) {
      SmallVector<Value> inits(m, g.splat(kb.f32(0.0), sp.vectorWidth));
      // Tap (r, s) of filter o on unit u: its weight's index.
      auto weight = [&](Value o, Value u, int64_t r, int64_t s) {
        Value at = channel ? kb.add(kb.mul(u, kb.idx(sp.O * kk)), kb.mul(o, kb.idx(kk)))
                           : kb.mul(kb.add(kb.mul(o, kb.idx(sp.C)), u), kb.idx(kk));
        return kb.load(g.values, kb.add(at, kb.idx(r * sp.KW + s)));
      };
      g.paddedPlanes(p, buf, flat, inits, sp.config.dataTileVectors,
                     [&](ValueRange acc, const ConvGen::Accumulate &,
                         const ConvGen::AccumulateTaps &addTaps) {
        ValueRange r = kb.forLoop(kb.idx(0), kb.idx(sp.O), 1, acc, [&](Value o, ValueRange a) {
          ConvGen::Carried cur(a.begin(), a.end());
          // Row q of the flipped kernel is row KH-1-q of the weights.
          for (int64_t q = 0; q < sp.KH; ++q) {
            SmallVector<Value> values;
            SmallVector<int64_t> offsets;
            for (int64_t i = 0; i < m; ++i)
              for (int64_t t = 0; t < sp.KW; ++t)
                values.push_back(weight(o, kb.add(u0, kb.idx(i)), sp.KH - 1 - q, sp.KW - 1 - t));
            for (int64_t t = 0; t < sp.KW; ++t) offsets.push_back(q * p.Wp + t);
            cur = addTaps(values, kb.mul(o, kb.idx(p.plane)), offsets, cur);
          }
          return cur;
        });
        return ConvGen::Carried(r.begin(), r.end());
      });
      for (int64_t i = 0; i < m; ++i) {
        Value u = kb.add(u0, kb.idx(i));
        g.storeValid(p, plane(i), din, n, channel ? kb.loadIndex(g.index, u) : u, addend);
      }
    };
    Value units = channel ? kb.loadIndex(g.header, kb.idx(0)) : kb.idx(sp.C);
    Value whole = kb.mul(kb.floorDiv(units, M), kb.idx(M));
    kb.forLoop(kb.idx(0), whole, M, [&](Value u0) { tile(u0, M); });
    if (M > 1) kb.forLoop(whole, units, 1, [&](Value u) { tile(u, 1); });
  });
}

/// Whether the stride-2 phase backward-data covers every input row and column.
static bool phasesCoverInput(const ConvKernelSpec &sp) {
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
  const auto byKey = weightsByKey(
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
  Value start = byKey[0];
  Value offsets = byKey[1];
  Value weights = byKey[2];
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
        g.paddedPlanes(q, buf, plane, {g.splat(kb.f32(0.0), vw)}, sp.config.dataTileVectors,
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

/// The tasks of a padded backward-weight: image groups (config.imageGroups)
/// x `chunks` chunks of `per` work units each, so that every thread has a task
/// (libomp's static chunks: the regrouping balanced the units' order). Returns
/// {chunks, per}; task t is group t % G, chunk t / G.
static std::pair<Value, Value> unitChunks(ConvGen &g, Value units) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  auto module = b.getBlock()->getParentOp()->getParentOfType<ModuleOp>();
  Value threads = callRuntime(b, g.loc, module, "mest_rt_parallel_chunks", {}, b.getI64Type());
  threads = b.create<arith::IndexCastOp>(g.loc, b.getIndexType(), threads);
  Value perGroup =
      b.create<arith::CeilDivSIOp>(g.loc, threads, kb.idx(g.spec().config.imageGroups));
  Value chunks = kb.max(kb.idx(1), kb.min(perGroup, units));
  return {chunks, b.create<arith::CeilDivSIOp>(g.loc, units, chunks)};
}

/// After a backward-weight over image groups: each active weight's gradient is
/// the sum of its G groups' partial sums (sums[g * capacity + v]), followed by
/// its SGD step; O(G x capacity) on the calling thread, so no further
/// parallel region.
static void reduceGroupsAndUpdate(
    ConvGen &g, Value sums,
    const std::function<void(const std::function<void(Tap &)> &)> &forEachWeight, Value lr,
    Value mu, Value wd) {
  KernelBuilder &kb = g.kb;
  const ConvKernelSpec &sp = g.spec();
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  forEachWeight([&](Tap &w) {
    Value total = kb.load(sums, w.v);
    for (int64_t i = 1; i < sp.config.imageGroups; ++i)
      total = g.b.create<arith::AddFOp>(g.loc, total,
                                        kb.load(sums, kb.add(w.v, kb.idx(i * cap))));
    sgdAt(g, g.values, g.grads, g.momentum, w.v, total, lr, mu, wd);
  });
}

/// Backward-weight on padded inputs: the gradient of weight (c, r, s) of
/// filter o is the dot product of the output gradient plane, on the flattened
/// grid with zeros in the junk columns, with the input's phase plane at
/// tapOffset(c, r, s). The work units (filters; channel: active channels) are
/// split into one chunk per thread, in the regrouping's order where there is
/// one (libomp's static chunks, which the regrouping balanced). Each thread
/// copies every image's padded input once and, per tile of M =
/// `weight_tile_filters` filters (dense: consecutive filters; channel: of a
/// slot; others: one), keeps chunks of the tile's output gradients in
/// registers while each weight position dots them with its input ranges: one
/// input load feeds the M filters. Small planes take B images per pass so a
/// pass fills the registers; when one pass covers the plane the dot products
/// are reduced straight into the gradients, else through per-weight vector
/// partial sums (per-thread scratch). SGD follows per unit, by the thread that
/// owns it.
void emitPaddedBackwardWeight(ConvGen &g, Value in, Value dout, Value lr, Value mu, Value wd) {
  KernelBuilder &kb = g.kb;
  OpBuilder &b = g.b;
  const ConvKernelSpec &sp = g.spec();
  const ConvGen::Padded p = g.paddedForward();
  const int64_t vw = sp.vectorWidth, kk = sp.KH * sp.KW;
  const bool channel = sp.scheme == Scheme::Channel;
  const int64_t M = sp.config.weightTileFilters;
  // A tile's filters' weights of one position lie `filterStride` apart.
  const int64_t filterStride = channel ? kk : sp.C * kk;
  const int64_t maxWeights =
      channel ? kk : std::min(sp.C * kk, std::max<int64_t>(sp.layout.capacityValues, 1));
  // Output-gradient vectors held in registers, shared by the tile's filters.
  const int64_t R = sp.config.gradientRegisters / M, B = backwardWeightBatch(sp);
  const int64_t G = sp.config.imageGroups, groupImages = sp.N / G;
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  const int64_t chunkVecs = std::min(p.vecs, R), full = p.vecs / chunkVecs;
  const int64_t rest = p.vecs % chunkVecs;
  const bool onePass = full + (rest ? 1 : 0) == 1;
  const int64_t gradPlanes = B * p.vecs * vw;  // one filter's output gradients
  // Four independent FMA chains per position (an FMA's latency is four times
  // its issue interval): the tile's filters, each with 4 / M chains.
  const int64_t chains = std::max<int64_t>(1, 4 / M);
  Value units = channel ? kb.loadIndex(g.header, kb.idx(0)) : kb.idx(sp.O / M);
  // Each task sums into its image group's partial gradients (G = 1: straight
  // into the gradients).
  Value chunks, per;
  std::tie(chunks, per) = unitChunks(g, units);
  Value sums = G > 1 ? g.scratch(G * cap) : g.grads;
  // Filter f of the tile: its weight at the first filter's w, and the slot of
  // its partial sums at the k-th weight position.
  auto valueOf = [&](const Tap &w, int64_t f) { return kb.add(w.v, kb.idx(f * filterStride)); };
  auto partialSlot = [&](Value k, int64_t f) {
    return kb.mul(kb.add(kb.mul(k, kb.idx(M)), kb.idx(f)), kb.idx(vw));
  };
  // The (first filter, its weights) of every tile of units [u0, u1).
  using Weights = std::function<ConvGen::Carried(ValueRange, const ConvGen::TapFn &)>;
  auto forEachTile = [&](Value u0, Value u1, const std::function<void(Value, const Weights &)> &fn) {
    kb.forLoop(u0, u1, 1, [&](Value i) {
      if (channel) {
        kb.forLoop(kb.idx(0), kb.idx(sp.O), M, [&](Value o) {
          fn(o, [&](ValueRange init, const ConvGen::TapFn &tap) {
            return g.forEachWeightOfChannelSlot(i, o, init, tap);
          });
        });
        return;
      }
      Value o = sp.scheme == Scheme::Dense ? kb.mul(i, kb.idx(M)) : kb.loadIndex(g.order, i);
      fn(o, [&, o](ValueRange init, const ConvGen::TapFn &tap) {
        return g.forEachWeightOfFilter(o, init, tap);
      });
    });
  };
  // fn(value index) for every weight of the tiles of units [u0, u1).
  auto forEachWeight = [&](Value u0, Value u1, const std::function<void(Value)> &fn) {
    forEachTile(u0, u1, [&](Value, const Weights &weights) {
      weights({}, [&](Tap &w, ValueRange) {
        for (int64_t f = 0; f < M; ++f) fn(valueOf(w, f));
        return ConvGen::Carried{};
      });
    });
  };
  Value colOffset =
      sp.scheme == Scheme::Unstructured ? unstructuredOffsets(g, p) : Value();
  kb.parallelLoop(kb.idx(0), kb.mul(kb.idx(G), chunks), [&](Value t) {
    Value group = kb.rem(t, kb.idx(G));
    Value u0 = kb.mul(kb.div(t, kb.idx(G)), per), u1 = kb.min(units, kb.add(u0, per));
    Value sumBase = kb.mul(group, kb.idx(cap));
    auto sumAt = [&](Value v) { return G > 1 ? kb.add(sumBase, v) : v; };
    Value buf = g.scratch(B * p.size);
    // Channel: every filter's output gradients, copied once per image batch;
    // else the tile's.
    Value grad = g.scratch((channel ? sp.O : M) * gradPlanes);
    Value partial = onePass ? Value() : g.scratch(M * maxWeights * vw);
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
    forEachWeight(u0, u1, [&](Value v) { kb.store(kb.f32(0.0), sums, sumAt(v)); });
    Value firstImage = kb.mul(group, kb.idx(groupImages));
    kb.forLoop(firstImage, kb.add(firstImage, kb.idx(groupImages)), B, [&](Value n0) {
      for (int64_t i = 0; i < B; ++i)
        g.fillPadded(p, in, kb.add(n0, kb.idx(i)), image(buf, i, p.size), g.inputAffine);
      if (channel)
        kb.forLoop(kb.idx(0), kb.idx(sp.O), 1,
                   [&](Value o) { copyGrad(n0, o, kb.mul(o, kb.idx(gradPlanes))); });
      forEachTile(u0, u1, [&](Value o0, const Weights &weights) {
        Value gradAt = channel ? kb.mul(o0, kb.idx(gradPlanes)) : kb.idx(0);
        if (!channel)
          for (int64_t f = 0; f < M; ++f)
            copyGrad(n0, kb.add(o0, kb.idx(f)), kb.idx(f * gradPlanes));
        // Dots `count` vectors from `at` of each of the B images of the
        // tile's filters with every weight position.
        auto pass = [&](Value at, int64_t count, bool first) {
          SmallVector<Value> d;  // [filter][image][vector]
          Value from = kb.add(gradAt, at);
          for (int64_t f = 0; f < M; ++f)
            for (int64_t i = 0; i < B; ++i)
              for (int64_t j = 0; j < count; ++j)
                d.push_back(g.loadVec(
                    grad, {kb.add(from, kb.idx(f * gradPlanes + i * p.vecs * vw + j * vw))}, vw));
          weights({kb.idx(0)}, [&](Tap &w, ValueRange k) {
            Value base = kb.add(colOffset ? kb.loadIndex(colOffset, w.v)
                                          : g.tapOffset(p, w.c, w.r, w.s),
                                at);
            SmallVector<Value> sum(M * chains, zeroVec);
            for (int64_t i = 0; i < B; ++i)
              for (int64_t j = 0; j < count; ++j) {
                Value x = g.loadVec(buf, {kb.add(base, kb.idx(i * p.size + j * vw))}, vw);
                const int64_t chain = (i * count + j) % chains;
                for (int64_t f = 0; f < M; ++f)
                  sum[f * chains + chain] =
                      g.fma(d[(f * B + i) * count + j], x, sum[f * chains + chain]);
              }
            for (int64_t f = 0; f < M; ++f) {
              Value total = sum[f * chains];
              for (int64_t c = 1; c < chains; ++c)
                total = b.create<arith::AddFOp>(g.loc, total, sum[f * chains + c]);
              Value v = sumAt(valueOf(w, f));
              if (onePass) {
                kb.store(b.create<vector::ReductionOp>(g.loc, vector::CombiningKind::ADD, total,
                                                       kb.load(sums, v)),
                         sums, v);
              } else {
                Value slot = partialSlot(k[0], f);
                if (!first)
                  total = b.create<arith::AddFOp>(g.loc, total, g.loadVec(partial, {slot}, vw));
                g.storeVec(total, partial, {slot}, vw);
              }
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
          for (int64_t f = 0; f < M; ++f) {
            Value v = sumAt(valueOf(w, f));
            Value slot = partialSlot(k[0], f);
            kb.store(b.create<vector::ReductionOp>(g.loc, vector::CombiningKind::ADD,
                                                   g.loadVec(partial, {slot}, vw),
                                                   kb.load(sums, v)),
                     sums, v);
          }
          return ConvGen::Carried{kb.add(k[0], kb.idx(1))};
        });
      });
    });
    if (G > 1) return;
    forEachWeight(u0, u1, [&](Value v) {
      sgdAt(g, g.values, g.grads, g.momentum, v, kb.load(g.grads, v), lr, mu, wd);
    });
  });
  if (G > 1) reduceGroupsAndUpdate(g, sums, [&](const std::function<void(Tap &)> &fn) {
    forEachWeight(kb.idx(0), units, [&](Value v) {
      Tap w;
      w.v = v;
      fn(w);
    });
  }, lr, mu, wd);
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
  const int64_t R = std::min(p.vecs, std::max<int64_t>(1, sp.config.registers / M - 1));
  const int64_t full = p.vecs / R, rest = p.vecs % R;
  const int64_t G = sp.config.imageGroups, groupImages = sp.N / G;
  const int64_t cap = std::max<int64_t>(sp.layout.capacityValues, 1);
  Value units = kb.idx(sp.O / M);
  Value chunks, per;
  std::tie(chunks, per) = unitChunks(g, units);
  Value sums = G > 1 ? g.scratch(G * cap) : Value();
  auto valueIndex = [&](Value slot, int64_t i) {
    return kb.add(kb.mul(slot, kb.idx(M)), kb.idx(i));
  };
  // Slots of the groups of filters at order positions [u0, u1).
  auto forEachSlotOf = [&](Value u0, Value u1, const std::function<void(Value, Value)> &fn) {
    kb.forLoop(u0, u1, 1, [&](Value i) {
      Value unit = kb.loadIndex(g.order, i);
      kb.forLoop(kb.loadIndex(g.groupPtr, unit),
                 kb.loadIndex(g.groupPtr, kb.add(unit, kb.idx(1))), 1,
                 [&](Value slot) { fn(unit, slot); });
    });
  };
  kb.parallelLoop(kb.idx(0), kb.mul(kb.idx(G), chunks), [&](Value t) {
    Value group = kb.rem(t, kb.idx(G));
    Value u0 = kb.mul(kb.div(t, kb.idx(G)), per), u1 = kb.min(units, kb.add(u0, per));
    Value buf = g.scratch(p.size), grad = g.scratch(M * planeFloats);
    Value partial = g.scratch(cap * vw);
    Value zeroVec = g.splat(kb.f32(0.0), vw);
    forEachSlotOf(u0, u1, [&](Value, Value slot) {
      for (int64_t i = 0; i < M; ++i)
        g.storeVec(zeroVec, partial, {kb.mul(valueIndex(slot, i), kb.idx(vw))}, vw);
    });
    Value firstImage = kb.mul(group, kb.idx(groupImages));
    kb.forLoop(firstImage, kb.add(firstImage, kb.idx(groupImages)), 1, [&](Value n) {
      g.fillPadded(p, in, n, buf, g.inputAffine);
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
    forEachSlotOf(u0, u1, [&](Value, Value slot) {
      for (int64_t i = 0; i < M; ++i) {
        Value v = valueIndex(slot, i);
        Value grad = b.create<vector::ReductionOp>(
            g.loc, vector::CombiningKind::ADD, g.loadVec(partial, {kb.mul(v, kb.idx(vw))}, vw));
        if (G > 1)
          kb.store(grad, sums, kb.add(kb.mul(group, kb.idx(cap)), v));
        else
          sgdAt(g, g.values, g.grads, g.momentum, v, grad, lr, mu, wd);
      }
    });
  });
  if (G > 1) reduceGroupsAndUpdate(g, sums, [&](const std::function<void(Tap &)> &fn) {
    forEachSlotOf(kb.idx(0), units, [&](Value, Value slot) {
      for (int64_t i = 0; i < M; ++i) {
        Tap w;
        w.v = valueIndex(slot, i);
        fn(w);
      }
    });
  }, lr, mu, wd);
}

} // namespace mest::codegen::conv

bool mest::codegen::backwardDataOnTaps(const ConvKernelSpec &sp) {
  return sp.SH == 1 && sp.SW == 1 &&
         (sp.scheme == rt::Scheme::Dense || sp.scheme == rt::Scheme::Channel);
}

bool mest::codegen::paddedBackwardDataApplies(const ConvKernelSpec &spec) {
  return (spec.SH == 1 && spec.SW == 1 && spec.KH - 1 >= spec.PH && spec.KW - 1 >= spec.PW) ||
         conv::phasesCoverInput(spec);
}
