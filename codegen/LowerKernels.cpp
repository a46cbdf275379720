//===- LowerKernels.cpp - the mest-lower-kernels pass ---------------------===//
//
// Rewrites the planned step functions (tensor level, one op per layer) into the
// ABI functions of docs/abi.md over the state block and the arena:
//
//   mest_model_train_step(state, arena, x, labels, lr, momentum, weight_decay,
//                         loss, correct, margin)
//   mest_model_eval_step(state, arena, x, labels, loss, correct, margin)
//   (split steps: mest_model_grad_step(state, arena, x, labels, loss, correct,
//   margin), mest_model_update_step(state, lr, momentum, weight_decay), and
//   the train step as the two in sequence)
//   mest_model_after_mutation(state, threads)
//
// Every tensor becomes a view of the arena at its planned offset (or a caller
// buffer for inputs and outputs); every op becomes a call to a kernel
// specialised for it.
//
//===----------------------------------------------------------------------===//
#include "codegen/ConvKernels.h"
#include "codegen/KernelBuilder.h"
#include "codegen/NormKernels.h"
#include "codegen/PoolLossKernels.h"
#include "codegen/RuntimeCalls.h"
#include "passes/LayerCost.h"
#include "passes/Passes.h"
#include "runtime/formats/DropoutStream.h"

#include "dialect/MestDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

namespace mest {
#define GEN_PASS_DEF_MESTLOWERKERNELS
#include "passes/Passes.h.inc"
} // namespace mest

using namespace mlir;
using namespace mest;
using namespace mest::codegen;

