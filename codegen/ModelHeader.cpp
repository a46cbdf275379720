//===- ModelHeader.cpp - the C header of a compiled model -----------------===//
#include "codegen/ModelHeader.h"

#include "dialect/MestDialect.h"
#include "passes/LayerCost.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <map>

using namespace mlir;

namespace {
int64_t intAttr(Operation *op, StringRef name) {
  auto a = op->getAttrOfType<IntegerAttr>(name);
  return a ? a.getInt() : 0;
}
std::string cDouble(double v) { return llvm::formatv("{0:e17}", v).str(); }

/// `s` as the contents of a C string literal: quotes, backslashes and
/// non-printable bytes escaped (model and layer names may hold any of them).
std::string cString(StringRef s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c < 0x20 || c >= 0x7f || c == '?') {  // '?': no trigraphs
      char oct[5];
      std::snprintf(oct, sizeof oct, "\\%03o", unsigned(c));
      out += oct;
    } else out += char(c);
  }
  return out;
}

/// `s` safe inside a C comment.
std::string cComment(StringRef s) {
  std::string out = s.str();
  for (size_t at; (at = out.find("*/")) != std::string::npos;) out.replace(at, 2, "*_/");
  return out;
}
} // namespace

/// The graph-node op of a mest.activation.
static StringRef activationNode(mest::ActivationOp op) {
  switch (op.getKind()) {
  case mest::Activation::sigmoid: return "SIGMOID";
  case mest::Activation::hard_sigmoid: return "HARD_SIGMOID";
  case mest::Activation::hard_swish: return "HARD_SWISH";
  case mest::Activation::silu: return "SILU";
  }
  llvm_unreachable("an activation kind");
}

