//===- OnnxImporter.cpp - an ONNX inference graph as a mest model ---------===//
#include "tools/mest-import/OnnxImporter.h"

#include "tools/mest-import/OnnxConstants.h"

#include "runtime/formats/Scheme.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>

using namespace mlir;

namespace mest::onnx_import {

namespace {

/// What `describe` prints for an unsupported node.
constexpr const char *kSupported =
    "mest imports Conv (grouped too; 1x1 on a global pool's output), BatchNormalization, Relu, "
    "Clip, Sigmoid, HardSigmoid, HardSwish, Mul (x * Sigmoid(x), x * HardSigmoid(x), and "
    "[N, C, H, W] by [N, C, 1, 1]), Concat, Slice and Split of channels, the channel shuffle "
    "(Reshape, Transpose, Reshape), Add, MaxPool, AveragePool (ceil_mode too), "
    "GlobalAveragePool, ReduceMean (over H and W), Flatten, Reshape (to [N, C*H*W]), Gemm, MatMul (+ Add of a bias), "
    "Pad (in front of a Conv or pool), Identity, Dropout (trained with its ratio), and constant shape arithmetic "
    "(Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Transpose, Cast, "
    "ConstantOfShape, Add, Sub, Mul, Div)";

/// An activation of the graph: the mest value and its ONNX shape, which differs
/// for a global pool ([N, C, 1, 1] over a [N, C] value), plus a Pad that has not
/// yet been absorbed by the Conv or pool it feeds.
struct Activation {
  Value value;
  std::vector<int64_t> shape;
  int64_t padH = 0, padW = 0;  // pending symmetric zero padding
  // A channel shuffle under way (PyTorch's export of it): `shuffle` groups
  // once reshaped to [N, g, C/g, H, W] (the value is still the 4-D one),
  // `transposed` once its dimensions 1 and 2 are swapped.
  int64_t shuffle = 0;
  bool transposed = false;
  bool pending() const { return padH || padW; }
};

using Shape = std::vector<int64_t>;

std::string shapeText(const Shape &s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

class Importer {
public:
  Importer(const onnx::ModelProto &model, MLIRContext &ctx, const ImportOptions &options,
           tools::LayerPolicies &policies)
      : graph(model.graph()), b(&ctx), options(options), policies(policies) {}

  ImportResult run();

private:
  const onnx::GraphProto &graph;
  OpBuilder b;
  const ImportOptions &options;
  tools::LayerPolicies &policies;
  ImportResult result;

  std::map<std::string, Constant> constants;
  std::map<std::string, Activation> activations;
  std::map<std::string, std::string> unusable;  // value name -> why it cannot be read
  std::map<std::string, int> uses;
  std::map<std::string, LinearOp> biasless;      // MatMul results an Add may complete
  // x * Sigmoid(x) and x * HardSigmoid(x): the Mul node's index -> the
  // activation node it absorbs (which then emits nothing).
  std::map<int, int> gatedMul;
  std::set<int> absorbed;
  llvm::StringSet<> layerNames;
  int firstConv = -1, lastLinear = -1, nodeIndex = 0;
  int64_t fileBatch = -1;  // the input's batch in the file, when fixed
  Location loc = b.getUnknownLoc();

  const onnx::NodeProto *node = nullptr;
  std::string what() const {
    return node->name().empty()
               ? "node #" + std::to_string(nodeIndex) + " (" + node->op_type() + ")"
               : describe(*node);
  }
  [[noreturn]] void fail(const std::string &msg) const { throw ImportError(what() + ": " + msg); }

  RankedTensorType f32(const Shape &s) { return RankedTensorType::get(s, b.getF32Type()); }
  const Constant *constantOf(const std::string &name) const {
    auto it = constants.find(name);
    return it == constants.end() ? nullptr : &it->second;
  }
  const Activation &activation(int i);
  const Constant &constant(int i, const std::string &role);
  const Constant *optionalConstant(int i, const std::string &role);
  void define(const Activation &a, int output = 0);
  void poisonOtherOutputs(int from, const std::string &why);

  std::string layerName(const std::string &weight);
  SparsityAttr policyOf(const std::string &name, bool isConv, int64_t O, int64_t I, int64_t kh,
                        int64_t kw, int64_t groups = 1);
  void keep(const std::string &file, const Shape &shape, const std::vector<double> &values);

  void input();
  void visit();
  void conv();
  void pointwiseOnVector(const Activation &x, const Constant &w, const Constant *bias,
                         int64_t groups);
  void batchNorm();
  void pool(bool isMax);
  void pad();
  void linear(bool isGemm);
  void add();
  void mul();
  void concat();
  void slice();
  void split();
  void transpose();
  void sliceChannels(const Activation &x, int64_t begin, int64_t end, int output);
  void activationNode(mest::Activation kind, int from);
  void findGatedMuls();
  void flattenTo2d(const Activation &x);
  void reshape();
  std::pair<int64_t, int64_t> windowPads(const Shape &in, int64_t kh, int64_t kw, int64_t sh,
                                         int64_t sw, bool allowCeil);
};

const Activation &Importer::activation(int i) {
  if (i >= node->input_size() || node->input(i).empty()) fail("input " + std::to_string(i) + " is missing");
  const std::string &name = node->input(i);
  if (auto it = activations.find(name); it != activations.end()) return it->second;
  if (auto it = unusable.find(name); it != unusable.end()) fail("reads '" + name + "', " + it->second);
  if (constants.count(name))
    fail("input '" + name + "' is a constant where mest expects an activation");
  fail("input '" + name + "' is produced by no earlier node and is not an initializer");
}

const Constant &Importer::constant(int i, const std::string &role) {
  if (const Constant *c = optionalConstant(i, role)) return *c;
  fail("the " + role + " (input " + std::to_string(i) + ") is missing");
}

const Constant *Importer::optionalConstant(int i, const std::string &role) {
  if (i >= node->input_size() || node->input(i).empty()) return nullptr;
  const std::string &name = node->input(i);
  if (const Constant *c = constantOf(name)) return c;
  if (activations.count(name))
    fail("the " + role + " '" + name + "' is computed by the graph; mest needs it as an "
         "initializer (a trained parameter or constant)");
  fail("the " + role + " '" + name + "' is neither an initializer nor produced by an earlier node");
}

void Importer::define(const Activation &a, int output) {
  if (output < node->output_size() && !node->output(output).empty())
    activations[node->output(output)] = a;
}

void Importer::poisonOtherOutputs(int from, const std::string &why) {
  for (int i = from; i < node->output_size(); ++i)
    if (!node->output(i).empty()) unusable[node->output(i)] = why;
}

std::string Importer::layerName(const std::string &weight) {
  std::string name;
  llvm::StringRef w(weight);
  if (w.ends_with(".weight") && !w.starts_with("onnx::")) {
    name = w.drop_back(7).str();
  } else {
    llvm::StringRef n(node->name());
    n.consume_front("/");
    if (n.ends_with("/" + node->op_type())) n = n.drop_back(node->op_type().size() + 1);
    // PyTorch scopes repeat a container's name in its children's
    // ("/b2/sc/sc.0/Conv" is module b2.sc.0): a component that extends the
    // previous one replaces it, so both export modes name layers alike.
    SmallVector<StringRef> parts;
    n.split(parts, '/', -1, false);
    SmallVector<std::string> kept;
    for (StringRef p : parts) {
      if (!kept.empty() && p.starts_with(kept.back() + ".")) kept.pop_back();
      kept.push_back(p.str());
    }
    name = llvm::join(kept, ".");
  }
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  if (name.empty()) {
    name = llvm::StringRef(node->op_type()).lower() + "_" + std::to_string(nodeIndex);
  }
  std::string unique = name;
  for (int k = 1; layerNames.contains(unique); ++k) unique = name + "_" + std::to_string(k);
  layerNames.insert(unique);
  return unique;
}

SparsityAttr Importer::policyOf(const std::string &name, bool isConv, int64_t O, int64_t I,
                                int64_t kh, int64_t kw, int64_t groups) {
  bool inSparseSet = isConv ? nodeIndex != firstConv : nodeIndex != lastLinear;
  SparsityAttr sp = policies.of(name, inSparseSet);
  if (policies.overrides.count(name) || sp.isDense()) return sp;
  // A default sparse layer the scheme cannot apply to stays dense, with a note.
  std::string why;
  Scheme s = sp.getScheme();
  if (!isConv && (s == Scheme::pattern || s == Scheme::channel))
    why = "a linear layer takes dense, unstructured or block";
  else if (groups > 1)
    // Few weights per filter (9 in a depthwise 3x3): sparsity there saves little
    // work and costs accuracy, as the MEST setup keeps them; --override can
    // still make one unstructured.
    why = "a grouped convolution (group=" + std::to_string(groups) +
          ") stays dense by default; it takes dense or unstructured";
  else if (s == Scheme::pattern && (kh != 3 || kw != 3))
    why = "pattern needs a 3x3 kernel";
  else if (s == Scheme::block && (O % sp.getBlockRows() || (I * kh * kw) % sp.getBlockCols()))
    why = "its shape does not divide into blocks";
  else if (rt::activeWeights(static_cast<rt::Scheme>(s), rt::WeightShape{O, I, kh, kw},
                             sp.getTargetSparsity(), sp.getBlockRows()) <= 0)
    why = "the target would keep no weight";
  if (why.empty()) return sp;
  result.notes.push_back("layer " + name + " stays dense: " + why);
  return SparsityAttr::getDense(b.getContext());
}

void Importer::keep(const std::string &file, const Shape &shape, const std::vector<double> &v) {
  InitialTensor t{file, shape, {}};
  t.values.reserve(v.size());
  for (double x : v) {
    if (!std::isfinite(x)) throw ImportError("initializer of " + file + " holds a non-finite value");
    t.values.push_back(static_cast<float>(x));
  }
  result.tensors.push_back(std::move(t));
}

/// Padding [h, w] of a window op with output size by the floor formula, from
/// `pads`/`auto_pad`; ceil_mode is accepted only where it gives the same size.
std::pair<int64_t, int64_t> Importer::windowPads(const Shape &in, int64_t kh, int64_t kw,
                                                 int64_t sh, int64_t sw, bool allowCeil) {
  std::vector<int64_t> pads = intsAttribute(*node, "pads");
  std::string autoPad = stringAttribute(*node, "auto_pad");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    pads.assign(4, 0);
    for (int d = 0; d < 2; ++d) {
      int64_t size = in[2 + d], k = d ? kw : kh, s = d ? sw : sh;
      int64_t total = std::max<int64_t>(((size + s - 1) / s - 1) * s + k - size, 0);
      int64_t small = total / 2, large = total - small;
      pads[d] = autoPad == "SAME_UPPER" ? small : large;
      pads[d + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad == "VALID") {
    pads.assign(4, 0);
  } else if (!autoPad.empty() && autoPad != "NOTSET") {
    fail("auto_pad '" + autoPad + "' is not an ONNX value");
  }
  if (pads.empty()) pads.assign(4, 0);
  if (pads.size() != 4) fail("expected 4 pads for a 2-D window, got " + std::to_string(pads.size()));
  if (pads[0] != pads[2] || pads[1] != pads[3])
    fail("asymmetric padding " + shapeText(pads) +
         " (begin and end differ); mest pads both sides of a dimension equally");
  for (int64_t p : pads)
    if (p < 0) fail("negative padding " + shapeText(pads));
  if (intAttribute(*node, "ceil_mode", 0) && !allowCeil) {
    for (int d = 0; d < 2; ++d) {
      int64_t span = in[2 + d] + 2 * pads[d] - (d ? kw : kh), s = d ? sw : sh;
      if (span % s != 0) fail("ceil_mode=1 gives a larger output than floor here");
    }
  }
  for (int64_t d : intsAttribute(*node, "dilations"))
    if (d != 1) fail("dilation " + std::to_string(d) + "; mest has no dilated windows");
  return {pads[0], pads[1]};
}

void Importer::input() {
  std::set<std::string> inits;
  for (const auto &t : graph.initializer()) inits.insert(t.name());
  const onnx::ValueInfoProto *in = nullptr;
  for (const auto &v : graph.input()) {
    if (inits.count(v.name())) continue;
    if (in)
      throw ImportError("the graph has inputs '" + in->name() + "' and '" + v.name() +
                        "'; a mest model takes one image batch (make the others initializers)");
    in = &v;
  }
  if (!in) throw ImportError("the graph has no input (every input is an initializer)");
  const auto &tt = in->type().tensor_type();
  if (!in->type().has_tensor_type() || tt.elem_type() != onnx::TensorProto::FLOAT)
    throw ImportError("input '" + in->name() + "' is not a float32 tensor");
  const int rank = tt.shape().dim_size();
  if (rank != 4 && rank != 2)
    throw ImportError("input '" + in->name() + "' has rank " + std::to_string(rank) +
                      "; a mest model takes [N, C, H, W] images or [N, features] vectors");
  Shape s{options.batch};
  if (tt.shape().dim(0).has_dim_value()) fileBatch = tt.shape().dim(0).dim_value();
  for (int i = 1; i < rank; ++i) {
    const auto &d = tt.shape().dim(i);
    if (!d.has_dim_value() || d.dim_value() <= 0)
      throw ImportError("input '" + in->name() + "': dimension " + std::to_string(i) +
                        " must be a fixed size > 0 (only the batch may be symbolic)");
    s.push_back(d.dim_value());
  }
  activations[in->name()] = Activation{Value(), s};
}

/// A model's function takes [N, C, H, W]; vectors [N, F] arrive as [N, F, 1, 1].
static Shape functionInputShape(const Shape &s) {
  return s.size() == 2 ? Shape{s[0], s[1], 1, 1} : s;
}

ImportResult Importer::run() {
  for (const auto &t : graph.initializer()) {
    if (t.name().empty()) throw ImportError("an initializer has no name");
    constants[t.name()] = fromTensor(t, "initializer '" + t.name() + "'");
  }
  if (graph.sparse_initializer_size())
    throw ImportError("the graph has sparse initializers; mest imports dense initializers");
  input();
  for (const auto &n : graph.node())
    for (const auto &i : n.input()) ++uses[i];
  findGatedMuls();
  for (int i = 0; i < graph.node_size(); ++i) {
    const std::string &op = graph.node(i).op_type();
    if (op == "Conv" && firstConv < 0) firstConv = i;
    if (op == "Gemm" || op == "MatMul") lastLinear = i;
  }
  if (graph.output_size() != 1)
    throw ImportError("the graph has " + std::to_string(graph.output_size()) +
                      " outputs; a mest model returns one logits tensor");

  auto module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module.getBody());
  const Activation &in = activations.begin()->second;
  Shape inShape = in.shape;
  std::string inName = activations.begin()->first;
  // The function's result type is set once the output is known.
  auto func = b.create<func::FuncOp>(loc, options.name,
                                     b.getFunctionType({f32(functionInputShape(inShape))}, {}));
  func->setAttr(MestDialect::getModelAttrName(), b.getUnitAttr());
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  activations[inName].value = body->getArgument(0);
  if (inShape.size() == 2)
    activations[inName].value = b.create<FlattenOp>(loc, f32(inShape), body->getArgument(0));
  result.module = module;

  for (nodeIndex = 0; nodeIndex < graph.node_size(); ++nodeIndex) {
    node = &graph.node(nodeIndex);
    loc = NameLoc::get(b.getStringAttr(node->name().empty() ? node->op_type() : node->name()));
    visit();
  }
  const std::string &outName = graph.output(0).name();
  auto it = activations.find(outName);
  if (it == activations.end())
    throw ImportError("the graph's output '" + outName + "' is not an activation of the graph");
  const Activation &out = it->second;
  auto outType = dyn_cast<RankedTensorType>(out.value.getType());
  if (out.shape.size() != 2 || outType.getRank() != 2)
    throw ImportError("the graph's output '" + outName + "' has shape " + shapeText(out.shape) +
                      "; a mest model returns [N, classes] logits");
  if (out.value == activations[inName].value && inShape.size() == 4)
    throw ImportError("the graph computes nothing");
  b.create<func::ReturnOp>(loc, out.value);
  func.setFunctionType(b.getFunctionType({f32(functionInputShape(inShape))}, {outType}));
  if (std::string unused = policies.unusedOverride(); !unused.empty())
    throw ImportError("--override: the model has no Conv or linear layer named '" + unused +
                      "' (layer names are listed with --list-layers)");
  if (failed(verify(module)))
    throw ImportError("the imported model does not verify (see the diagnostics above)");
  return std::move(result);
}

void Importer::visit() {
  const std::string &op = node->op_type();
  if (!node->domain().empty() && node->domain() != "ai.onnx")
    fail("operator domain '" + node->domain() + "' is not supported; " + kSupported);
  // Constant arithmetic: every input a constant (or the shape of an activation).
  if (op == "Shape") {
    const Constant *k = node->input_size() ? constantOf(node->input(0)) : nullptr;
    const Shape shape = k ? k->dims : activation(0).shape;
    Constant c{onnx::TensorProto::INT64, {int64_t(shape.size())}, {}};
    int64_t rank = int64_t(shape.size());
    int64_t start = intAttribute(*node, "start", 0), end = intAttribute(*node, "end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank), end = std::clamp<int64_t>(end, start, rank);
    for (int64_t i = start; i < end; ++i) c.values.push_back(double(shape[i]));
    c.dims = {end - start};
    constants[node->output(0)] = c;
    return;
  }
  bool allConstant = true;
  std::vector<const Constant *> ins;
  for (const auto &i : node->input()) {
    const Constant *c = i.empty() ? nullptr : constantOf(i);
    if (!i.empty() && !c) allConstant = false;
    ins.push_back(c);
  }
  if (allConstant && isFoldable(op)) {
    constants[node->output(0)] = foldConstant(*node, ins);
    return;
  }
  if (op == "Conv") return conv();
  if (op == "BatchNormalization") return batchNorm();
  if (op == "MaxPool") return pool(true);
  if (op == "AveragePool") return pool(false);
  if (op == "Pad") return pad();
  if (op == "Gemm") return linear(true);
  if (op == "MatMul") return linear(false);
  if (op == "Add") return add();
  if (op == "Mul") return mul();
  if (op == "Concat") return concat();
  if (op == "Slice") return slice();
  if (op == "Split") return split();
  if (op == "Transpose") return transpose();
  if (op == "Sigmoid" || op == "HardSigmoid") {
    if (absorbed.count(nodeIndex)) return;  // emitted by the Mul it gates
    return activationNode(op == "Sigmoid" ? mest::Activation::sigmoid : mest::Activation::hard_sigmoid,
                          nodeIndex);
  }
  if (op == "HardSwish") return activationNode(mest::Activation::hard_swish, nodeIndex);
  if (op == "Reshape") return reshape();
  if (op == "Relu") {
    const Activation &x = activation(0);
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    return define({b.create<ReluOp>(loc, x.value.getType(), x.value), x.shape});
  }
  if (op == "Clip") {
    const Activation &x = activation(0);
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    // Opset 11 on: the bounds are optional constant inputs; before, attributes.
    auto bound = [&](int i, const char *role, double otherwise) {
      if (const Constant *c = optionalConstant(i, role)) {
        if (c->numel() != 1) fail(std::string("the ") + role + " bound must be one value");
        return c->values[0];
      }
      return double(floatAttribute(*node, role, float(otherwise)));
    };
    const double inf = std::numeric_limits<double>::infinity();
    const double lo = bound(1, "min", -inf), hi = bound(2, "max", inf);
    if (std::isnan(lo) || std::isnan(hi) || lo > hi)
      fail("bounds [" + std::to_string(lo) + ", " + std::to_string(hi) + "] are not an interval");
    if (lo == 0.0 && std::isinf(hi)) return define({b.create<ReluOp>(loc, x.value.getType(), x.value), x.shape});
    if (std::isinf(lo) || std::isinf(hi))
      fail("a one-sided clip other than max(x, 0); mest clips to finite bounds");
    return define({b.create<ClipOp>(loc, x.value.getType(), x.value, b.getF64FloatAttr(lo),
                                    b.getF64FloatAttr(hi)),
                   x.shape});
  }
  if (op == "Identity") return define(activation(0));
  if (op == "Dropout") {
    // The ratio is an attribute before opset 12, an optional constant input
    // from then on; training_mode says how ONNX inference runs it, while mest
    // trains with the ratio and leaves dropout out of evaluation either way.
    Activation x = activation(0);
    poisonOtherOutputs(1, "the dropout mask, which mest does not keep (backward recomputes it)");
    double ratio = floatAttribute(*node, "ratio", 0.5f);
    if (const Constant *c = optionalConstant(1, "ratio")) {
      if (c->numel() != 1) fail("the ratio must be one value");
      ratio = c->values[0];
    }
    if (!(ratio >= 0.0 && ratio < 1.0)) fail("ratio " + std::to_string(ratio) + " is not in [0, 1)");
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    if (ratio == 0.0) return define(x);
    Value v = b.create<DropoutOp>(loc, x.value.getType(), x.value, b.getF64FloatAttr(ratio));
    return define({v, x.shape});
  }
  if (op == "GlobalAveragePool") {
    const Activation &x = activation(0);
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    if (x.shape.size() != 4 || cast<RankedTensorType>(x.value.getType()).getRank() != 4)
      fail("expects a [N, C, H, W] activation, got " + shapeText(x.shape));
    Value v = b.create<GlobalAvgPool2dOp>(loc, f32({x.shape[0], x.shape[1]}), x.value);
    return define({v, {x.shape[0], x.shape[1], 1, 1}});
  }
  if (op == "ReduceMean") {  // x.mean([2, 3]): a global average pool
    const Activation &x = activation(0);
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    if (x.shape.size() != 4 || cast<RankedTensorType>(x.value.getType()).getRank() != 4)
      fail("expects a [N, C, H, W] activation, got " + shapeText(x.shape));
    std::vector<int64_t> axes = intsAttribute(*node, "axes");  // before opset 18
    if (const Constant *a = optionalConstant(1, "axes")) axes = a->ints(what() + " axes");
    for (int64_t &a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<int64_t>{2, 3})
      fail("reduces axes " + shapeText(axes) + "; mest averages over H and W (axes 2, 3) only");
    Value v = b.create<GlobalAvgPool2dOp>(loc, f32({x.shape[0], x.shape[1]}), x.value);
    if (intAttribute(*node, "keepdims", 1)) return define({v, {x.shape[0], x.shape[1], 1, 1}});
    return define({v, {x.shape[0], x.shape[1]}});
  }
  if (op == "Flatten") {
    const Activation &x = activation(0);
    int64_t axis = intAttribute(*node, "axis", 1);
    if (axis < 0) axis += int64_t(x.shape.size());
    if (axis != 1) fail("axis " + std::to_string(axis) + "; mest flattens [N, ...] to [N, rest] (axis 1)");
    return flattenTo2d(x);
  }
  fail(std::string("operator not supported; ") + kSupported);
}

void Importer::flattenTo2d(const Activation &x) {
  if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
  auto type = cast<RankedTensorType>(x.value.getType());
  int64_t rest = 1;
  for (size_t i = 1; i < x.shape.size(); ++i) rest *= x.shape[i];
  if (type.getRank() == 2) return define({x.value, {x.shape[0], rest}});
  if (type.getRank() != 4) fail("expects a 2-D or 4-D activation");
  define({b.create<FlattenOp>(loc, f32({x.shape[0], rest}), x.value), {x.shape[0], rest}});
}

void Importer::reshape() {
  const Activation &x = activation(0);
  std::vector<int64_t> target = constant(1, "shape").ints(what() + " shape");
  // An exporter that knew the batch may have folded it into the shape.
  if (target.size() >= 2 && target[0] == fileBatch) target[0] = x.shape[0];
  Shape dims;
  int64_t known = 1, infer = -1, numel = 1;
  for (int64_t d : x.shape) numel *= d;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !intAttribute(*node, "allowzero", 0) && i < x.shape.size()) d = x.shape[i];
    if (d == -1 && infer < 0) infer = int64_t(i);
    else if (d <= 0) fail("shape " + shapeText(target) + " is not supported");
    else known *= d;
    dims.push_back(d);
  }
  if (infer >= 0) dims[infer] = numel / known;
  if (dims == x.shape && !x.shuffle) return define(x);
  auto rank = cast<RankedTensorType>(x.value.getType()).getRank();
  // Channel shuffle as PyTorch exports it: [N, C, H, W] -> [N, g, C/g, H, W],
  // Transpose(0, 2, 1, 3, 4), then back to [N, C, H, W].
  if (!x.shuffle && x.shape.size() == 4 && rank == 4 && dims.size() == 5 &&
      dims[0] == x.shape[0] && dims[1] * dims[2] == x.shape[1] && dims[3] == x.shape[2] &&
      dims[4] == x.shape[3]) {
    Activation a = x;
    a.shape = dims;
    a.shuffle = dims[1];
    return define(a);
  }
  if (x.shuffle) {
    const Shape back{x.shape[0], x.shape[1] * x.shape[2], x.shape[3], x.shape[4]};
    if (!x.transposed || dims != back)
      fail("reshapes the 5-D " + shapeText(x.shape) + "; mest takes 5-D shapes only as a channel "
           "shuffle (reshape to [N, g, C/g, H, W], Transpose(0, 2, 1, 3, 4), reshape back)");
    Value y = b.create<ShuffleChannelsOp>(loc, x.value.getType(), x.value,
                                          b.getI64IntegerAttr(x.shuffle));
    return define({y, back});
  }
  if (dims.size() == 2 && dims[0] == x.shape[0] && dims[1] * dims[0] == numel) return flattenTo2d(x);
  fail("reshapes " + shapeText(x.shape) + " to " + shapeText(dims) +
       "; mest reshapes only [N, ...] to [N, rest] (a flatten)");
}

void Importer::pad() {
  Activation x = activation(0);
  if (x.shape.size() != 4) fail("pads a " + shapeText(x.shape) + " activation; mest pads [N, C, H, W] images");
  std::string mode = stringAttribute(*node, "mode");
  if (!mode.empty() && mode != "constant") fail("mode '" + mode + "'; mest pads with zeros only");
  std::vector<int64_t> pads;
  double value = floatAttribute(*node, "value", 0.0f);
  if (const Constant *p = optionalConstant(1, "pads")) pads = p->ints(what() + " pads");
  else pads = intsAttribute(*node, "pads");
  if (const Constant *v = optionalConstant(2, "constant value")) {
    if (v->values.size() != 1) fail("the constant value must hold one element");
    value = v->values[0];
  }
  if (node->input_size() > 3 && !node->input(3).empty()) fail("the axes input is not supported");
  if (pads.size() != 8) fail("expected 8 pads for [N, C, H, W], got " + std::to_string(pads.size()));
  if (pads[0] || pads[1] || pads[4] || pads[5]) fail("pads the batch or channel dimension");
  if (pads[2] != pads[6] || pads[3] != pads[7])
    fail("asymmetric padding " + shapeText(pads) + "; mest pads both sides of a dimension equally");
  if (pads[2] < 0 || pads[3] < 0) fail("negative padding (cropping) is not supported");
  if (value != 0.0) fail("pads with " + std::to_string(value) + "; mest pads with zeros only");
  x.padH += pads[2];
  x.padW += pads[3];
  x.shape[2] += 2 * pads[2];
  x.shape[3] += 2 * pads[3];
  define(x);
}

void Importer::conv() {
  const Activation &x = activation(0);
  const Constant &w = constant(1, "weight");
  const Constant *bias = optionalConstant(2, "bias");
  if (x.shape.size() != 4) fail("convolves a " + shapeText(x.shape) + " activation; mest convolves [N, C, H, W]");
  if (w.dims.size() != 4) fail("weight of rank " + std::to_string(w.dims.size()) + "; mest convolves in 2-D (weights [O, C, kh, kw])");
  const int64_t groups = intAttribute(*node, "group", 1);
  const int64_t O = w.dims[0], C = w.dims[1], kh = w.dims[2], kw = w.dims[3];
  if (cast<RankedTensorType>(x.value.getType()).getRank() == 2)
    return pointwiseOnVector(x, w, bias, groups);
  // Sizes of the unpadded input: a pending Pad adds to the conv's own padding.
  Shape in = {x.shape[0], x.shape[1], x.shape[2] - 2 * x.padH, x.shape[3] - 2 * x.padW};
  if (groups < 1 || in[1] % groups || O % groups)
    fail("group=" + std::to_string(groups) + " must divide the " + std::to_string(in[1]) +
         " input and the " + std::to_string(O) + " output channels");
  if (C * groups != in[1]) fail("weight " + shapeText(w.dims) + " with group=" + std::to_string(groups) + " expects " + std::to_string(C * groups) + " input channels, the input has " + std::to_string(in[1]));
  std::vector<int64_t> k = intsAttribute(*node, "kernel_shape");
  if (!k.empty() && k != Shape{kh, kw}) fail("kernel_shape " + shapeText(k) + " differs from the weight's " + shapeText({kh, kw}));
  std::vector<int64_t> s = intsAttribute(*node, "strides");
  if (s.empty()) s = {1, 1};
  if (s.size() != 2) fail("expected 2 strides");
  auto [ph, pw] = windowPads(x.shape, kh, kw, s[0], s[1], false);
  ph += x.padH, pw += x.padW;
  if (bias && (bias->numel() != O)) fail("bias of " + std::to_string(bias->numel()) + " values for " + std::to_string(O) + " filters");
  int64_t oh = (in[2] + 2 * ph - kh) / s[0] + 1, ow = (in[3] + 2 * pw - kw) / s[1] + 1;
  if (oh <= 0 || ow <= 0) fail("the kernel is larger than the padded input");
  std::string name = layerName(node->input(1));
  SparsityAttr sp = policyOf(name, true, O, C, kh, kw, groups);
  Value y = b.create<Conv2dOp>(loc, f32({in[0], O, oh, ow}), x.value, b.getStringAttr(name),
                               b.getI64IntegerAttr(O), b.getDenseI64ArrayAttr({kh, kw}),
                               b.getDenseI64ArrayAttr({s[0], s[1]}), b.getDenseI64ArrayAttr({ph, pw}),
                               b.getBoolAttr(bias != nullptr), b.getI64IntegerAttr(groups),
                               sp.isDense() ? SparsityAttr() : sp);
  keep(name + ".weight", w.dims, w.values);
  if (bias) keep(name + ".bias", {O}, bias->values);
  define({y, {in[0], O, oh, ow}});
}

/// A 1x1 Conv on a global pool's [N, C, 1, 1] output (the squeeze of a
/// squeeze-and-excitation block): a linear layer on the [N, C] value, its
/// output again [N, O, 1, 1] to ONNX.
void Importer::pointwiseOnVector(const Activation &x, const Constant &w, const Constant *bias,
                                 int64_t groups) {
  const int64_t O = w.dims[0], C = w.dims[1];
  std::vector<int64_t> s = intsAttribute(*node, "strides"), pads = intsAttribute(*node, "pads");
  const bool unit = std::all_of(s.begin(), s.end(), [](int64_t v) { return v == 1; }) &&
                    std::all_of(pads.begin(), pads.end(), [](int64_t v) { return v == 0; });
  if (w.dims[2] != 1 || w.dims[3] != 1 || groups != 1 || !unit || x.shape[2] != 1 || x.shape[3] != 1)
    fail("convolves the [N, C, 1, 1] output of a global pool with weight " + shapeText(w.dims) +
         "; mest takes a 1x1 kernel, stride 1, no padding, group 1 there");
  if (C != x.shape[1]) fail("weight " + shapeText(w.dims) + " expects " + std::to_string(C) + " input channels, the input has " + std::to_string(x.shape[1]));
  if (bias && bias->numel() != O) fail("bias of " + std::to_string(bias->numel()) + " values for " + std::to_string(O) + " filters");
  std::string name = layerName(node->input(1));
  SparsityAttr sp = policyOf(name, false, O, C, 1, 1);
  auto op = b.create<LinearOp>(loc, f32({x.shape[0], O}), x.value, b.getStringAttr(name),
                               b.getI64IntegerAttr(O), b.getBoolAttr(bias != nullptr),
                               sp.isDense() ? SparsityAttr() : sp);
  keep(name + ".weight", {O, C}, w.values);
  if (bias) keep(name + ".bias", {O}, bias->values);
  define({op.getResult(), {x.shape[0], O, 1, 1}});
}

void Importer::batchNorm() {
  const Activation &x = activation(0);
  if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
  if (x.shape.size() != 4 && x.shape.size() != 2)
    fail("normalises a " + shapeText(x.shape) + " activation; mest takes [N, C, H, W] or [N, C]");
  if (cast<RankedTensorType>(x.value.getType()).getRank() != int64_t(x.shape.size()))
    fail("normalises the [N, C, 1, 1] output of a global pool; flatten it first");
  const int64_t C = x.shape[1];
  const char *roles[] = {"scale", "shift", "mean", "var"};
  const Constant *p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = &constant(i + 1, roles[i]);
    if (p[i]->numel() != C) fail(std::string("the ") + roles[i] + " has " + std::to_string(p[i]->numel()) + " values for " + std::to_string(C) + " channels");
  }
  for (double v : p[3]->values)
    if (!(v >= 0)) fail("a running variance is negative or not a number");
  double eps = floatAttribute(*node, "epsilon", 1e-5f), momentum = floatAttribute(*node, "momentum", 0.9f);
  if (!(eps > 0)) fail("epsilon must be > 0");
  if (!(momentum >= 0 && momentum <= 1)) fail("momentum must be in [0, 1]");
  if (intAttribute(*node, "spatial", 1) != 1) fail("spatial=0 (per-position statistics) is not supported");
  poisonOtherOutputs(1, "a running statistic of training-mode batch norm; mest keeps those in its state");
  std::string name = layerName(node->input(1));
  // ONNX's momentum weighs the old running value, mest's (PyTorch's) the new batch.
  // Attributes are float32 in ONNX: the shortest decimal that reads back as the
  // same float (1e-5, not 9.99999974e-6), and 1 - momentum rounded alike.
  auto decimal = [](float f) {
    for (int digits = 1; digits < 9; ++digits) {
      char text[32];
      std::snprintf(text, sizeof text, "%.*g", digits, double(f));
      if (std::strtof(text, nullptr) == f) return std::strtod(text, nullptr);
    }
    return double(f);
  };
  double mestMomentum = std::round((1.0 - decimal(float(momentum))) * 1e9) / 1e9;
  Value y = b.create<BatchNormOp>(loc, x.value.getType(), x.value, b.getStringAttr(name),
                                  b.getF64FloatAttr(decimal(float(eps))),
                                  b.getF64FloatAttr(mestMomentum));
  const char *files[] = {".scale", ".shift", ".mean", ".var"};
  for (int i = 0; i < 4; ++i) keep(name + files[i], {C}, p[i]->values);
  define({y, x.shape});
}

void Importer::pool(bool isMax) {
  const Activation &x = activation(0);
  if (x.shape.size() != 4 || cast<RankedTensorType>(x.value.getType()).getRank() != 4)
    fail("pools a " + shapeText(x.shape) + " activation; mest pools [N, C, H, W] in 2-D");
  if (x.pending())
    fail(isMax ? "a Pad in front: padded zeros could win the max, which mest's max pool never lets them"
               : "a Pad in front: its zeros count in the average (count_include_pad); mest's "
                 "average counts only the image");
  std::vector<int64_t> k = intsAttribute(*node, "kernel_shape");
  if (k.size() != 2) fail("expected a 2-D kernel_shape");
  std::vector<int64_t> s = intsAttribute(*node, "strides");
  if (s.empty()) s = {1, 1};
  if (s.size() != 2) fail("expected 2 strides");
  if (isMax && intAttribute(*node, "storage_order", 0)) fail("storage_order=1 is not supported");
  auto [ph, pw] = windowPads(x.shape, k[0], k[1], s[0], s[1], true);
  if (!isMax && (ph || pw) && intAttribute(*node, "count_include_pad", 0))
    fail("count_include_pad=1 with padding; mest's average counts only the image");
  if (2 * ph > k[0] || 2 * pw > k[1]) fail("padding larger than half the kernel");
  poisonOtherOutputs(1, "the indices of a max pool, which mest does not produce");
  // ceil_mode: the last window may run past the bottom or right edge (clipped
  // there, as at the padding), as long as it starts inside the input or its
  // leading padding (PyTorch's rule).
  const bool ceil = intAttribute(*node, "ceil_mode", 0);
  auto outSize = [&](int64_t size, int64_t kk, int64_t st, int64_t pad) {
    int64_t span = size + 2 * pad - kk;
    if (span < 0) fail("the window is larger than the padded input");
    int64_t o = (ceil ? (span + st - 1) / st : span / st) + 1;
    if (ceil && (o - 1) * st >= size + pad)
      fail("ceil_mode=1 with a last window that would start in the padding: PyTorch and "
           "ONNX disagree on its size; export with ceil_mode=False");
    return o;
  };
  const int64_t oh = outSize(x.shape[2], k[0], s[0], ph), ow = outSize(x.shape[3], k[1], s[1], pw);
  if (ceil && !isMax && intAttribute(*node, "count_include_pad", 0) &&
      (oh != (x.shape[2] + 2 * ph - k[0]) / s[0] + 1 || ow != (x.shape[3] + 2 * pw - k[1]) / s[1] + 1))
    fail("ceil_mode=1 with count_include_pad=1; mest's average counts only the image");
  Shape out{x.shape[0], x.shape[1], oh, ow};
  auto kernel = b.getDenseI64ArrayAttr(k), stride = b.getDenseI64ArrayAttr(s),
       padding = b.getDenseI64ArrayAttr({ph, pw});
  Value y = isMax ? b.create<MaxPool2dOp>(loc, f32(out), x.value, kernel, stride, padding).getResult()
                  : b.create<AvgPool2dOp>(loc, f32(out), x.value, kernel, stride, padding).getResult();
  define({y, out});
}

void Importer::linear(bool isGemm) {
  const Activation &x = activation(0);
  if (x.shape.size() != 2 || cast<RankedTensorType>(x.value.getType()).getRank() != 2)
    fail("multiplies a " + shapeText(x.shape) + " activation; mest's linear layers take [N, features] (flatten first)");
  const Constant &w = constant(1, "weight");
  if (w.dims.size() != 2) fail("weight of rank " + std::to_string(w.dims.size()) + "; expected a matrix");
  bool transB = isGemm && intAttribute(*node, "transB", 0);
  if (isGemm && intAttribute(*node, "transA", 0)) fail("transA=1 would multiply across the batch");
  const int64_t I = transB ? w.dims[1] : w.dims[0], O = transB ? w.dims[0] : w.dims[1];
  if (I != x.shape[1]) fail("weight " + shapeText(w.dims) + " takes " + std::to_string(I) + " features, the input has " + std::to_string(x.shape[1]));
  double alpha = isGemm ? floatAttribute(*node, "alpha", 1.0f) : 1.0;
  double beta = isGemm ? floatAttribute(*node, "beta", 1.0f) : 1.0;
  std::vector<double> weight(O * I);  // [O, I], alpha folded in
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i)
      weight[o * I + i] = alpha * (transB ? w.values[o * I + i] : w.values[i * O + o]);
  const Constant *c = isGemm ? optionalConstant(2, "bias") : nullptr;
  std::vector<double> bias;
  if (c) {
    if (c->numel() == O) bias = c->values;
    else if (c->numel() == 1) bias.assign(O, c->values[0]);
    else fail("bias of shape " + shapeText(c->dims) + "; mest adds one bias per output [" + std::to_string(O) + "]");
    for (double &v : bias) v *= beta;
  }
  std::string name = layerName(node->input(1));
  SparsityAttr sp = policyOf(name, false, O, I, 1, 1);
  auto op = b.create<LinearOp>(loc, f32({x.shape[0], O}), x.value, b.getStringAttr(name),
                               b.getI64IntegerAttr(O), b.getBoolAttr(c != nullptr),
                               sp.isDense() ? SparsityAttr() : sp);
  keep(name + ".weight", {O, I}, weight);
  if (c) keep(name + ".bias", {O}, bias);
  else if (!isGemm && uses[node->output(0)] == 1) biasless[node->output(0)] = op;
  define({op.getResult(), {x.shape[0], O}});
}

