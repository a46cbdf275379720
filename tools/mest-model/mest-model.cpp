//===- mest-model.cpp - write mest IR for common models -------------------===//
//
// Generates CIFAR-style ResNets, a VGG-style net and an MLP in the mest dialect,
// with a sparsity policy applied as in the MEST reference: every 3x3 conv of a
// residual block (or every conv but the first, for VGG; every hidden linear layer
// for the MLP) is sparse; the stem, 1x1 shortcuts and the classifier stay dense.
//
//===----------------------------------------------------------------------===//
#include "dialect/MestDialect.h"
#include "tools/support/SparsityPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mest;
namespace cl = llvm::cl;

static cl::OptionCategory cat("mest-model options");
static cl::opt<std::string> modelKind("model", cl::desc("resnet20, resnet32, resnet56, vgg or mlp"),
                                      cl::init("resnet32"), cl::cat(cat));
static cl::opt<int64_t> width("width",
                              cl::desc("Base width: ResNet stage-1 channels (16 classic, 32 "
                                       "as in the MEST scripts), VGG first-block channels; "
                                       "the MLP's hidden layers are 300 and 100 times width/16"),
                              cl::init(16), cl::cat(cat));
static cl::opt<int64_t> batch("batch", cl::desc("Batch size compiled into the model"),
                              cl::init(64), cl::cat(cat));
static cl::opt<std::string> inputShape("input", cl::desc("Input image CxHxW"),
                                       cl::init("3x32x32"), cl::cat(cat));
static cl::opt<int64_t> classes("classes", cl::desc("Number of classes"), cl::init(10),
                                cl::cat(cat));
static cl::opt<std::string> scheme("scheme",
                                   cl::desc("Sparsity scheme of the sparse layers: dense, "
                                            "unstructured, channel, block, pattern"),
                                   cl::init("pattern"), cl::cat(cat));
static cl::opt<double> target("sparsity", cl::desc("Target sparsity of the sparse layers"),
                              cl::init(0.9), cl::cat(cat));
static cl::opt<double> capacity("capacity",
                                cl::desc("Storage capacity as a sparsity (default: the "
                                         "target; EM&S at 0.9 needs 0.85)"),
                                cl::init(-1.0), cl::cat(cat));
static cl::list<std::string>
    overrides("override",
              cl::desc("Per-layer policy NAME=SCHEME[:TARGET[:CAPACITY]], repeatable, "
                       "e.g. layer1.0.conv1=dense or fc=unstructured:0.8"),
              cl::cat(cat));
static cl::opt<std::string> funcName("name", cl::desc("Symbol name of the model function "
                                                      "(default: the model kind)"),
                                     cl::init(""), cl::cat(cat));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"), cl::init("-"),
                                       cl::value_desc("file"), cl::cat(cat));

namespace {

[[noreturn]] void fail(const Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "mest-model") << msg << "\n";
  std::exit(1);
}

/// Emits layers one after another, tracking the current value and its shape.
class ModelBuilder {
public:
  ModelBuilder(OpBuilder &b, Location loc, Value input, mest::tools::LayerPolicies &policies)
      : cur(input), b(b), loc(loc), policies(policies) {}

  Value cur;

  SmallVector<int64_t> shape() { return llvm::to_vector(cast<ShapedType>(cur.getType()).getShape()); }
  RankedTensorType f32(ArrayRef<int64_t> s) { return RankedTensorType::get(s, b.getF32Type()); }

  SparsityAttr policy(StringRef name, bool isSparse) { return policies.of(name, isSparse); }

  Value conv(StringRef name, int64_t out, int64_t k, int64_t stride, bool isSparse) {
    auto s = shape();
    int64_t pad = k / 2;
    int64_t h = (s[2] + 2 * pad - k) / stride + 1, w = (s[3] + 2 * pad - k) / stride + 1;
    SparsityAttr sp = policy(name, isSparse);
    cur = b.create<Conv2dOp>(loc, f32({s[0], out, h, w}), cur, b.getStringAttr(name),
                             b.getI64IntegerAttr(out), b.getDenseI64ArrayAttr({k, k}),
                             b.getDenseI64ArrayAttr({stride, stride}),
                             b.getDenseI64ArrayAttr({pad, pad}), b.getBoolAttr(false),
                             b.getI64IntegerAttr(1), sp.isDense() ? SparsityAttr() : sp);
    return cur;
  }
  Value bn(StringRef name) {
    cur = b.create<BatchNormOp>(loc, cur.getType(), cur, b.getStringAttr(name),
                                b.getF64FloatAttr(1e-5), b.getF64FloatAttr(0.1));
    return cur;
  }
  Value relu() { return cur = b.create<ReluOp>(loc, cur.getType(), cur); }
  Value add(Value other) { return cur = b.create<AddOp>(loc, cur.getType(), cur, other); }
  Value maxPool() {
    auto s = shape();
    cur = b.create<MaxPool2dOp>(loc, f32({s[0], s[1], s[2] / 2, s[3] / 2}), cur,
                                b.getDenseI64ArrayAttr({2, 2}), DenseI64ArrayAttr(),
                                b.getDenseI64ArrayAttr({0, 0}));
    return cur;
  }
  Value globalAvgPool() {
    auto s = shape();
    return cur = b.create<GlobalAvgPool2dOp>(loc, f32({s[0], s[1]}), cur);
  }
  Value flatten() {
    auto s = shape();
    return cur = b.create<FlattenOp>(loc, f32({s[0], s[1] * s[2] * s[3]}), cur);
  }
  Value linear(StringRef name, int64_t out, bool isSparse) {
    SparsityAttr sp = policy(name, isSparse);
    cur = b.create<LinearOp>(loc, f32({shape()[0], out}), cur, b.getStringAttr(name),
                             b.getI64IntegerAttr(out), b.getBoolAttr(true),
                             sp.isDense() ? SparsityAttr() : sp);
    return cur;
  }

private:
  OpBuilder &b;
  Location loc;
  mest::tools::LayerPolicies &policies;
};

