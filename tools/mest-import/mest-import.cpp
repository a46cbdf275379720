//===- mest-import.cpp - an ONNX model as a mest model --------------------===//
//
// Reads an ONNX file (torch.onnx.export in eval mode, or with
// TrainingMode.PRESERVE and do_constant_folding=False), writes the mest model
// IR and, with --weights onnx, the model's initial tensors as .npy files that
// a training binary starts from (--init DIR). docs/onnx.md.
//
//===----------------------------------------------------------------------===//
#include "tools/mest-import/OnnxConstants.h"
#include "tools/mest-import/OnnxImporter.h"

#include "runtime/driver/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/checker.h>

#include <set>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory cat("mest-import options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"), cl::Required,
                                      cl::cat(cat));
static cl::opt<std::string> outputFile("o", cl::desc("Output IR file (default: stdout)"),
                                       cl::init("-"), cl::value_desc("file"), cl::cat(cat));
static cl::opt<int64_t> batch("batch", cl::desc("Batch size compiled into the model"),
                              cl::init(64), cl::cat(cat));
static cl::opt<std::string> scheme("scheme",
                                   cl::desc("Scheme of the default sparse layers (every Conv "
                                            "but the first, every linear layer but the last): "
                                            "dense, unstructured, channel, block, pattern"),
                                   cl::init("pattern"), cl::cat(cat));
static cl::opt<double> target("sparsity", cl::desc("Target sparsity of the sparse layers"),
                              cl::init(0.9), cl::cat(cat));
static cl::opt<double> capacity("capacity",
                                cl::desc("Storage capacity as a sparsity (default: the target)"),
                                cl::init(-1.0), cl::cat(cat));
static cl::list<std::string>
    overrides("override",
              cl::desc("Per-layer policy NAME=SCHEME[:TARGET[:CAPACITY]], repeatable "
                       "(names: --list-layers)"),
              cl::cat(cat));
enum class Weights { Fresh, Onnx };
static cl::opt<Weights> weights(
    "weights", cl::desc("Initial weights of training"),
    cl::values(clEnumValN(Weights::Fresh, "fresh", "drawn by the training binary, as MEST does"),
               clEnumValN(Weights::Onnx, "onnx",
                          "the ONNX file's initializers, written as .npy files for --init")),
    cl::init(Weights::Fresh), cl::cat(cat));
static cl::opt<std::string> weightsDir("weights-dir",
                                       cl::desc("Where --weights onnx writes (default: the "
                                                "output's name with .init instead of .mlir)"),
                                       cl::init(""), cl::value_desc("dir"), cl::cat(cat));
static cl::opt<std::string> funcName("name", cl::desc("Symbol of the model function"),
                                     cl::init("model"), cl::cat(cat));
static cl::opt<bool> listLayers("list-layers",
                                cl::desc("Print each layer's name, shape and policy, then exit"),
                                cl::init(false), cl::cat(cat));

namespace {

[[noreturn]] void fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "mest-import") << msg << "\n";
  std::exit(1);
}

/// The name of the manifest that marks a directory as written by mest-import,
/// so that a later import may replace its .npy files.
constexpr const char *kManifest = "mest-init.txt";

void writeInitialTensors(const std::string &dir,
                         const std::vector<mest::onnx_import::InitialTensor> &tensors) {
  namespace fs = llvm::sys::fs;
  llvm::SmallString<256> manifest(dir);
  llvm::sys::path::append(manifest, kManifest);
  if (fs::exists(dir)) {
    if (!fs::is_directory(dir)) fail("--weights-dir " + dir + " exists and is not a directory");
    std::error_code ec;
    bool empty = fs::directory_iterator(dir, ec) == fs::directory_iterator();
    if (!empty && !fs::exists(manifest))
      fail(dir + " holds files mest-import did not write (no " + kManifest +
           "); give another --weights-dir or empty it");
    // Replace an earlier import: its tensors go, nothing else does.
    for (fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
      if (llvm::sys::path::extension(it->path()) == ".npy") fs::remove(it->path());
  } else if (std::error_code ec = fs::create_directories(dir)) {
    fail("cannot create " + dir + ": " + ec.message());
  }
  std::string list = "# initial tensors written by mest-import from " + inputFile + "\n";
  for (const auto &t : tensors) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, t.file + ".npy");
    std::string bytes = mest::rt::npyFloat32(t.shape, t.values.data());
    if (llvm::Error e = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
          os << bytes;
          return llvm::Error::success();
        }))
      fail("cannot write " + path + ": " + llvm::toString(std::move(e)));
    list += t.file + " [";
    for (size_t i = 0; i < t.shape.size(); ++i) list += (i ? "x" : "") + std::to_string(t.shape[i]);
    list += "]\n";
  }
  if (llvm::Error e = llvm::writeToOutput(manifest, [&](llvm::raw_ostream &os) {
        os << list;
        return llvm::Error::success();
      }))
    fail("cannot write " + manifest + ": " + llvm::toString(std::move(e)));
}