/// A Mul whose inputs are x and Sigmoid(x) (or HardSigmoid(x)), the gate read
/// by nothing else: SiLU (hard swish), one op instead of two and one saved value.
void Importer::findGatedMuls() {
  std::map<std::string, int> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const auto &o : graph.node(i).output()) producer[o] = i;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &m = graph.node(i);
    if (m.op_type() != "Mul" || m.input_size() != 2) continue;
    for (int g = 0; g < 2; ++g) {
      auto it = producer.find(m.input(g));
      if (it == producer.end()) continue;
      const onnx::NodeProto &gate = graph.node(it->second);
      if ((gate.op_type() != "Sigmoid" && gate.op_type() != "HardSigmoid") ||
          gate.input_size() != 1 || gate.input(0) != m.input(1 - g) || uses[m.input(g)] != 1)
        continue;
      gatedMul[i] = it->second;
      absorbed.insert(it->second);
      break;
    }
  }
}

/// mest.activation `kind` of input 0 of node `from` (the current node, or the
/// gate a Mul absorbed), with the ONNX HardSigmoid's alpha and beta.
void Importer::activationNode(mest::Activation kind, int from) {
  const onnx::NodeProto &src = graph.node(from);
  const Activation &x = activation(0);
  if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
  FloatAttr alpha, beta;
  if (kind == mest::Activation::hard_sigmoid || kind == mest::Activation::hard_swish) {
    // HardSwish is x * HardSigmoid(x) with alpha = 1/6, beta = 1/2.
    const bool swishOp = src.op_type() == "HardSwish";
    double a = swishOp ? 1.0 / 6.0 : floatAttribute(src, "alpha", 0.2f);
    double c = swishOp ? 0.5 : floatAttribute(src, "beta", 0.5f);
    if (!std::isfinite(a) || !std::isfinite(c) || !(a > 0))
      fail("HardSigmoid alpha " + std::to_string(a) + ", beta " + std::to_string(c) +
           ": mest needs finite values with alpha > 0");
    alpha = b.getF64FloatAttr(a), beta = b.getF64FloatAttr(c);
  }
  auto op = b.create<ActivationOp>(loc, x.value.getType(), x.value,
                                   ActivationAttr::get(b.getContext(), kind), alpha, beta);
  define({op.getResult(), x.shape});
}