FailureOr<std::string> mest::writeModelHeader(ModuleOp planned, uint64_t fingerprint) {
  func::FuncOp model;
  int64_t arena = 0, inferArena = 0, scratch = 0;
  int dataParallel = 0;  // mest_model_desc.data_parallel
  for (auto f : planned.getOps<func::FuncOp>()) {
    if (f->hasAttr(MestDialect::getGradStepAttrName()))
      dataParallel = f->hasAttr(MestDialect::getSyncReplicasAttrName()) ? 2 : 1;
    if (f->hasAttr(MestDialect::getModelAttrName())) model = f;
    if (f->hasAttr(MestDialect::getInferStepAttrName()))
      inferArena = intAttr(f, MestDialect::getArenaBytesAttrName());
    arena = std::max(arena, intAttr(f, MestDialect::getArenaBytesAttrName()));
    scratch = std::max(scratch, intAttr(f, MestDialect::getScratchBytesAttrName()));
  }
  if (!model) return planned.emitError() << "no mest.model function to describe";
  int64_t dropoutStream = -1;  // mest_model_desc.dropout_state_offset
  if (auto at = model->getAttrOfType<IntegerAttr>(MestDialect::getDropoutStateOffsetAttrName()))
    dropoutStream = at.getInt();
  auto in = cast<RankedTensorType>(model.getArgumentTypes()[0]);
  auto out = cast<RankedTensorType>(model.getResultTypes()[0]);
  std::string text, layers, taps;
  llvm::raw_string_ostream os(text), ls(layers), ts(taps);
  int count = 0;
  std::map<std::string, std::string> libraries;  // pattern list -> array name
  WalkResult walk = model.walk([&](LayerOpInterface layer) {
    Operation *op = layer.getOperation();
    int64_t offset = intAttr(op, MestDialect::getStateOffsetAttrName());
    std::string name = cString(layer.getLayerName());
    if (auto bn = dyn_cast<BatchNormOp>(op)) {
      int64_t C = bn.getInput().getType().getDimSize(1);
      auto t = bn.getInput().getType();
      int64_t h = t.getRank() == 4 ? t.getDimSize(2) : 1, w = t.getRank() == 4 ? t.getDimSize(3) : 1;
      ls << llvm::formatv("  {{\"{0}\", MEST_LAYER_BATCH_NORM, MEST_SCHEME_DENSE, {1}, {1}, 1, 1, "
                          "{6}, {7}, {6}, {7}, 1, 1, 0, 0, "
                          "0.0, 0.0, 0, 0, 0, 0, MEST_REGROUP_NONE, {2}, {3}, {4}, {5}, 1},\n",
                          name, C, offset, getLayerStateBytes(op),
                          cDouble(bn.getEps().convertToDouble()),
                          cDouble(bn.getMomentum().convertToDouble()), h, w);
    } else {
      WeightInfo w = getWeightInfo(op);
      SparsityAttr sp = w.sparsity;
      bool bias = isa<Conv2dOp>(op) ? cast<Conv2dOp>(op).getBias() : cast<LinearOp>(op).getBias();
      auto policy = op->getAttrOfType<StringAttr>(MestDialect::getRegroupAttrName());
      StringRef regroup = !policy ? "MEST_REGROUP_NONE"
                          : policy.getValue() == "balance-nnz" ? "MEST_REGROUP_BALANCE_NNZ"
                          : policy.getValue() == "pattern-mix" ? "MEST_REGROUP_PATTERN_MIX"
                                                               : "MEST_REGROUP_NONE";
      std::string tapsName = "0";
      if (sp.getScheme() == Scheme::pattern) {
        std::string list;
        llvm::raw_string_ostream lsx(list);
        llvm::interleaveComma(sp.getPatternTaps(), lsx);
        auto [it, added] = libraries.try_emplace(list, "mest_taps_" + std::to_string(libraries.size()));
        if (added) ts << "static const int32_t " << it->second << "[] = {" << list << "};\n";
        tapsName = it->second;
      }
      auto inT = cast<RankedTensorType>(op->getOperand(0).getType());
      auto outT = cast<RankedTensorType>(op->getResult(0).getType());
      auto plane = [](RankedTensorType t) {
        return t.getRank() == 4 ? llvm::formatv("{0}, {1}", t.getDimSize(2), t.getDimSize(3)).str()
                                : std::string("1, 1");
      };
      std::string window = "1, 1, 0, 0";
      if (auto conv = dyn_cast<Conv2dOp>(op))
        window = llvm::formatv("{0}, {1}, {2}, {3}", conv.getStride()[0], conv.getStride()[1],
                               conv.getPadding()[0], conv.getPadding()[1]);
      ls << llvm::formatv(
          "  {{\"{0}\", {1}, MEST_SCHEME_{2}, {3}, {4}, {5}, {6}, {16}, {17}, {18}, {7}, {8}, {9}, {10}, {11}, {12}, "
          "{13}, {14}, {15}, 0.0, 0.0, {19}},\n",
          name, isa<Conv2dOp>(op) ? "MEST_LAYER_CONV2D" : "MEST_LAYER_LINEAR",
          StringRef(stringifyScheme(sp.getScheme())).upper(), w.shape.O, w.shape.I, w.shape.KH,
          w.shape.KW, cDouble(sp.getTargetSparsity()), cDouble(sp.getCapacitySparsity()),
          sp.getBlockRows(), sp.getScheme() == Scheme::pattern ? sp.getNumPatterns() : 0, tapsName,
          bias ? 1 : 0, regroup, offset, getLayerStateBytes(op), plane(inT), plane(outT), window,
          isa<Conv2dOp>(op) ? cast<Conv2dOp>(op).getGroups() : 1);
    }
    ++count;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted()) return failure();
  // The inference graph (mest_graph_node): every op of the model in order.
  std::string nodes;
  llvm::raw_string_ostream ns(nodes);
  llvm::DenseMap<Value, int> valueIds;
  valueIds[model.getArgument(0)] = 0;
  int numNodes = 0, layerIndex = 0;
  for (Operation &op : model.getBody().front()) {
    if (isa<func::ReturnOp>(op)) continue;
    if (auto drop = dyn_cast<DropoutOp>(op)) {  // inference leaves dropout out
      valueIds[drop.getOutput()] = valueIds.lookup(drop.getInput());
      continue;
    }
    if (auto concat = dyn_cast<ConcatOp>(op)) {
      // A chain of two-input CONCAT nodes (ONNX Concat of 2, axis 1); one input: the input itself.
      int acc = valueIds.lookup(concat.getInputs()[0]);
      for (Value next : concat.getInputs().drop_front()) {
        ns << llvm::formatv("  {{MEST_OP_CONCAT, {{{0}, {1}}, -1, {{0, 0}, {{0, 0}, {{0, 0}, "
                            "{{0.0f, 0.0f}},\n",
                            acc, valueIds.lookup(next));
        acc = ++numNodes;
      }
      valueIds[concat.getResult()] = acc;
      continue;
    }
    StringRef kind = isa<Conv2dOp>(op)            ? "CONV2D"
                     : isa<LinearOp>(op)          ? "LINEAR"
                     : isa<BatchNormOp>(op)       ? "BATCH_NORM"
                     : isa<ReluOp>(op)            ? "RELU"
                     : isa<ClipOp>(op)            ? "CLIP"
                     : isa<ActivationOp>(op)      ? activationNode(cast<ActivationOp>(op))
                     : isa<ScaleChannelsOp>(op)   ? "SCALE_CHANNELS"
                     : isa<SliceChannelsOp>(op)   ? "SLICE_CHANNELS"
                     : isa<ShuffleChannelsOp>(op) ? "SHUFFLE_CHANNELS"
                     : isa<AddOp>(op)             ? "ADD"
                     : isa<MaxPool2dOp>(op)       ? "MAX_POOL"
                     : isa<AvgPool2dOp>(op)       ? "AVG_POOL"
                     : isa<GlobalAvgPool2dOp>(op) ? "GLOBAL_AVG_POOL"
                     : isa<FlattenOp>(op)         ? "FLATTEN"
                                                  : "";
    if (kind.empty()) return op.emitOpError() << "has no place in the exported inference graph";
    int in[2] = {-1, -1};
    for (unsigned i = 0; i < op.getNumOperands() && i < 2; ++i) in[i] = valueIds.lookup(op.getOperand(i));
    int layer = isa<LayerOpInterface>(op) ? layerIndex++ : -1;
    int64_t win[6] = {0, 0, 0, 0, 0, 0};
    auto window = [&](auto pool) {
      ArrayRef<int64_t> k = pool.getKernel(), st = pool.getStrideOrKernel(), p = pool.getPadding();
      int64_t v[6] = {k[0], k[1], st[0], st[1], p[0], p[1]};
      std::copy(v, v + 6, win);
    };
    if (auto p = dyn_cast<MaxPool2dOp>(op)) window(p);
    if (auto p = dyn_cast<AvgPool2dOp>(op)) window(p);
    double params[2] = {0.0, 0.0};
    if (auto clip = dyn_cast<ClipOp>(op))
      params[0] = clip.getMin().convertToDouble(), params[1] = clip.getMax().convertToDouble();
    // A pool in ceil mode (an output larger than the floor formula): params[0] = 1.
    auto ceilMode = [&](auto pool) {
      auto in = cast<ShapedType>(pool.getInput().getType());
      auto out = cast<ShapedType>(pool.getOutput().getType());
      ArrayRef<int64_t> k = pool.getKernel(), st = pool.getStrideOrKernel(), p = pool.getPadding();
      for (int d = 0; d < 2; ++d)
        if (out.getDimSize(2 + d) != (in.getDimSize(2 + d) + 2 * p[d] - k[d]) / st[d] + 1)
          params[0] = 1.0;
    };
    if (auto p = dyn_cast<MaxPool2dOp>(op)) ceilMode(p);
    if (auto p = dyn_cast<AvgPool2dOp>(op)) ceilMode(p);
    if (auto slice = dyn_cast<SliceChannelsOp>(op))
      params[0] = double(slice.getOffset()),
      params[1] = double(cast<ShapedType>(slice.getType()).getDimSize(1));
    if (auto shuffle = dyn_cast<ShuffleChannelsOp>(op)) {
      auto t = cast<ShapedType>(shuffle.getType());
      params[0] = double(shuffle.getGroups());
      win[0] = t.getDimSize(2), win[1] = t.getDimSize(3);
    }
    if (auto act = dyn_cast<ActivationOp>(op); act && act.getAlpha())
      params[0] = act.getAlpha()->convertToDouble(), params[1] = act.getBeta()->convertToDouble();
    ns << llvm::formatv("  {{MEST_OP_{0}, {{{1}, {2}}, {3}, {{{4}, {5}}, {{{6}, {7}}, {{{8}, {9}}, "
                        "{{{10}f, {11}f}},\n",
                        kind, in[0], in[1], layer, win[0], win[1], win[2], win[3], win[4], win[5],
                        cDouble(params[0]), cDouble(params[1]));
    valueIds[op.getResult(0)] = ++numNodes;
  }
  std::string guard = "MEST_MODEL_" + StringRef(model.getSymName()).upper() + "_H";
  for (char &c : guard)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  os << "/* Generated by mestc from the model @" << cComment(model.getSymName()) << ". Do not edit. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include \"runtime/abi/mest_abi.h\"\n\n"
     << "#define MEST_MODEL_NAME \"" << cString(model.getSymName()) << "\"\n"
     << "#define MEST_MODEL_BATCH " << in.getDimSize(0) << "\n"
     << "#define MEST_MODEL_STATE_BYTES " << intAttr(model, MestDialect::getStateBytesAttrName())
     << "\n#define MEST_MODEL_ARENA_BYTES " << arena
     << "\n#define MEST_MODEL_INFER_ARENA_BYTES " << inferArena
     << "\n#define MEST_MODEL_SCRATCH_BYTES " << scratch << "\n\n"
     << "#ifdef MEST_DEFINE_MODEL_DESCRIPTOR\n"
     << taps << "static const mest_layer_desc mest_model_layers[] = {\n"
     << layers << "};\n"
     << "static const mest_graph_node mest_model_nodes[] = {\n" << nodes << "};\n"
     << llvm::formatv("static const mest_model_desc mest_model_desc_data = {{MEST_ABI_VERSION, "
                      "\"{0}\", {1}, {2}, {3}, {4}, {5}, {6}, {7}, {11}, {10}, {8}, "
                      "mest_model_layers, {9}ull, {12}, mest_model_nodes, {13}, {14}};\n",
                      cString(model.getSymName()), in.getDimSize(0), in.getDimSize(1),
                      in.getRank() == 4 ? in.getDimSize(2) : 1,
                      in.getRank() == 4 ? in.getDimSize(3) : 1, out.getDimSize(1),
                      intAttr(model, MestDialect::getStateBytesAttrName()), arena, count,
                      fingerprint, scratch, inferArena, numNodes, dataParallel, dropoutStream)
     << "const mest_model_desc *mest_model_descriptor(void) { return &mest_model_desc_data; }\n"
     << "#endif /* MEST_DEFINE_MODEL_DESCRIPTOR */\n\n#endif /* " << guard << " */\n";
  return text;
}