void buildResNet(ModelBuilder &m, int64_t depth) {
  int64_t blocks = (depth - 2) / 6;
  m.conv("conv1", width, 3, 1, /*isSparse=*/false);
  m.bn("bn1");
  m.relu();
  for (int stage = 0; stage < 3; ++stage) {
    int64_t planes = width << stage;
    for (int64_t i = 0; i < blocks; ++i) {
      std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
      int64_t stride = (stage > 0 && i == 0) ? 2 : 1;
      Value in = m.cur;
      bool project = stride != 1 || m.shape()[1] != planes;
      m.conv(p + "conv1", planes, 3, stride, true);
      m.bn(p + "bn1");
      m.relu();
      m.conv(p + "conv2", planes, 3, 1, true);
      Value main = m.bn(p + "bn2");
      Value shortcut = in;
      if (project) {
        m.cur = in;
        m.conv(p + "shortcut.conv", planes, 1, stride, false);
        shortcut = m.bn(p + "shortcut.bn");
        m.cur = main;
      }
      m.add(shortcut);
      m.relu();
    }
  }
  m.globalAvgPool();
  m.linear("fc", classes, false);
}

void buildVgg(ModelBuilder &m) {
  // VGG-11 layout; pooling stops once the plane is smaller than 2x2.
  const int64_t cfg[] = {1, 0, 2, 0, 4, 4, 0, 8, 8, 0, 8, 8, 0}; // 0 = max pool
  int conv = 0;
  for (int64_t c : cfg) {
    if (c == 0) {
      if (m.shape()[2] >= 2 && m.shape()[3] >= 2) m.maxPool();
      continue;
    }
    std::string p = "features." + std::to_string(conv);
    m.conv(p + ".conv", c * width, 3, 1, /*isSparse=*/conv > 0);
    m.bn(p + ".bn");
    m.relu();
    ++conv;
  }
  m.globalAvgPool();
  m.linear("fc", classes, false);
}

void buildMlp(ModelBuilder &m) {
  m.flatten();
  m.linear("fc1", 300 * width / 16, true);
  m.relu();
  m.linear("fc2", 100 * width / 16, true);
  m.relu();
  m.linear("fc3", classes, false);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv,
                              "mest-model: write a mest model (IR) for a common network\n\n"
                              "  mest-model --model resnet32 --scheme pattern --sparsity 0.9 "
                              "--capacity 0.85 -o resnet32.mlir\n");
  SmallVector<int64_t, 3> chw;
  SmallVector<StringRef> dims;
  StringRef(inputShape).split(dims, 'x');
  for (StringRef d : dims) {
    int64_t v;
    if (d.getAsInteger(10, v) || v <= 0) fail("--input: expected CxHxW with positive sizes, got '" + inputShape + "'");
    chw.push_back(v);
  }
  if (chw.size() != 3) fail("--input: expected CxHxW, got '" + inputShape + "'");
  if (batch <= 0 || classes <= 1 || width <= 0)
    fail("--batch and --width must be > 0 and --classes > 1");

  MLIRContext ctx;
  ctx.loadDialect<MestDialect, func::FuncDialect>();
  // Print diagnostics of attribute and op verification to stderr.
  ScopedDiagnosticHandler handler(&ctx, [](Diagnostic &d) {
    llvm::WithColor::error(llvm::errs(), "mest-model") << d.str() << "\n";
    return success();
  });

  mest::tools::LayerPolicies policies;
  std::string policyError;
  if (!policies.parse(&ctx, scheme, target, capacity, {overrides.begin(), overrides.end()},
                      policyError))
    fail(policyError);

  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto inType = RankedTensorType::get({batch, chw[0], chw[1], chw[2]}, b.getF32Type());
  auto outType = RankedTensorType::get({batch, classes}, b.getF32Type());
  std::string name = funcName.empty() ? modelKind.getValue() : funcName.getValue();
  auto func = b.create<func::FuncOp>(loc, name, b.getFunctionType({inType}, {outType}));
  func->setAttr(MestDialect::getModelAttrName(), b.getUnitAttr());
  b.setInsertionPointToStart(func.addEntryBlock());
  ModelBuilder m(b, loc, func.getArgument(0), policies);

  StringRef kind = modelKind;
  if (kind == "resnet20" || kind == "resnet32" || kind == "resnet56") {
    buildResNet(m, std::stoi(kind.drop_front(6).str()));
  } else if (kind == "vgg") {
    buildVgg(m);
  } else if (kind == "mlp") {
    buildMlp(m);
  } else {
    fail("--model: unknown model '" + kind + "', expected resnet20, resnet32, resnet56, vgg or mlp");
  }
  b.create<func::ReturnOp>(loc, m.cur);

  if (std::string unused = policies.unusedOverride(); !unused.empty())
    fail("--override: the model has no conv2d or linear layer named '" + unused + "'");
  if (failed(verify(module))) fail("the generated model does not verify (see above)");

  std::string err;
  auto out = openOutputFile(outputFile, &err);
  if (!out) fail(err);
  module.print(out->os());
  out->keep();
  module.erase();
  return 0;
}