void Importer::mul() {
  if (auto it = gatedMul.find(nodeIndex); it != gatedMul.end()) {
    const bool sigmoid = graph.node(it->second).op_type() == "Sigmoid";
    return activationNode(sigmoid ? mest::Activation::silu : mest::Activation::hard_swish, it->second);
  }
  for (int i = 0; i < 2; ++i)
    if (i < node->input_size() && constantOf(node->input(i)))
      fail("multiplies an activation by a constant; mest multiplies activations only as "
           "x * Sigmoid(x), x * HardSigmoid(x) or channel scaling [N, C, H, W] x [N, C, 1, 1]");
  const Activation &l = activation(0), &r = activation(1);
  if (l.pending() || r.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
  auto rank = [](const Activation &a) { return cast<RankedTensorType>(a.value.getType()).getRank(); };
  // Squeeze-and-excitation: an image batch times a global pool's [N, C, 1, 1].
  for (int i = 0; i < 2; ++i) {
    const Activation &x = i ? r : l, &s = i ? l : r;
    if (x.shape.size() == 4 && rank(x) == 4 && s.shape.size() == 4 && rank(s) == 2 &&
        s.shape[0] == x.shape[0] && s.shape[1] == x.shape[1])
      return define({b.create<ScaleChannelsOp>(loc, x.value.getType(), x.value, s.value), x.shape});
  }
  fail("multiplies " + shapeText(l.shape) + " by " + shapeText(r.shape) +
       "; mest multiplies activations only as x * Sigmoid(x), x * HardSigmoid(x) or channel "
       "scaling [N, C, H, W] x [N, C, 1, 1]");
}

void Importer::concat() {
  std::vector<Value> inputs;
  Shape shape;
  for (int i = 0; i < node->input_size(); ++i) {
    if (constantOf(node->input(i)))
      fail("concatenates a constant with activations; mest concatenates activations only");
    const Activation &x = activation(i);
    if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    if (x.shape.size() != 4 || cast<RankedTensorType>(x.value.getType()).getRank() != 4)
      fail("concatenates a " + shapeText(x.shape) + " activation; mest concatenates [N, C, H, W] images");
    if (i == 0) {
      shape = x.shape;
    } else {
      if (x.shape[0] != shape[0] || x.shape[2] != shape[2] || x.shape[3] != shape[3])
        fail("concatenates " + shapeText(shape) + " and " + shapeText(x.shape) +
             ": batch and plane sizes differ");
      shape[1] += x.shape[1];
    }
    inputs.push_back(x.value);
  }
  if (inputs.empty()) fail("has no input");
  int64_t axis = intAttribute(*node, "axis", 1);
  if (axis < 0) axis += 4;
  if (axis != 1) fail("axis " + std::to_string(axis) + "; mest concatenates channels (axis 1) only");
  if (inputs.size() == 1) return define(activation(0));
  define({b.create<ConcatOp>(loc, f32(shape), inputs).getResult(), shape});
}

void Importer::transpose() {
  const Activation &x = activation(0);
  std::vector<int64_t> perm = intsAttribute(*node, "perm");
  if (!x.shuffle || x.transposed || perm != std::vector<int64_t>{0, 2, 1, 3, 4})
    fail("transposes a " + shapeText(x.shape) + " activation; mest transposes only the two "
         "channel dimensions of a channel shuffle ([N, g, C/g, H, W], perm 0, 2, 1, 3, 4)");
  Activation a = x;
  a.transposed = true;
  a.shape = {x.shape[0], x.shape[2], x.shape[1], x.shape[3], x.shape[4]};
  define(a);
}

/// Channels [begin, end) of x as output `output` of this node.
void Importer::sliceChannels(const Activation &x, int64_t begin, int64_t end, int output) {
  if (x.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
  if (x.shape.size() != 4 || cast<RankedTensorType>(x.value.getType()).getRank() != 4 || x.shuffle)
    fail("slices a " + shapeText(x.shape) + " activation; mest slices the channels of [N, C, H, W]");
  if (begin < 0 || end > x.shape[1] || begin >= end)
    fail("channels [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " +
         std::to_string(x.shape[1]) + " are empty or outside");
  if (begin == 0 && end == x.shape[1]) return define(x, output);
  Shape shape{x.shape[0], end - begin, x.shape[2], x.shape[3]};
  define({b.create<SliceChannelsOp>(loc, f32(shape), x.value, b.getI64IntegerAttr(begin)).getResult(),
          shape},
         output);
}

void Importer::slice() {
  const Activation &x = activation(0);
  // Opset 10 on: starts, ends, axes, steps as constant inputs; before, attributes.
  auto ints = [&](int i, const char *name) {
    if (const Constant *c = optionalConstant(i, name)) return c->ints(what() + " " + name);
    return intsAttribute(*node, name);
  };
  std::vector<int64_t> starts = ints(1, "starts"), ends = ints(2, "ends"), axes = ints(3, "axes"),
                       steps = ints(4, "steps");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (starts.size() != 1 || ends.size() != 1 || axes.size() != 1 || steps.size() > 1 ||
      (axes[0] != 1 && axes[0] != -3) || (!steps.empty() && steps[0] != 1))
    fail("slices other than one contiguous range of channels (axis 1, step 1)");
  const int64_t C = x.shape.size() == 4 ? x.shape[1] : 0;
  auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + C : v, 0, C); };
  sliceChannels(x, clamp(starts[0]), clamp(ends[0]), 0);
}