namespace {

std::string sanitize(StringRef name) {
  std::string out;
  for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

/// Layer name -> the name its kernels carry: the layer name with every
/// character outside [A-Za-z0-9] as '_', made unique by a suffix where two
/// layers map together (@a.b and @a_b), in model order, so that every layer
/// gets kernels of its own.
llvm::StringMap<std::string> kernelNamesOf(func::FuncOp model) {
  llvm::StringMap<std::string> names;
  llvm::StringSet<> used;
  model.walk([&](LayerOpInterface layer) {
    StringRef name = layer->getAttrOfType<StringAttr>("sym_name").getValue();
    std::string base = sanitize(name), unique = base;
    for (int k = 1; used.contains(unique); ++k) unique = base + "_" + std::to_string(k);
    used.insert(unique);
    names[name] = unique;
  });
  return names;
}

/// Kernels are internal to the object: LLVM may inline them into the steps.
void makeInternal(func::FuncOp f) {
  f.setPrivate();
  f->setAttr("llvm.linkage",
             LLVM::LinkageAttr::get(f.getContext(), LLVM::Linkage::Internal));
}

int64_t attrInt(Operation *op, StringRef name) {
  return op->getAttrOfType<IntegerAttr>(name).getInt();
}

class StepLowering {
public:
  StepLowering(ModuleOp module, func::FuncOp model, func::FuncOp src, int64_t stateBytes,
               bool exportKernels,
               int64_t vectorWidth, llvm::StringMap<func::FuncOp> &kernels,
               llvm::StringMap<func::FuncOp> &kernelsByKey,
               const llvm::StringMap<std::string> &kernelNames)
      : module(module), src(src), b(module.getContext()), kb(b, src.getLoc()),
        stateBytes(stateBytes), exportKernels(exportKernels), vectorWidth(vectorWidth),
        kernels(kernels), kernelsByKey(kernelsByKey), kernelNames(kernelNames) {
    model.walk([&](LayerOpInterface layer) { layers[layer.getLayerName()] = layer; });
    if (auto at = model->getAttrOfType<IntegerAttr>(MestDialect::getDropoutStateOffsetAttrName()))
      dropoutStream = at.getInt();
  }

  LogicalResult run(StringRef name, bool train);

private:
  Type memrefElem(Type t) { return t.isInteger(1) ? b.getI8Type() : t; }
  MemRefType memrefFor(Type tensor) {
    auto t = cast<RankedTensorType>(tensor);
    return MemRefType::get(t.getShape(), memrefElem(t.getElementType()));
  }
  Value mem(Value tensor) { return mems.lookup(tensor); }
  /// The element type of a tensor or memref if it is a compact (16-bit)
  /// storage, else null (f32, or no value).
  static Type compactElem(Value v) {
    return v ? KernelBuilder::compactOrNull(getElementTypeOrSelf(v.getType())) : Type();
  }
  /// [N, C] activations of linear layers seen as [N, C, 1, 1].
  Value as4D(Value m) {
    auto type = cast<MemRefType>(m.getType());
    if (type.getRank() == 4) return m;
    auto t4 = MemRefType::get({type.getDimSize(0), type.getDimSize(1), 1, 1},
                              type.getElementType());
    return b.create<memref::ExpandShapeOp>(loc(), t4, m,
                                           ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
  }
  Value flat(Value m) {
    auto type = cast<MemRefType>(m.getType());
    if (type.getRank() == 1) return m;
    ReassociationIndices all;
    for (int64_t i = 0; i < type.getRank(); ++i) all.push_back(i);
    return b.create<memref::CollapseShapeOp>(loc(), m, ArrayRef<ReassociationIndices>{all});
  }
  Location loc() { return src.getLoc(); }
  Value i64(int64_t v) { return b.create<arith::ConstantIntOp>(loc(), v, 64); }
  Value f64(double v) { return b.create<arith::ConstantOp>(loc(), b.getF64FloatAttr(v)); }
  Value ptr(Value m) { return asPointer(b, loc(), m); }
  void call(StringRef name, ValueRange args) { callRuntime(b, loc(), module, name, args); }

  /// (inElem, outElem: the activation buffers' element types when compact.)
  func::FuncOp convKernel(Operation *layer, StringRef dir, bool bnRelu = false,
                          Type inElem = {}, Type outElem = {});
  void callConvKernel(Operation *layer, StringRef dir, ValueRange args, bool bnRelu = false);
  void exportKernel(Operation *layer, StringRef dir);
  bool scratchOverrun = false;  // a kernel took more stack than its configuration says
  Value activationBody(Activation kind, bool grad, std::pair<double, double> params, Value x,
                       Value dy, int64_t w);
  func::FuncOp flatKernel(StringRef kind, int64_t n, ValueRange operands,
                          std::pair<double, double> bounds = {0.0, 0.0});
  func::FuncOp maskKernel(StringRef kind, int64_t n, ValueRange operands);
  func::FuncOp dropoutKernel(int64_t n, double ratio);
  Value dropoutKey(int64_t index);
  /// The generated kernel for `key` (batch norm, pooling, loss), built once by
  /// `build(name)` and named mest_k_<family>_<k>.
  func::FuncOp generated(const std::string &key, StringRef family,
                         const std::function<func::FuncOp(StringRef)> &build);
  void callGenerated(func::FuncOp f, ValueRange args) {
    b.create<func::CallOp>(loc(), f, args);
  }
  void emitFlatSgd(Value values, Value grads, Value mom, Value n, Value lr, Value mu, Value wd);
  void emitLayerSgd(Operation *layer);
  LogicalResult lowerOp(Operation *op, ArrayRef<Value> results);

  ModuleOp module;
  func::FuncOp src;
  OpBuilder b;
  KernelBuilder kb;
  int64_t stateBytes;
  bool exportKernels;
  int64_t vectorWidth;  // elementwise kernels: the widest of the layers' configurations
  llvm::StringMap<func::FuncOp> &kernels;  // elementwise kernels, by name
  llvm::StringMap<func::FuncOp> &kernelsByKey;  // conv/linear kernels, by kernelKey
  const llvm::StringMap<std::string> &kernelNames;  // kernelNamesOf(model)
  DenseMap<Value, Value> mems;
  llvm::StringMap<Operation *> layers;  // the model's layers, by name
  Value state, arena, lr, mu, wd;
  int64_t dropoutStream = -1;  // the stream's offset in the state block; -1: no dropout
};

/// The kernel of `layer` in direction `dir`, over the layer's block of the
/// state: one per distinct kernelKey, so layers of equal shape, scheme,
/// storage and configuration share it (named after the first of them).
func::FuncOp StepLowering::convKernel(Operation *layer, StringRef dir, bool bnRelu,
                                      Type inElem, Type outElem) {
  ConvKernelSpec spec = layerKernelSpec(layer, stateBytes);
  spec.outputStats = dir == "fwd_stats";
  spec.addToInputGrad = dir == "bwd_data_acc";
  spec.fuseUpdate = dir != "bwd_weight_grad";
  spec.inputAffineRelu = bnRelu;
  spec.inElem = KernelBuilder::compactOrNull(inElem);
  spec.outElem = KernelBuilder::compactOrNull(outElem);
  std::string key = kernelKey(spec, dir);
  if (func::FuncOp f = kernelsByKey.lookup(key)) return f;
  std::string layerName = kernelNames.lookup(layer->getAttrOfType<StringAttr>("sym_name").getValue());
  std::string name = "mest_k_" + layerName + "_" + dir.str() + (bnRelu ? "_bnrelu" : "") +
                     (spec.inElem || spec.outElem ? "_compact" : "");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  func::FuncOp f = dir.starts_with("fwd")        ? buildConvForward(b, loc(), spec, name)
                   : dir.starts_with("bwd_data") ? buildConvBackwardData(b, loc(), spec, name)
                                       : buildConvBackwardWeight(b, loc(), spec, name);
  makeInternal(f);
  // The configuration promised the stack scratch per thread; the emitter
  // counted what it allocated. More than promised is a compiler bug.
  if (auto used = f->getAttrOfType<IntegerAttr>("mest.scratch_bytes_used")) {
    if (used.getInt() > std::max<int64_t>(spec.config.scratchBytes, 0) &&
        (spec.config.paddedForward || spec.config.paddedBackwardData)) {
      layer->emitOpError() << "internal error: kernel " << name << " takes " << used.getInt()
                           << " bytes of stack scratch per thread, its configuration planned "
                           << spec.config.scratchBytes;
      scratchOverrun = true;
    }
    f->removeAttr("mest.scratch_bytes_used");
  }
  kernelsByKey[key] = f;
  return f;
}

/// Calls `layer`'s kernel on its block of the state (a view at its offset).
void StepLowering::callConvKernel(Operation *layer, StringRef dir, ValueRange args,
                                  bool bnRelu) {
  // The activation operands' element types: (in, out) for forward and
  // backward-weight, (dout, din) for backward-data.
  auto elem = [&](int i) { return KernelBuilder::elementOf(args[i]); };
  const bool data = dir.starts_with("bwd_data");
  func::FuncOp f = convKernel(layer, dir, bnRelu, elem(data ? 1 : 0), elem(data ? 0 : 1));
  auto blockType = cast<MemRefType>(f.getArgumentTypes()[0]);
  Value block = kb.stateView(state, attrInt(layer, MestDialect::getStateOffsetAttrName()),
                             blockType.getNumElements(), b.getI8Type());
  SmallVector<Value> all{block};
  all.append(args.begin(), args.end());
  b.create<func::CallOp>(loc(), f, all);
}

/// For tests and benchmarks: mest_kernel_<layer>_<dir>(state, ...), public,
/// taking the whole state block like the ABI functions, calling the layer's
/// (possibly shared) kernel on its block.
void StepLowering::exportKernel(Operation *layer, StringRef dir) {
  func::FuncOp inner = convKernel(layer, dir);
  std::string name = "mest_kernel_" +
                     kernelNames.lookup(layer->getAttrOfType<StringAttr>("sym_name").getValue()) +
                     "_" + dir.str();
  if (module.lookupSymbol(name)) return;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types{MemRefType::get({stateBytes}, b.getI8Type())};
  types.append(inner.getArgumentTypes().begin() + 1, inner.getArgumentTypes().end());
  auto f = b.create<func::FuncOp>(loc(), name, b.getFunctionType(types, {}));
  Block *entry = f.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value saved = state;
  state = entry->getArgument(0);
  callConvKernel(layer, dir, entry->getArguments().drop_front());
  state = saved;
  b.create<func::ReturnOp>(loc());
}

/// Elementwise kernels over flat arrays of n floats, parallel over chunks:
/// relu(in, out), relu_grad(y, dy, dx), clip(in, out) and clip_grad(y, dy, dx)
/// to `bounds` (min, max), the activations of mest.activation (sigmoid,
/// hard_sigmoid, hard_swish, silu: (in, out); their _grad: (saved, dy, dx);
/// the hard kinds' (alpha, beta) in `bounds`), add(a, b, out), copy(in, out);
/// each operand f32 or compact (converted on load and store), as `operands` are.
/// The arithmetic of mest.activation on a vector (or scalar, w = 1) `x`, or
/// of its gradient from `x` = the saved value and `dy` (ActivationGradOp's
/// formulas). exp is math.exp, expanded to a vector polynomial before the
/// conversion to LLVM (buildLowerToLLVMPipeline).
Value StepLowering::activationBody(Activation kind, bool grad, std::pair<double, double> params,
                                   Value x, Value dy, int64_t w) {
  auto c = [&](double v) -> Value {
    Value s = kb.f32(v);
    return w == 1 ? s
                  : b.create<vector::BroadcastOp>(loc(), VectorType::get({w}, b.getF32Type()), s)
                        .getResult();
  };
  auto add = [&](Value p, Value q) { return b.create<arith::AddFOp>(loc(), p, q).getResult(); };
  auto sub = [&](Value p, Value q) { return b.create<arith::SubFOp>(loc(), p, q).getResult(); };
  auto mul = [&](Value p, Value q) { return b.create<arith::MulFOp>(loc(), p, q).getResult(); };
  auto sigmoid = [&](Value v) -> Value {
    Value e = b.create<math::ExpOp>(loc(), b.create<arith::NegFOp>(loc(), v));
    return b.create<arith::DivFOp>(loc(), c(1.0), add(c(1.0), e));
  };
  auto inside = [&](Value v) -> Value {  // 0 < v < 1
    return b.create<arith::AndIOp>(
        loc(), b.create<arith::CmpFOp>(loc(), arith::CmpFPredicate::OGT, v, c(0.0)),
        b.create<arith::CmpFOp>(loc(), arith::CmpFPredicate::OLT, v, c(1.0)));
  };
  const Value alpha = c(params.first), beta = c(params.second);
  auto line = [&](Value v) { return b.create<math::FmaOp>(loc(), alpha, v, beta).getResult(); };
  auto clamp01 = [&](Value v) -> Value {
    return b.create<arith::MinimumFOp>(loc(), b.create<arith::MaximumFOp>(loc(), v, c(0.0)),
                                       c(1.0));
  };
  switch (kind) {
  case Activation::sigmoid:
    return grad ? mul(dy, mul(x, sub(c(1.0), x))) : sigmoid(x);
  case Activation::hard_sigmoid:
    if (!grad) return clamp01(line(x));
    return b.create<arith::SelectOp>(loc(), inside(x), mul(dy, alpha), c(0.0));
  case Activation::hard_swish: {
    Value t = line(x), h = clamp01(t);
    if (!grad) return mul(x, h);
    Value slope = b.create<arith::SelectOp>(loc(), inside(t), mul(alpha, x), c(0.0));
    return mul(dy, add(h, slope));
  }
  case Activation::silu: {
    Value s = sigmoid(x);
    if (!grad) return mul(x, s);
    return mul(dy, mul(s, add(c(1.0), mul(x, sub(c(1.0), s)))));
  }
  }
  llvm_unreachable("an activation kind");
}

func::FuncOp StepLowering::flatKernel(StringRef kind, int64_t n, ValueRange operands,
                                      std::pair<double, double> bounds) {
  const bool clips = kind == "clip" || kind == "clip_grad";
  const bool grad = kind.ends_with("_grad");
  const StringRef activation = grad ? kind.drop_back(5) : kind;
  const std::optional<Activation> act = symbolizeActivation(activation);
  const bool hard = act == Activation::hard_sigmoid || act == Activation::hard_swish;
  std::string name = ("mest_k_" + kind + "_" + Twine(n)).str(), types;
  if (clips || hard) {  // the parameters' f32 bits name the kernel
    float lo = float(bounds.first), hi = float(bounds.second);
    uint32_t l, h;
    std::memcpy(&l, &lo, 4), std::memcpy(&h, &hi, 4);
    name += llvm::formatv("_{0:x8}_{1:x8}", l, h).str();
  }
  SmallVector<Type> args;
  bool compact = false;
  for (Value m : operands) {
    Type elem = KernelBuilder::elementOf(m);
    args.push_back(MemRefType::get({n}, elem));
    compact |= KernelBuilder::isCompact(elem);
    llvm::raw_string_ostream os(types);
    os << '_';
    elem.print(os);
  }
  if (compact) name += types;  // all-f32 kernels keep their plain names
  auto it = kernels.find(name);
  if (it != kernels.end()) return it->second;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  const int64_t arity = static_cast<int64_t>(args.size());
  auto f = b.create<func::FuncOp>(loc(), name, b.getFunctionType(args, {}));
  makeInternal(f);
  b.setInsertionPointToStart(f.addEntryBlock());
  const int64_t chunk = 8192, vw = vectorWidth;
  auto body = [&](Value i, int64_t w) {
    auto vt = VectorType::get({w}, b.getF32Type());
    auto ld = [&](Value m) { return kb.loadFloats(m, i, w); };
    Value zero = w == 1 ? kb.f32(0.0)
                        : b.create<arith::ConstantOp>(loc(), vt, DenseElementsAttr::get(vt, 0.0f))
                              .getResult();
    Value out;
    if (kind == "relu") {
      out = b.create<arith::MaximumFOp>(loc(), ld(f.getArgument(0)), zero);
    } else if (kind == "relu_grad") {
      out = b.create<arith::SelectOp>(loc(), kb.positive(f.getArgument(0), i, w),
                                      ld(f.getArgument(1)), zero);
    } else if (clips) {
      auto splat = [&](double v) -> Value {
        Value c = kb.f32(v);
        return w == 1 ? c : b.create<vector::BroadcastOp>(loc(), vt, c).getResult();
      };
      Value lo = splat(bounds.first), hi = splat(bounds.second), x = ld(f.getArgument(0));
      if (kind == "clip") {
        out = b.create<arith::MinimumFOp>(loc(), b.create<arith::MaximumFOp>(loc(), x, lo), hi);
      } else {
        Value inside = b.create<arith::AndIOp>(
            loc(), b.create<arith::CmpFOp>(loc(), arith::CmpFPredicate::OGT, x, lo),
            b.create<arith::CmpFOp>(loc(), arith::CmpFPredicate::OLT, x, hi));
        out = b.create<arith::SelectOp>(loc(), inside, ld(f.getArgument(1)), zero);
      }
    } else if (act) {
      out = activationBody(*act, grad, bounds, ld(f.getArgument(0)),
                           grad ? ld(f.getArgument(1)) : Value(), w);
    } else if (kind == "copy") {
      out = ld(f.getArgument(0));
    } else {
      out = b.create<arith::AddFOp>(loc(), ld(f.getArgument(0)), ld(f.getArgument(1)));
    }
    kb.storeFloats(out, f.getArgument(arity - 1), i, w);
  };
  int64_t chunks = (n + chunk - 1) / chunk;
  kb.parallelLoop(kb.idx(0), kb.idx(chunks), [&](Value c) {
    Value lo = kb.mul(c, kb.idx(chunk));
    Value hi = kb.min(kb.add(lo, kb.idx(chunk)), kb.idx(n));
    Value nv = kb.div(kb.sub(hi, lo), kb.idx(vw));
    Value stop = kb.add(lo, kb.mul(nv, kb.idx(vw)));
    kb.forLoop(lo, stop, vw, [&](Value i) { body(i, vw); });
    kb.forLoop(stop, hi, 1, [&](Value i) { body(i, 1); });
  });
  b.create<func::ReturnOp>(loc());
  kernels[name] = f;
  return f;
}

/// The packed ReLU mask of n floats (a multiple of 8), bit i % 8 of byte
/// i / 8: relu_mask(y, bits) and relu_mask_grad(bits, dy, dx). Eight lanes
/// per byte whatever the target's width (an <8 x i1> is one i8 in LLVM).
func::FuncOp StepLowering::maskKernel(StringRef kind, int64_t n, ValueRange operands) {
  std::string name = ("mest_k_" + kind + "_" + Twine(n)).str();
  SmallVector<Type> args;
  for (auto [k, m] : llvm::enumerate(operands)) {
    Type elem = KernelBuilder::elementOf(m);
    bool bits = kind == "relu_mask" ? k == 1 : k == 0;
    args.push_back(MemRefType::get({bits ? n / 8 : n}, elem));
    if (KernelBuilder::isCompact(elem)) {
      llvm::raw_string_ostream os(name);
      os << '_';
      elem.print(os);
    }
  }
  auto it = kernels.find(name);
  if (it != kernels.end()) return it->second;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto f = b.create<func::FuncOp>(loc(), name, b.getFunctionType(args, {}));
  makeInternal(f);
  b.setInsertionPointToStart(f.addEntryBlock());
  auto lanes = VectorType::get({8}, b.getI1Type()), byte = VectorType::get({1}, b.getI8Type());
  const int64_t chunk = 8192;  // floats per parallel iteration, a multiple of 8
  kb.parallelLoop(kb.idx(0), kb.idx((n + chunk - 1) / chunk), [&](Value c) {
    Value lo = kb.mul(c, kb.idx(chunk));
    Value hi = kb.min(kb.add(lo, kb.idx(chunk)), kb.idx(n));
    kb.forLoop(lo, hi, 8, [&](Value i) {
      Value at = kb.div(i, kb.idx(8));
      if (kind == "relu_mask") {
        Value packed = b.create<vector::BitCastOp>(loc(), byte, kb.positive(f.getArgument(0), i, 8));
        b.create<vector::StoreOp>(loc(), packed, f.getArgument(1), at);
        return;
      }
      Value packed = b.create<vector::LoadOp>(loc(), byte, f.getArgument(0), at);
      Value keep = b.create<vector::BitCastOp>(loc(), lanes, packed);
      auto vt = VectorType::get({8}, b.getF32Type());
      Value zero = b.create<arith::ConstantOp>(loc(), vt, DenseElementsAttr::get(vt, 0.0f));
      Value dx = b.create<arith::SelectOp>(loc(), keep, kb.loadFloats(f.getArgument(1), i, 8), zero);
      kb.storeFloats(dx, f.getArgument(2), i, 8);
    });
  });
  b.create<func::ReturnOp>(loc());
  kernels[name] = f;
  return f;
}

/// Inverted dropout over n floats, dropout(in, out, key): element e is kept
/// when rt::dropoutKeep(key, e, threshold) holds, and scaled by
/// 1 / (1 - ratio); mest.dropout_grad is the same kernel on dy. The hash runs
/// on vectors of i32 lanes (runtime/formats/DropoutStream.h is its scalar form).
func::FuncOp StepLowering::dropoutKernel(int64_t n, double ratio) {
  const uint32_t threshold = rt::dropoutThreshold(ratio);
  std::string name = llvm::formatv("mest_k_dropout_{0}_{1:x6}", n, threshold).str();
  auto it = kernels.find(name);
  if (it != kernels.end()) return it->second;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto flat = MemRefType::get({n}, b.getF32Type());
  auto f = b.create<func::FuncOp>(loc(), name,
                                  b.getFunctionType({flat, flat, b.getI64Type()}, {}));
  makeInternal(f);
  b.setInsertionPointToStart(f.addEntryBlock());
  Type i32 = b.getI32Type();
  Value key = f.getArgument(2);
  Value k1 = b.create<arith::TruncIOp>(loc(), i32, key);
  Value k2 = b.create<arith::TruncIOp>(
      loc(), i32, b.create<arith::ShRUIOp>(loc(), key, i64(32)));
  const float scale = float(1.0 / (1.0 - ratio));
  const int64_t chunk = 8192, vw = vectorWidth;
  auto body = [&](Value i, int64_t w) {
    auto vi = VectorType::get({w}, i32);
    auto splat = [&](Value v) -> Value {
      return w == 1 ? v : b.create<vector::BroadcastOp>(loc(), vi, v).getResult();
    };
    auto cst = [&](uint32_t v) { return splat(b.create<arith::ConstantIntOp>(loc(), int32_t(v), 32)); };
    Value e = splat(b.create<arith::IndexCastOp>(loc(), i32, i));
    if (w > 1) {
      SmallVector<int32_t> lanes(w);
      for (int64_t l = 0; l < w; ++l) lanes[l] = int32_t(l);
      Value iota = b.create<arith::ConstantOp>(loc(), vi, DenseElementsAttr::get(vi, ArrayRef(lanes)));
      e = b.create<arith::AddIOp>(loc(), e, iota);
    }
    auto hash = [&](Value x) {
      auto step = [&](Value v, int shift, uint32_t mul) -> Value {
        Value s = b.create<arith::XOrIOp>(loc(), v, b.create<arith::ShRUIOp>(loc(), v, cst(shift)));
        return mul ? b.create<arith::MulIOp>(loc(), s, cst(mul)).getResult() : s;
      };
      return step(step(step(x, 16, rt::kDropoutHash1), 15, rt::kDropoutHash2), 15, 0);
    };
    Value h = hash(b.create<arith::XOrIOp>(
        loc(), hash(b.create<arith::XOrIOp>(loc(), e, splat(k1))), splat(k2)));
    Value keep = b.create<arith::CmpIOp>(loc(), arith::CmpIPredicate::uge,
                                         b.create<arith::ShRUIOp>(loc(), h, cst(8)), cst(threshold));
    auto vf = VectorType::get({w}, b.getF32Type());
    auto fsplat = [&](float v) -> Value {
      Value c = kb.f32(v);
      return w == 1 ? c : b.create<vector::BroadcastOp>(loc(), vf, c).getResult();
    };
    Value x = b.create<arith::MulFOp>(loc(), kb.loadFloats(f.getArgument(0), i, w), fsplat(scale));
    kb.storeFloats(b.create<arith::SelectOp>(loc(), keep, x, fsplat(0.0f)), f.getArgument(1), i, w);
  };
  kb.parallelLoop(kb.idx(0), kb.idx((n + chunk - 1) / chunk), [&](Value c) {
    Value lo = kb.mul(c, kb.idx(chunk));
    Value hi = kb.min(kb.add(lo, kb.idx(chunk)), kb.idx(n));
    Value stop = kb.add(lo, kb.mul(kb.div(kb.sub(hi, lo), kb.idx(vw)), kb.idx(vw)));
    kb.forLoop(lo, stop, vw, [&](Value i) { body(i, vw); });
    kb.forLoop(stop, hi, 1, [&](Value i) { body(i, 1); });
  });
  b.create<func::ReturnOp>(loc());
  kernels[name] = f;
  return f;
}

/// rt::dropoutKey(seed, step, index) from the stream in the state block.
Value StepLowering::dropoutKey(int64_t index) {
  Value stream = kb.stateView(state, dropoutStream, 2, b.getI64Type());
  Value seed = b.create<memref::LoadOp>(loc(), stream, ValueRange{kb.idx(0)});
  Value step = b.create<memref::LoadOp>(loc(), stream, ValueRange{kb.idx(1)});
  auto u64 = [&](uint64_t v) { return i64(int64_t(v)); };
  Value salt = b.create<arith::AddIOp>(loc(), b.create<arith::ShLIOp>(loc(), step, i64(16)),
                                       u64(uint64_t(index) + 1));
  Value z = b.create<arith::AddIOp>(loc(), seed,
                                    b.create<arith::MulIOp>(loc(), u64(rt::kDropoutGolden), salt));
  auto mixStep = [&](Value v, int shift, uint64_t mul) -> Value {
    Value s = b.create<arith::XOrIOp>(loc(), v, b.create<arith::ShRUIOp>(loc(), v, i64(shift)));
    return mul ? b.create<arith::MulIOp>(loc(), s, u64(mul)).getResult() : s;
  };
  return mixStep(mixStep(mixStep(z, 30, rt::kDropoutMix1), 27, rt::kDropoutMix2), 31, 0);
}

func::FuncOp StepLowering::generated(const std::string &key, StringRef family,
                                     const std::function<func::FuncOp(StringRef)> &build) {
  if (func::FuncOp f = kernelsByKey.lookup(key)) return f;
  int64_t k = 0;
  std::string name;
  do name = ("mest_k_" + family + "_" + Twine(k++)).str();
  while (module.lookupSymbol(name));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  func::FuncOp f = build(name);
  makeInternal(f);
  kernelsByKey[key] = f;
  return f;
}

void StepLowering::emitFlatSgd(Value values, Value grads, Value mom, Value n, Value lrV,
                               Value muV, Value wdV) {
  kb.forLoop(kb.idx(0), n, 1, [&](Value i) {
    Value g = kb.load(grads, i), w = kb.load(values, i);
    Value d = b.create<math::FmaOp>(loc(), wdV, w, g);
    Value m = b.create<math::FmaOp>(loc(), muV, kb.load(mom, i), d);
    kb.store(m, mom, i);
    kb.store(b.create<arith::SubFOp>(loc(), w, b.create<arith::MulFOp>(loc(), lrV, m)), values,
             i);
  });
}

/// SGD on a conv2d or linear layer's stored gradients (mest.sgd after
/// mest.grad_weight): its active values (the state's count times the unit
/// size; all of a dense layer's) and its bias. The same arithmetic as the
/// fused update (sgdAt), so split and fused steps give the same numbers.
void StepLowering::emitLayerSgd(Operation *layer) {
  ConvKernelSpec sp = layerKernelSpec(layer, stateBytes);
  const rt::ConvStateLayout &l = sp.layout;
  Type f32 = b.getF32Type();
  auto view = [&](int64_t off, int64_t n) { return kb.stateView(state, sp.base + off, n, f32); };
  Value n = kb.idx(l.capacityValues);
  if (sp.scheme != rt::Scheme::Dense) {
    Value header = kb.stateView(state, sp.base + l.header, 2, b.getI64Type());
    n = kb.mul(kb.loadIndex(header, {kb.idx(0)}), kb.idx(l.unitSize));
  }
  emitFlatSgd(view(l.values, l.capacityValues), view(l.grads, l.capacityValues),
              view(l.momentum, l.capacityValues), n, lr, mu, wd);
  if (sp.bias)
    emitFlatSgd(view(l.bias, sp.O), view(l.biasGrad, sp.O), view(l.biasMomentum, sp.O),
                kb.idx(sp.O), lr, mu, wd);
}

LogicalResult StepLowering::lowerOp(Operation *op, ArrayRef<Value> res) {
  auto bnViews = [&](Operation *bn, int64_t C) {
    int64_t base = attrInt(bn, MestDialect::getStateOffsetAttrName());
    rt::BatchNormStateLayout l = rt::batchNormStateLayout(C);
    Type f32 = b.getF32Type();
    return std::array<Value, 5>{kb.stateView(state, base + l.params, 2 * C, f32),
                                kb.stateView(state, base + l.grads, 2 * C, f32),
                                kb.stateView(state, base + l.momentum, 2 * C, f32),
                                kb.stateView(state, base + l.runMean, C, f32),
                                kb.stateView(state, base + l.runVar, C, f32)};
  };
  auto nchw = [&](Value tensor) {
    auto t = cast<RankedTensorType>(tensor.getType());
    int64_t hw = t.getRank() == 4 ? t.getDimSize(2) * t.getDimSize(3) : 1;
    return std::array<int64_t, 3>{t.getDimSize(0), t.getDimSize(1), hw};
  };
  // Training batch norm (BatchNormTrainOp, or BatchNormAffineOp when folded
  // into its consumers): out = relu?(bn(input) + residual?), statistics from
  // the conv's epilogue when it provides them (mest-form-kernels).
  auto trainBatchNorm = [&](Operation *bn, Value input, Value stats, Value residual, bool relu,
                            Value out, Value mean, Value invStd, Value affine) {
    auto [N, C, HW] = nchw(input);
    auto v = bnViews(layers.lookup(bn->getAttrOfType<FlatSymbolRefAttr>("layer").getValue()), C);
    BatchNormTrainSpec sp;
    sp.N = N, sp.C = C, sp.HW = HW;
    sp.eps = bn->getAttrOfType<FloatAttr>("eps").getValueAsDouble();
    sp.momentum = bn->getAttrOfType<FloatAttr>("momentum").getValueAsDouble();
    sp.stats = bool(stats), sp.residual = bool(residual), sp.relu = relu;
    sp.output = bool(out), sp.affine = bool(affine), sp.vectorWidth = vectorWidth;
    sp.sync = src->hasAttr(MestDialect::getSyncReplicasAttrName());
    sp.inElem = compactElem(input);
    sp.residualElem = compactElem(residual);
    sp.outElem = compactElem(out);
    func::FuncOp f = generated(sp.key(), "bn_train", [&](StringRef name) {
      return buildBatchNormTrain(b, loc(), sp, name);
    });
    SmallVector<Value> args{v[0], v[3], v[4], flat(mem(input))};
    if (stats) args.push_back(flat(mem(stats)));
    if (residual) args.push_back(flat(mem(residual)));
    if (out) args.push_back(flat(out));
    args.append({mem(mean), mem(invStd)});
    if (affine) args.push_back(flat(mem(affine)));
    callGenerated(f, args);
  };
  auto window = [&](Value in, Value out, ArrayRef<int64_t> k,
                    std::optional<ArrayRef<int64_t>> stride, ArrayRef<int64_t> pad) {
    auto t = cast<RankedTensorType>(in.getType());
    auto o = cast<RankedTensorType>(out.getType());
    ArrayRef<int64_t> st = stride ? *stride : k;
    PoolGeometry g{t.getDimSize(0), t.getDimSize(1), t.getDimSize(2), t.getDimSize(3),
                   k[0], k[1], st[0], st[1], pad[0], pad[1]};
    g.outH = o.getDimSize(2), g.outW = o.getDimSize(3);
    return g;
  };
  // A forward pool's geometry with the storage of its input and output.
  auto forwardWindow = [&](Operation *p, ArrayRef<int64_t> k,
                           std::optional<ArrayRef<int64_t>> stride, ArrayRef<int64_t> pad) {
    PoolGeometry g = window(p->getOperand(0), p->getResult(0), k, stride, pad);
    g.inElem = compactElem(p->getOperand(0));
    g.outElem = compactElem(p->getResult(0));
    return g;
  };
  using PoolBuilder = std::function<func::FuncOp(StringRef)>;
  auto pool = [&](StringRef family, const PoolGeometry &g, const PoolBuilder &build,
                  ValueRange args) {
    callGenerated(generated((family + ":" + g.key()).str(), family, build), args);
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<Conv2dOp, LinearOp>([&](Operation *layer) {
        return layer->emitOpError() << "is a layer definition inside a step: run "
                                       "mest-form-kernels first";
      })
      .Case([&](ForwardOp f) {
        Operation *layer = layers.lookup(f.getLayer());
        SmallVector<Value> args{as4D(mem(f.getInput())), as4D(res[0])};
        if (f.getStats()) args.push_back(res[1]);
        if (f.getInputAffine()) args.push_back(mem(f.getInputAffine()));
        callConvKernel(layer, f.getStats() ? "fwd_stats" : "fwd", args,
                       bool(f.getInputAffine()));
        return success();
      })
      .Case([&](GradInputOp g) {
        Operation *layer = layers.lookup(g.getLayer());
        if (Value addend = g.getAddend())
          callConvKernel(layer, "bwd_data_acc",
                         {as4D(mem(g.getOutputGrad())), as4D(res[0]), as4D(mem(addend))});
        else
          callConvKernel(layer, "bwd_data", {as4D(mem(g.getOutputGrad())), as4D(res[0])});
        return success();
      })
      .Case([&](GradWeightOp g) {
        Operation *layer = layers.lookup(g.getLayer());
        SmallVector<Value> args{as4D(mem(g.getInput())), as4D(mem(g.getOutputGrad())), lr, mu, wd};
        if (g.getInputAffine()) args.push_back(mem(g.getInputAffine()));
        callConvKernel(layer, "bwd_weight_grad", args, bool(g.getInputAffine()));
        return success();
      })
      .Case([&](GradWeightSgdOp g) {
        Operation *layer = layers.lookup(g.getLayer());
        SmallVector<Value> args{as4D(mem(g.getInput())), as4D(mem(g.getOutputGrad())), lr, mu, wd};
        if (g.getInputAffine()) args.push_back(mem(g.getInputAffine()));
        callConvKernel(layer, "bwd_weight", args, bool(g.getInputAffine()));
        return success();
      })
      .Case([&](BatchNormTrainOp bn) {
        trainBatchNorm(bn, bn.getInput(), bn.getStats(), bn.getResidual(), bn.getRelu(), res[0],
                       bn.getMean(), bn.getInvStd(), bn.getAffine());
        return success();
      })
      .Case([&](BatchNormApplyOp a) {
        auto [N, C, HW] = nchw(a.getInput());
        BatchNormApplySpec sp;
        sp.N = N, sp.C = C, sp.HW = HW;
        sp.residual = bool(a.getResidual()), sp.relu = a.getRelu();
        sp.vectorWidth = vectorWidth;
        sp.inElem = compactElem(a.getInput());
        sp.residualElem = compactElem(a.getResidual());
        sp.outElem = compactElem(a.getOutput());
        func::FuncOp f = generated(sp.key(), "bn_apply", [&](StringRef name) {
          return buildBatchNormApply(b, loc(), sp, name);
        });
        SmallVector<Value> args{flat(mem(a.getInput())), flat(mem(a.getAffine()))};
        if (a.getResidual()) args.push_back(flat(mem(a.getResidual())));
        args.push_back(flat(res[0]));
        callGenerated(f, args);
        return success();
      })
      .Case([&](BatchNormAffineOp bn) {
        trainBatchNorm(bn, bn.getInput(), bn.getStats(), Value(), false, Value(), bn.getMean(),
                       bn.getInvStd(), bn.getAffine());
        return success();
      })
      .Case([&](BatchNormOp bn) {
        const std::array<int64_t, 3> shape = nchw(bn.getInput());
        const int64_t N = shape[0], C = shape[1], HW = shape[2];
        auto v = bnViews(layers.lookup(bn.getSymName()), C);
        double eps = bn.getEps().convertToDouble();
        func::FuncOp f = generated(
            llvm::formatv("bn_eval:{0},{1},{2},{3},{4}", N, C, HW, eps, vectorWidth).str(),
            "bn_eval", [&](StringRef name) {
              return buildBatchNormEval(b, loc(), N, C, HW, eps, vectorWidth, name);
            });
        callGenerated(f, {v[0], v[3], v[4], flat(mem(bn.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](BatchNormGradOp g) {
        const std::array<int64_t, 3> shape = nchw(g.getInput());
        const int64_t N = shape[0], C = shape[1], HW = shape[2];
        auto v = bnViews(layers.lookup(g.getLayer()), C);
        BatchNormGradSpec sp;
        sp.N = N, sp.C = C, sp.HW = HW, sp.vectorWidth = vectorWidth;
        sp.sync = src->hasAttr(MestDialect::getSyncReplicasAttrName());
        sp.inElem = compactElem(g.getInput());
        sp.reluElem = compactElem(g.getReluOutput());
        sp.mask = g.getReluAffine()   ? ReluMask::Affine
                  : g.getReluOutput() ? ReluMask::Output
                                      : ReluMask::None;
        func::FuncOp f = generated(sp.key(), "bn_grad", [&](StringRef name) {
          return buildBatchNormBackward(b, loc(), sp, name);
        });
        SmallVector<Value> args{v[0], v[1], flat(mem(g.getInput())), flat(mem(g.getOutputGrad())),
                                mem(g.getMean()), mem(g.getInvStd())};
        if (Value m = g.getReluAffine()) args.push_back(flat(mem(m)));
        if (Value m = g.getReluOutput()) args.push_back(flat(mem(m)));
        args.push_back(flat(res[0]));
        callGenerated(f, args);
        return success();
      })
      .Case([&](SgdOp sgd) {
        Operation *bn = layers.lookup(sgd.getLayer());
        if (isa<Conv2dOp, LinearOp>(bn)) {
          emitLayerSgd(bn);
          return success();
        }
        int64_t C = nchw(bn->getOperand(0))[1];
        auto v = bnViews(bn, C);
        emitFlatSgd(v[0], v[1], v[2], kb.idx(2 * C), lr, mu, wd);
        return success();
      })
      .Case<DropoutTrainOp, DropoutGradOp>([&](auto r) -> LogicalResult {
        if (dropoutStream < 0)
          return r.emitOpError() << "needs the model's dropout stream: run mest-plan-storage first";
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        func::FuncOp f = dropoutKernel(n, r.getRatio().convertToDouble());
        callGenerated(f, {flat(mem(r->getOperand(0))), flat(res[0]), dropoutKey(r.getIndex())});
        return success();
      })
      .Case([&](AdvanceDropoutOp r) -> LogicalResult {
        if (dropoutStream < 0)
          return r.emitOpError() << "needs the model's dropout stream: run mest-plan-storage first";
        Value stream = kb.stateView(state, dropoutStream, 2, b.getI64Type());
        Value step = b.create<memref::LoadOp>(loc(), stream, ValueRange{kb.idx(1)});
        b.create<memref::StoreOp>(loc(), b.create<arith::AddIOp>(loc(), step, i64(1)), stream,
                                  ValueRange{kb.idx(1)});
        return success();
      })
      .Case([&](ReluOp r) {
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        SmallVector<Value> args{flat(mem(r.getInput())), flat(res[0])};
        b.create<func::CallOp>(loc(), flatKernel("relu", n, args), args);
        return success();
      })
      .Case<ClipOp, ClipGradOp>([&](auto r) {
        const bool grad = isa<ClipGradOp>(r.getOperation());
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        SmallVector<Value> args;
        for (Value v : r->getOperands()) args.push_back(flat(mem(v)));
        args.push_back(flat(res[0]));
        auto bounds = std::pair(r.getMin().convertToDouble(), r.getMax().convertToDouble());
        b.create<func::CallOp>(loc(), flatKernel(grad ? "clip_grad" : "clip", n, args, bounds),
                               args);
        return success();
      })
      .Case<ActivationOp, ActivationGradOp>([&](auto r) {
        const bool grad = isa<ActivationGradOp>(r.getOperation());
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        SmallVector<Value> args;
        for (Value v : r->getOperands()) args.push_back(flat(mem(v)));
        args.push_back(flat(res[0]));
        std::pair<double, double> params{0.0, 0.0};
        if (r.getAlpha()) params = {r.getAlpha()->convertToDouble(), r.getBeta()->convertToDouble()};
        std::string kind = stringifyActivation(r.getKind()).str() + (grad ? "_grad" : "");
        b.create<func::CallOp>(loc(), flatKernel(kind, n, args, params), args);
        return success();
      })
      .Case([&](ConcatOp c) {
        auto out = cast<ShapedType>(c.getType());
        const int64_t N = out.getDimSize(0), HW = out.getDimSize(2) * out.getDimSize(3);
        SmallVector<int64_t> channels;
        SmallVector<Value> args;
        std::string key = llvm::formatv("concat:{0},{1},{2}", N, HW, vectorWidth).str();
        for (Value in : c.getInputs()) {
          channels.push_back(cast<ShapedType>(in.getType()).getDimSize(1));
          key += "," + std::to_string(channels.back());
          args.push_back(flat(mem(in)));
        }
        args.push_back(flat(res[0]));
        func::FuncOp f = generated(key, "concat", [&](StringRef name) {
          return buildConcat(b, loc(), N, channels, HW, vectorWidth, name);
        });
        callGenerated(f, args);
        return success();
      })
      .Case([&](SliceChannelsOp s) {
        auto in = cast<ShapedType>(s.getInput().getType());
        auto out = cast<ShapedType>(s.getType());
        const int64_t N = in.getDimSize(0), C = in.getDimSize(1), HW = in.getDimSize(2) * in.getDimSize(3);
        const int64_t offset = static_cast<int64_t>(s.getOffset()), count = out.getDimSize(1);
        func::FuncOp f = generated(
            llvm::formatv("slice:{0},{1},{2},{3},{4},{5}", N, C, offset, count, HW, vectorWidth)
                .str(),
            "slice_channels", [&](StringRef name) {
              return buildSliceChannels(b, loc(), N, C, offset, count, HW, vectorWidth, name);
            });
        callGenerated(f, {flat(mem(s.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](PadChannelsOp s) {
        auto in = cast<ShapedType>(s.getInput().getType());
        auto out = cast<ShapedType>(s.getType());
        const int64_t N = out.getDimSize(0), C = out.getDimSize(1), HW = out.getDimSize(2) * out.getDimSize(3);
        const int64_t offset = static_cast<int64_t>(s.getOffset()), count = in.getDimSize(1);
        func::FuncOp f = generated(
            llvm::formatv("pad:{0},{1},{2},{3},{4},{5}", N, C, offset, count, HW, vectorWidth).str(),
            "pad_channels", [&](StringRef name) {
              return buildPadChannels(b, loc(), N, C, offset, count, HW, vectorWidth, name);
            });
        callGenerated(f, {flat(mem(s.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](ShuffleChannelsOp s) {
        auto t = cast<ShapedType>(s.getType());
        const int64_t N = t.getDimSize(0), C = t.getDimSize(1), HW = t.getDimSize(2) * t.getDimSize(3);
        const int64_t groups = static_cast<int64_t>(s.getGroups());
        func::FuncOp f = generated(
            llvm::formatv("shuffle:{0},{1},{2},{3},{4}", N, C, groups, HW, vectorWidth).str(),
            "shuffle_channels", [&](StringRef name) {
              return buildShuffleChannels(b, loc(), N, C, groups, HW, vectorWidth, name);
            });
        callGenerated(f, {flat(mem(s.getInput())), flat(res[0])});
        return success();
      })
      .Case<ScaleChannelsOp, ScaleChannelsGradOp>([&](auto r) {
        const bool grad = isa<ScaleChannelsGradOp>(r.getOperation());
        const std::array<int64_t, 3> shape = nchw(r->getOperand(0));
        const int64_t N = shape[0], C = shape[1], HW = shape[2];
        std::string key =
            llvm::formatv("{0}:{1},{2},{3},{4}", grad ? "scale_grad" : "scale", N, C, HW,
                          vectorWidth)
                .str();
        func::FuncOp f = generated(key, grad ? "scale_channels_grad" : "scale_channels",
                                   [&](StringRef name) {
                                     return grad ? buildScaleChannelsGrad(b, loc(), N, C, HW,
                                                                          vectorWidth, name)
                                                 : buildScaleChannels(b, loc(), N, C, HW,
                                                                      vectorWidth, name);
                                   });
        callGenerated(f, {flat(mem(r->getOperand(0))), flat(mem(r->getOperand(1))),
                          flat(res[0])});
        return success();
      })
      .Case([&](ReluGradOp r) {
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        SmallVector<Value> args{flat(mem(r.getOutput())), flat(mem(r.getOutputGrad())),
                                flat(res[0])};
        b.create<func::CallOp>(loc(), flatKernel("relu_grad", n, args), args);
        return success();
      })
      .Case([&](ReluMaskOp r) {
        int64_t n = cast<ShapedType>(r.getOutput().getType()).getNumElements();
        SmallVector<Value> args{flat(mem(r.getOutput())), flat(res[0])};
        b.create<func::CallOp>(loc(), maskKernel("relu_mask", n, args), args);
        return success();
      })
      .Case([&](ReluMaskGradOp r) {
        int64_t n = cast<ShapedType>(r.getType()).getNumElements();
        SmallVector<Value> args{flat(mem(r.getMask())), flat(mem(r.getOutputGrad())),
                                flat(res[0])};
        b.create<func::CallOp>(loc(), maskKernel("relu_mask_grad", n, args), args);
        return success();
      })
      .Case([&](AddOp a) {
        int64_t n = cast<ShapedType>(a.getType()).getNumElements();
        SmallVector<Value> args{flat(mem(a.getLhs())), flat(mem(a.getRhs())), flat(res[0])};
        b.create<func::CallOp>(loc(), flatKernel("add", n, args), args);
        return success();
      })
      .Case<ReshapeOp, FlattenOp>([&](Operation *r) {
        // A copy, converting where one side is stored compactly.
        Value from = flat(mem(r->getOperand(0))), to = flat(res[0]);
        if (KernelBuilder::elementOf(from) == KernelBuilder::elementOf(to)) {
          b.create<memref::CopyOp>(loc(), from, to);
          return success();
        }
        int64_t n = cast<MemRefType>(to.getType()).getNumElements();
        b.create<func::CallOp>(loc(), flatKernel("copy", n, {from, to}), ValueRange{from, to});
        return success();
      })
      .Case([&](MaxPool2dOp p) {
        PoolGeometry g = forwardWindow(p, p.getKernel(), p.getStride(), p.getPadding());
        pool("max_pool", g, [&](StringRef n) { return buildMaxPoolForward(b, loc(), g, false, n); },
             {flat(mem(p.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](MaxPool2dTrainOp p) {
        PoolGeometry g = forwardWindow(p, p.getKernel(), p.getStride(), p.getPadding());
        pool("max_pool_train", g,
             [&](StringRef n) { return buildMaxPoolForward(b, loc(), g, true, n); },
             {flat(mem(p.getInput())), flat(res[0]), flat(res[1])});
        return success();
      })
      .Case([&](MaxPool2dGradOp p) {
        PoolGeometry g = window(p.getInputGrad(), p.getOutputGrad(), p.getKernel(), p.getStride(),
                                p.getPadding());
        pool("max_pool_grad", g, [&](StringRef n) { return buildMaxPoolBackward(b, loc(), g, n); },
             {flat(mem(p.getOutputGrad())), flat(mem(p.getArgmax())), flat(res[0])});
        return success();
      })
      .Case([&](AvgPool2dOp p) {
        PoolGeometry g = forwardWindow(p, p.getKernel(), p.getStride(), p.getPadding());
        pool("avg_pool", g, [&](StringRef n) { return buildAvgPoolForward(b, loc(), g, n); },
             {flat(mem(p.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](AvgPool2dGradOp p) {
        PoolGeometry g = window(p.getInputGrad(), p.getOutputGrad(), p.getKernel(), p.getStride(),
                                p.getPadding());
        pool("avg_pool_grad", g, [&](StringRef n) { return buildAvgPoolBackward(b, loc(), g, n); },
             {flat(mem(p.getOutputGrad())), flat(res[0])});
        return success();
      })
      .Case([&](GlobalAvgPool2dOp p) {
        const std::array<int64_t, 3> shape = nchw(p.getInput());
        const int64_t N = shape[0], C = shape[1], HW = shape[2];
        Type inElem = compactElem(p.getInput()), outElem = compactElem(p.getOutput());
        std::string key = llvm::formatv("gap:{0},{1},{2},{3}", N, C, HW, vectorWidth).str() +
                          KernelBuilder::typesKey({inElem, outElem});
        func::FuncOp f = generated(key, "global_avg_pool", [&](StringRef name) {
          return buildGlobalAvgPoolForward(b, loc(), N, C, HW, vectorWidth, name, inElem,
                                           outElem);
        });
        callGenerated(f, {flat(mem(p.getInput())), flat(res[0])});
        return success();
      })
      .Case([&](GlobalAvgPool2dGradOp p) {
        const std::array<int64_t, 3> shape = nchw(p.getInputGrad());
        const int64_t N = shape[0], C = shape[1], HW = shape[2];
        func::FuncOp f = generated(
            llvm::formatv("gap_grad:{0},{1},{2},{3}", N, C, HW, vectorWidth).str(),
            "global_avg_pool_grad", [&](StringRef name) {
              return buildGlobalAvgPoolBackward(b, loc(), N, C, HW, vectorWidth, name);
            });
        callGenerated(f, {flat(mem(p.getOutputGrad())), flat(res[0])});
        return success();
      })
      .Case([&](SoftmaxCrossEntropyOp l) {
        auto t = cast<RankedTensorType>(l.getLogits().getType());
        int64_t N = t.getDimSize(0), K = t.getDimSize(1);
        func::FuncOp f = generated(llvm::formatv("xent:{0},{1}", N, K).str(), "softmax_xent",
                                   [&](StringRef name) {
                                     return buildSoftmaxCrossEntropyForward(b, loc(), N, K, name);
                                   });
        callGenerated(f, {flat(mem(l.getLogits())), mem(l.getLabels()), res[0], res[1], res[2]});
        return success();
      })
      .Case([&](SoftmaxCrossEntropyGradOp l) {
        auto t = cast<RankedTensorType>(l.getLogits().getType());
        int64_t N = t.getDimSize(0), K = t.getDimSize(1);
        func::FuncOp f = generated(llvm::formatv("xent_grad:{0},{1}", N, K).str(),
                                   "softmax_xent_grad", [&](StringRef name) {
                                     return buildSoftmaxCrossEntropyBackward(b, loc(), N, K, name);
                                   });
        callGenerated(f, {flat(mem(l.getLogits())), mem(l.getLabels()), flat(res[0])});
        return success();
      })
      .Default([](Operation *op) {
        return op->emitOpError() << "has no kernel in mest-lower-kernels";
      });
}

LogicalResult StepLowering::run(StringRef name, bool train) {
  auto arenaAttr = src->getAttrOfType<IntegerAttr>(MestDialect::getArenaBytesAttrName());
  if (!arenaAttr)
    return src.emitError() << "step has no memory plan: run mest-plan-memory first";
  int64_t arenaBytes = std::max<int64_t>(arenaAttr.getInt(), 1);
  Block &body = src.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // ABI arguments: state, arena (not for the update step, which has no
  // tensors), inputs, scalars, then one buffer per result.
  const bool withArena = !src->hasAttr(MestDialect::getUpdateStepAttrName());
  const unsigned firstArg = withArena ? 2 : 1;
  SmallVector<Type> args = {MemRefType::get({stateBytes}, b.getI8Type())};
  if (withArena) args.push_back(MemRefType::get({arenaBytes}, b.getI8Type()));
  for (Value a : src.getArguments())
    args.push_back(isa<RankedTensorType>(a.getType()) ? Type(memrefFor(a.getType()))
                                                      : a.getType());
  for (Value r : ret.getOperands()) args.push_back(memrefFor(r.getType()));
  b.setInsertionPointToEnd(module.getBody());
  auto dst = b.create<func::FuncOp>(loc(), name, b.getFunctionType(args, {}));
  Block *entry = dst.addEntryBlock();
  b.setInsertionPointToStart(entry);
  state = entry->getArgument(0);
  arena = withArena ? entry->getArgument(1) : Value();
  // The scalars, in order: learning rate, momentum, weight decay.
  Value *scalars[] = {&lr, &mu, &wd};
  unsigned scalar = 0;
  for (auto [i, a] : llvm::enumerate(src.getArguments())) {
    if (isa<RankedTensorType>(a.getType()))
      mems[a] = entry->getArgument(firstArg + i);
    else if (scalar < 3)
      *scalars[scalar++] = entry->getArgument(firstArg + i);
  }
  // The gradient-only backward-weight kernel shares the fused one's signature
  // and ignores the scalars: a grad step passes zeros.
  for (; scalar < 3; ++scalar) *scalars[scalar] = kb.f32(0.0);
  const unsigned firstOut = firstArg + src.getNumArguments();
  for (auto [i, r] : llvm::enumerate(ret.getOperands())) mems[r] = entry->getArgument(firstOut + i);
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op)) break;
    SmallVector<Value> results;
    if (op.getNumResults()) {
      auto offsets = op.getAttrOfType<DenseI64ArrayAttr>(MestDialect::getArenaOffsetsAttrName());
      if (!offsets) return op.emitOpError() << "has no arena offsets: run mest-plan-memory";
      for (auto [v, off] : llvm::zip(op.getResults(), offsets.asArrayRef())) {
        if (!mems.count(v))
          mems[v] = b.create<memref::ViewOp>(loc(), memrefFor(v.getType()), arena, kb.idx(off),
                                             ValueRange{});
        results.push_back(mems[v]);
      }
    }
    if (failed(lowerOp(&op, results))) return failure();
  }
  b.create<func::ReturnOp>(loc());
  // Exported kernels are for tests and benchmarks: provide all three for every
  // layer, including the input gradient of the first one, which no step needs.
  if (exportKernels && train)
    for (auto &entry : layers)
      if (isa<Conv2dOp, LinearOp>(entry.second))
        for (StringRef dir : {"fwd", "bwd_data", "bwd_weight"}) exportKernel(entry.second, dir);
  return failure(scratchOverrun);
}

/// The ABI function a step function becomes (docs/abi.md).
StringRef abiName(func::FuncOp step) {
  if (step->hasAttr(MestDialect::getTrainStepAttrName())) return "mest_model_train_step";
  if (step->hasAttr(MestDialect::getGradStepAttrName())) return "mest_model_grad_step";
  if (step->hasAttr(MestDialect::getUpdateStepAttrName())) return "mest_model_update_step";
  if (step->hasAttr(MestDialect::getEvalStepAttrName())) return "mest_model_eval_step";
  return "mest_model_infer";
}

/// With split steps (mest-split-update-step), mest_model_train_step is the
/// grad step then the update step, so every training binary has it:
///   train(state, arena, x, labels, lr, mu, wd, loss, correct, margin)
///     = grad(state, arena, x, labels, loss, correct, margin); update(state, lr, mu, wd)
void buildSplitTrainStep(OpBuilder &b, ModuleOp module) {
  auto grad = module.lookupSymbol<func::FuncOp>("mest_model_grad_step");
  auto update = module.lookupSymbol<func::FuncOp>("mest_model_update_step");
  if (!grad || !update || module.lookupSymbol("mest_model_train_step")) return;
  FunctionType g = grad.getFunctionType();
  SmallVector<Type> args(g.getInputs().take_front(4));
  args.append(3, b.getF32Type());
  args.append(g.getInputs().begin() + 4, g.getInputs().end());
  b.setInsertionPointToEnd(module.getBody());
  auto f = b.create<func::FuncOp>(grad.getLoc(), "mest_model_train_step",
                                  b.getFunctionType(args, {}));
  Block *entry = f.addEntryBlock();
  b.setInsertionPointToStart(entry);
  auto a = entry->getArguments();
  SmallVector<Value> gradArgs(a.take_front(4));
  gradArgs.append(a.begin() + 7, a.end());
  b.create<func::CallOp>(grad.getLoc(), grad, gradArgs);
  b.create<func::CallOp>(grad.getLoc(), update, ValueRange{a[0], a[4], a[5], a[6]});
  b.create<func::ReturnOp>(grad.getLoc());
}

/// mest_model_after_mutation(state, threads): the runtime regroups every layer
/// whose policy is not `none`, with the policy the compiler chose.
void buildAfterMutation(OpBuilder &b, ModuleOp module, func::FuncOp model, int64_t stateBytes) {
  Location loc = model.getLoc();
  b.setInsertionPointToEnd(module.getBody());
  auto f = b.create<func::FuncOp>(
      loc, "mest_model_after_mutation",
      b.getFunctionType({MemRefType::get({stateBytes}, b.getI8Type()), b.getI32Type()}, {}));
  Block *entry = f.addEntryBlock();
  b.setInsertionPointToStart(entry);
  KernelBuilder kb(b, loc);
  int64_t count = 0;
  model.walk([&](Operation *op) {
    if (!isa<Conv2dOp, LinearOp>(op)) return;
    auto policyAttr = op->getAttrOfType<StringAttr>(MestDialect::getRegroupAttrName());
    StringRef policy = policyAttr ? policyAttr.getValue() : "none";
    if (policy == "none") return;
    WeightInfo w = getWeightInfo(op);
    bool bias = isa<Conv2dOp>(op) ? cast<Conv2dOp>(op).getBias() : cast<LinearOp>(op).getBias();
    // The layer's mest_rt_regroup_params (runtime/abi/mest_abi.h): a constant
    // of ten 8-byte words, the last the capacity's bits.
    double capacity = w.sparsity.getCapacitySparsity();
    int64_t capacityBits;
    std::memcpy(&capacityBits, &capacity, sizeof capacity);
    SmallVector<int64_t> words{policy == "balance-nnz" ? 1 : 2, static_cast<int64_t>(w.scheme),
                               w.shape.O, w.shape.I, w.shape.KH, w.shape.KW,
                               w.sparsity.getBlockRows(), w.sparsity.getNumPatterns(),
                               bias ? 1 : 0, capacityBits};
    auto type = MemRefType::get({10}, b.getI64Type());
    std::string name = ("mest_regroup_params_" + Twine(count++)).str();
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      b.create<memref::GlobalOp>(
          loc, name, b.getStringAttr("private"), type,
          DenseElementsAttr::get(RankedTensorType::get({10}, b.getI64Type()),
                                 ArrayRef<int64_t>(words)),
          /*constant=*/true, b.getI64IntegerAttr(8));
    }
    Value params = b.create<memref::GetGlobalOp>(loc, type, name);
    Value base = kb.stateView(entry->getArgument(0),
                              attrInt(op, MestDialect::getStateOffsetAttrName()), 1,
                              b.getI8Type());
    callRuntime(b, loc, module, "mest_rt_regroup",
                {base, asPointer(b, loc, params), entry->getArgument(1)});
  });
  b.create<func::ReturnOp>(loc);
}

struct LowerKernelsPass : public mest::impl::MestLowerKernelsBase<LowerKernelsPass> {
  using mest::impl::MestLowerKernelsBase<LowerKernelsPass>::MestLowerKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> models, steps;
    for (auto f : module.getOps<func::FuncOp>()) {
      if (f->hasAttr(MestDialect::getModelAttrName())) models.push_back(f);
      if (MestDialect::getStepModel(f)) steps.push_back(f);
    }
    if (models.size() != 1) {
      emitError(module.getLoc())
          << "mest-lower-kernels compiles exactly one mest.model per module, found "
                         << models.size();
      return signalPassFailure();
    }
    func::FuncOp model = models.front();
    auto stateAttr = model->getAttrOfType<IntegerAttr>(MestDialect::getStateBytesAttrName());
    if (!stateAttr) {
      model.emitError() << "model has no storage plan: run mest-plan-storage first";
      return signalPassFailure();
    }
    // Every conv and linear layer carries its configuration (mest-configure-kernels).
    int64_t vectorWidth = 0;
    WalkResult configured = model.walk([&](Operation *op) {
      if (!isa<Conv2dOp, LinearOp>(op)) return WalkResult::advance();
      auto c = op->getAttrOfType<KernelConfigAttr>(MestDialect::getKernelConfigAttrName());
      if (!c) {
        op->emitOpError() << "has no mest.kernel configuration: run mest-configure-kernels first";
        return WalkResult::interrupt();
      }
      vectorWidth = std::max<int64_t>(vectorWidth, c.getVectorWidth());
      return WalkResult::advance();
    });
    if (configured.wasInterrupted()) return signalPassFailure();
    if (!vectorWidth) vectorWidth = 8;
    int64_t stateBytes = std::max<int64_t>(stateAttr.getInt(), 1);
    llvm::StringMap<func::FuncOp> kernels, kernelsByKey;
    llvm::StringMap<std::string> kernelNames = kernelNamesOf(model);
    for (func::FuncOp step : steps) {
      bool train = MestDialect::isTrainingStep(step);
      StringRef name = abiName(step);
      StepLowering lowering(module, model, step, stateBytes, exportKernels, vectorWidth, kernels,
                            kernelsByKey, kernelNames);
      if (failed(lowering.run(name, train)))
        return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    buildSplitTrainStep(b, module);
    buildAfterMutation(b, module, model, stateBytes);
    for (func::FuncOp step : steps) step.erase();
    model.erase();
  }
};

} // namespace