void printLayers(ModuleOp module) {
  module.walk([](mest::LayerOpInterface layer) {
    Operation *op = layer.getOperation();
    std::string policy = "-";
    if (auto c = llvm::dyn_cast<mest::Conv2dOp>(op)) {
      llvm::outs() << llvm::formatv("{0,-32} conv2d  {1}x{2}x{3}x{4}", layer.getLayerName(),
                                    c.getOutChannels(), c.getFilterChannels(), c.getKernel()[0],
                                    c.getKernel()[1]);
      if (c.getGroups() > 1) llvm::outs() << " groups " << c.getGroups();
      mest::SparsityAttr sp = c.getSparsityOrDense();
      policy = sp.isDense() ? "dense" : llvm::formatv("{0} {1}", mest::stringifyScheme(sp.getScheme()), sp.getTargetSparsity()).str();
    } else if (auto l = llvm::dyn_cast<mest::LinearOp>(op)) {
      llvm::outs() << llvm::formatv("{0,-32} linear  {1}x{2}", layer.getLayerName(),
                                    l.getOutFeatures(), l.getInput().getType().getDimSize(1));
      mest::SparsityAttr sp = l.getSparsityOrDense();
      policy = sp.isDense() ? "dense" : llvm::formatv("{0} {1}", mest::stringifyScheme(sp.getScheme()), sp.getTargetSparsity()).str();
    } else {
      llvm::outs() << llvm::formatv("{0,-32} batch_norm", layer.getLayerName());
    }
    llvm::outs() << "  " << policy << "\n";
  });
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv,
                              "mest-import: an ONNX model as a mest model (IR)\n\n"
                              "  mest-import net.onnx -o net.mlir --scheme pattern --sparsity 0.9\n"
                              "  mest-import net.onnx -o net.mlir --weights onnx   # + net.init/\n");
  if (batch <= 0) fail("--batch must be > 0");
  std::string initDir = weightsDir;
  if (weights == Weights::Onnx && initDir.empty()) {
    if (outputFile == "-") fail("--weights onnx with output to stdout needs --weights-dir DIR");
    llvm::SmallString<256> p(outputFile.getValue());
    llvm::sys::path::replace_extension(p, ".init");
    initDir = p.str().str();
  }
  if (weights == Weights::Fresh && !weightsDir.empty())
    fail("--weights-dir goes with --weights onnx");

  auto buffer = llvm::MemoryBuffer::getFile(inputFile, /*IsText=*/false);
  if (!buffer) fail(inputFile + ": " + buffer.getError().message());
  onnx::ModelProto model;
  if (!model.ParseFromArray((*buffer)->getBufferStart(), int((*buffer)->getBufferSize())))
    fail(inputFile + ": not an ONNX model (the protobuf does not parse: truncated or another "
                     "kind of file)");
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    fail(inputFile + ": the ONNX checker refuses the model: " + e.what());
  }

  MLIRContext ctx;
  ctx.loadDialect<mest::MestDialect, func::FuncDialect>();
  ScopedDiagnosticHandler handler(&ctx, [](Diagnostic &d) {
    std::string where;
    if (auto name = llvm::dyn_cast<NameLoc>(d.getLocation()))
      where = "node '" + name.getName().str() + "': ";
    llvm::WithColor::error(llvm::errs(), "mest-import") << where << d.str() << "\n";
    return success();
  });
  mest::tools::LayerPolicies policies;
  std::string policyError;
  if (!policies.parse(&ctx, scheme, target, capacity, {overrides.begin(), overrides.end()},
                      policyError))
    fail(policyError);

  mest::onnx_import::ImportResult result;
  try {
    result = mest::onnx_import::importModel(model, ctx, {batch, funcName}, policies);
  } catch (const mest::onnx_import::ImportError &e) {
    fail(inputFile + ": " + e.what());
  }
  if (listLayers) {
    printLayers(*result.module);
    return 0;
  }
  for (const std::string &n : result.notes)
    llvm::WithColor::note(llvm::errs(), "mest-import") << n << "\n";
  if (weights == Weights::Onnx) writeInitialTensors(initDir, result.tensors);
  std::string err;
  auto out = openOutputFile(outputFile, &err);
  if (!out) fail(err);
  result.module->print(out->os());
  out->keep();
  return 0;
}