void Importer::split() {
  const Activation &x = activation(0);
  int64_t axis = intAttribute(*node, "axis", 0);
  if (axis < 0) axis += int64_t(x.shape.size());
  if (axis != 1) fail("splits axis " + std::to_string(axis) + "; mest splits channels (axis 1) only");
  std::vector<int64_t> parts;
  if (const Constant *c = optionalConstant(1, "split")) parts = c->ints(what() + " split");
  else parts = intsAttribute(*node, "split");
  const int64_t C = x.shape.size() == 4 ? x.shape[1] : 0, n = node->output_size();
  if (parts.empty()) {  // equal parts
    if (n <= 0 || C % n) fail("splits " + std::to_string(C) + " channels into " + std::to_string(n) + " unequal parts without sizes");
    parts.assign(n, C / n);
  }
  if (int64_t(parts.size()) != n) fail("gives " + std::to_string(parts.size()) + " sizes for " + std::to_string(n) + " outputs");
  int64_t begin = 0;
  for (int64_t i = 0; i < n; ++i) {
    sliceChannels(x, begin, begin + parts[i], int(i));
    begin += parts[i];
  }
  if (begin != C) fail("sizes add up to " + std::to_string(begin) + " of " + std::to_string(C) + " channels");
}

void Importer::add() {
  int act = -1;
  for (int i = 0; i < 2 && i < node->input_size(); ++i)
    if (activations.count(node->input(i))) act = act < 0 ? i : 2;
  if (act == 2) {
    const Activation &l = activation(0), &r = activation(1);
    if (l.pending() || r.pending()) fail("a Pad feeds it; mest absorbs a Pad only into a Conv or pool");
    if (l.shape != r.shape || l.value.getType() != r.value.getType())
      fail("adds " + shapeText(l.shape) + " and " + shapeText(r.shape) + "; mest adds activations of one shape");
    return define({b.create<AddOp>(loc, l.value.getType(), l.value, r.value), l.shape});
  }
  if (act < 0) activation(0);  // names the missing input
  // An activation plus a constant: the bias of the MatMul that computed it.
  auto it = biasless.find(node->input(act));
  if (it == biasless.end())
    fail("adds a constant to an activation; mest adds constants only as the bias of a MatMul");
  const Constant &c = constant(1 - act, "bias");
  LinearOp op = it->second;
  int64_t O = op.getOutFeatures();
  if (c.numel() != O && c.numel() != 1)
    fail("bias of shape " + shapeText(c.dims) + " for " + std::to_string(O) + " outputs");
  std::vector<double> bias = c.numel() == O ? c.values : std::vector<double>(O, c.values[0]);
  op.setBias(true);
  keep(op.getSymName().str() + ".bias", {O}, bias);
  biasless.erase(it);
  define(activation(act));
}

} // namespace

ImportResult importModel(const onnx::ModelProto &model, MLIRContext &ctx,
                         const ImportOptions &options, tools::LayerPolicies &policies) {
  if (!model.has_graph()) throw ImportError("the file holds no graph");
  return Importer(model, ctx, options, policies).run();
}

} // namespace mest::onnx_import
