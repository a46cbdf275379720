//===- mestc.cpp - compile a mest model ahead of time ---------------------===//
//
//   mestc model.mlir -o model.o --emit-header model.h [--target aarch64-linux-gnu]
//   mestc model.mlir --emit exe -o train          (a training binary for this machine)
//
// Plans storage and memory, derives the training step at compile time, lowers
// every layer to specialised kernels and emits an object file with the C ABI of
// runtime/abi/mest_abi.h.
//
//===----------------------------------------------------------------------===//
#include "codegen/EmitObject.h"
#include "codegen/ModelHeader.h"
#include "codegen/Pipelines.h"
#include "passes/Passes.h"
#include "LinkExecutable.h"
#include "MemoryBudget.h"
#include "dialect/MestDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <thread>
#include <unistd.h>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory cat("mestc options");
static cl::opt<std::string> input(cl::Positional, cl::desc("<model.mlir>"), cl::Required,
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::desc("Output file (object, or IR with --emit)"),
                                   cl::value_desc("file"), cl::init("model.o"), cl::cat(cat));
static cl::opt<std::string> header("emit-header", cl::desc("Also write the model's C header"),
                                   cl::value_desc("file"), cl::cat(cat));
enum class Emit { Obj, Exe, Llvm, MlirSteps, MlirLlvm };
static cl::opt<Emit> emit("emit", cl::desc("What to write"), cl::init(Emit::Obj),
                          cl::values(clEnumValN(Emit::Obj, "obj", "an object file (default)"),
                                     clEnumValN(Emit::Exe, "exe",
                                                "a training binary for this machine: the model "
                                                "linked with the runtime and the driver"),
                                     clEnumValN(Emit::Llvm, "llvm", "LLVM IR"),
                                     clEnumValN(Emit::MlirSteps, "mlir-steps",
                                                "MLIR after kernel lowering"),
                                     clEnumValN(Emit::MlirLlvm, "mlir-llvm",
                                                "MLIR in the LLVM dialect")),
                          cl::cat(cat));
static cl::opt<std::string> triple("target", cl::desc("Target triple (default: the host), "
                                                      "e.g. aarch64-linux-gnu"),
                                   cl::cat(cat));
static cl::opt<std::string> cpu("cpu", cl::desc("Target CPU (default: host, or generic when "
                                                "cross-compiling)"),
                                cl::cat(cat));
static cl::opt<std::string> features("features", cl::desc("Target features, e.g. +avx2,+fma"),
                                     cl::cat(cat));
static cl::opt<bool> exportKernels("export-kernels",
                                   cl::desc("Export each layer kernel as "
                                            "mest_kernel_<layer>_<fwd|bwd_data|bwd_weight>"),
                                   cl::cat(cat));
static cl::opt<int64_t> vectorWidth("vector-width",
                                    cl::desc("Floats per vector (4, 8 or 16; default: the "
                                             "target's: 16 with AVX-512, 4 on aarch64, else 8)"),
                                    cl::init(0), cl::cat(cat));
// Overrides of mest-configure-kernels' rules; the names are the pass options'.
enum class ForwardOrder { Auto, Weight, Output };
static cl::opt<ForwardOrder> forwardOrderOpt(
    "forward-order", cl::desc("Forward loop order of direct conv kernels"),
    cl::init(ForwardOrder::Auto),
    cl::values(clEnumValN(ForwardOrder::Auto, "auto", "per layer, by the measured rule (default)"),
               clEnumValN(ForwardOrder::Weight, "weight", "weight-stationary"),
               clEnumValN(ForwardOrder::Output, "output", "output-stationary interior")),
    cl::cat(cat));
enum class ConvKernels { Auto, Padded, Direct };
static cl::opt<ConvKernels> convKernelsOpt(
    "conv-kernels", cl::desc("Conv kernel variant"), cl::init(ConvKernels::Auto),
    cl::values(clEnumValN(ConvKernels::Auto, "auto", "padded where it fits (default)"),
               clEnumValN(ConvKernels::Padded, "padded",
                          "on zero-bordered copies, output-stationary, wherever possible"),
               clEnumValN(ConvKernels::Direct, "direct", "clipped per tap")),
    cl::cat(cat));
static cl::opt<int64_t> tileVectors(
    "tile-vectors",
    cl::desc("Output vectors per filter of the padded forward's register tile (default 0: "
             "mest-configure-kernels' rule; clamped to the plane and the register budget)"),
    cl::init(0), cl::cat(cat));
static cl::opt<int64_t> weightTileFilters(
    "weight-tile-filters",
    cl::desc("Filters of the padded backward-weight's register tile on dense and channel "
             "layers (default 0: mest-configure-kernels' rule; 1: one filter at a time)"),
    cl::init(0), cl::cat(cat));
enum class WeightSplit { Auto, Filters, Images };
static cl::opt<WeightSplit> weightSplitOpt(
    "weight-split", cl::desc("Work split of padded backward-weight kernels"),
    cl::init(WeightSplit::Auto),
    cl::values(clEnumValN(WeightSplit::Auto, "auto",
                          "per layer, whichever reads fewer bytes (default)"),
               clEnumValN(WeightSplit::Filters, "filters", "filters over the threads"),
               clEnumValN(WeightSplit::Images, "images",
                          "image groups with partial gradients, then filters")),
    cl::cat(cat));
enum class Entry { Train, Infer };
static cl::opt<Entry> entry(
    "entry", cl::desc("Which entry points the object holds"), cl::init(Entry::Train),
    cl::values(clEnumValN(Entry::Train, "train",
                          "train, eval and infer steps (a training binary's object; default)"),
               clEnumValN(Entry::Infer, "infer",
                          "only mest_model_infer (and after_mutation): a deployable object "
                          "without training code, its arena the inference one")),
    cl::cat(cat));
static cl::opt<bool> splitUpdates(
    "split-updates",
    cl::desc("Gradients and updates in two entries (mest_model_grad_step, "
             "mest_model_update_step) instead of each update fused into its backward-weight "
             "kernel"),
    cl::cat(cat));
static cl::opt<bool> dataParallel(
    "data-parallel",
    cl::desc("For mpirun: --split-updates, and batch norms that sum their statistics across "
             "replicas (docs/distributed.md)"),
    cl::cat(cat));
enum class Storage { F32, F16, BF16 };
static cl::opt<Storage> activationStorage(
    "activation-storage",
    cl::desc("How a training step stores the activations it saves for backward (arithmetic "
             "stays f32)"),
    cl::init(Storage::F32),
    cl::values(clEnumValN(Storage::F32, "f32", "exact (default)"),
               clEnumValN(Storage::F16, "f16", "IEEE half: 2 bytes, 11-bit precision"),
               clEnumValN(Storage::BF16, "bf16", "bfloat16: 2 bytes, f32's range, 8-bit precision")),
    cl::cat(cat));
static cl::opt<long> recomputeDepth(
    "recompute-activations",
    cl::desc("Batch-norm outputs the train step recomputes in backward instead of keeping: "
             "chains of at most N (1: every other block output; default 0: none; "
             "docs/pipeline.md)"),
    cl::init(0), cl::value_desc("N"), cl::cat(cat));
static cl::opt<std::string> memoryBudget(
    "memory-budget",
    cl::desc("Largest planned training memory (state + arena + scratch for this machine's "
             "threads), e.g. 48MiB: picks the activation storage (unless given) and the "
             "recomputation, prints the plan, and refuses a budget no plan meets"),
    cl::value_desc("BYTES"), cl::cat(cat));
static cl::opt<unsigned> budgetThreads(
    "budget-threads",
    cl::desc("Threads whose scratch --memory-budget counts (default: this machine's)"),
    cl::init(0), cl::cat(cat));
static cl::opt<bool> keepReluOutputs(
    "keep-relu-outputs",
    cl::desc("Keep in full the ReLU outputs backward reads only for their sign (default: "
             "1-bit masks; the same results)"),
    cl::cat(cat));
static cl::opt<bool> timing("timing",
                            cl::desc("Print the time of every pass and of LLVM's code generation"),
                            cl::cat(cat));
static cl::opt<bool> noOpenMP("no-openmp", cl::desc("Sequential code, no OpenMP calls"),
                              cl::cat(cat));
// O2 by default: the kernels are vectorised and unrolled in MLIR already; O3
// took 6-43% longer to compile for the same step time (docs/performance.md).
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimisation level (default 2)"),
                                  cl::init(2), cl::Prefix, cl::cat(cat));

[[noreturn]] static void fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "mestc") << msg << "\n";
  std::exit(1);
}

/// A plan that cannot fit this machine's memory compiles (the model may be for
/// another machine), with a warning naming the sizes.
static void warnIfLargerThanMemory(ModuleOp module) {
  int64_t state = 0, arena = 0;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (auto a = f->getAttrOfType<IntegerAttr>(mest::MestDialect::getStateBytesAttrName()))
      state = std::max(state, a.getInt());
    if (auto a = f->getAttrOfType<IntegerAttr>(mest::MestDialect::getArenaBytesAttrName()))
      arena = std::max(arena, a.getInt());
  }
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return;
  const double machine = double(pages) * double(pageSize), planned = double(state) + arena;
  if (planned > machine)
    llvm::WithColor::warning(llvm::errs(), "mestc")
        << llvm::formatv("the model plans {0:f1} MiB (state {1:f1} MiB, arena {2:f1} MiB), more "
                         "than this machine's {3:f1} MiB of memory\n",
                         planned / 1048576, state / 1048576.0, arena / 1048576.0,
                         machine / 1048576);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(argc, argv,
                              "mestc: compile a mest model into a training-step object\n\n"
                              "  mestc model.mlir -o model.o --emit-header model.h\n"
                              "  mestc model.mlir --emit exe -o train\n");
  if (emit == Emit::Exe && !triple.empty())
    fail("--emit exe links a binary for this machine; for " + triple +
         " use scripts/train-binary.sh MODEL -o OUT --target " + triple);
  if (emit == Emit::Exe && entry == Entry::Infer)
    fail("--emit exe makes a training binary; --entry infer makes an object to link yourself");
  if (vectorWidth != 0 && vectorWidth != 4 && vectorWidth != 8 && vectorWidth != 16)
    fail("--vector-width must be 4, 8 or 16, got " + llvm::Twine(vectorWidth.getValue()));

  const std::string forwardOrder = forwardOrderOpt == ForwardOrder::Weight   ? "weight"
                                   : forwardOrderOpt == ForwardOrder::Output ? "output"
                                                                             : "auto";
  const std::string convKernels = convKernelsOpt == ConvKernels::Padded   ? "padded"
                                  : convKernelsOpt == ConvKernels::Direct ? "direct"
                                                                          : "auto";
  const std::string weightSplit = weightSplitOpt == WeightSplit::Filters  ? "filters"
                                  : weightSplitOpt == WeightSplit::Images ? "images"
                                                                          : "auto";
  DialectRegistry registry;
  mest::registerCodegenDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string err;
  auto file = openInputFile(input, &err);
  if (!file) fail(err);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module) return 1;

  // The target description the kernel configuration reads: NEON on aarch64,
  // AVX-512 where --cpu/--features name it or the host has it (when neither is
  // given), else AVX2.
  bool avx512 = features.find("+avx512f") != std::string::npos ||
                llvm::StringRef(cpu).contains("avx512") || llvm::StringRef(cpu) == "znver4";
  if (triple.empty() && cpu.empty() && features.empty())
    avx512 = llvm::sys::getHostCPUFeatures().lookup("avx512f");
  const char *isa = llvm::StringRef(triple).starts_with("aarch64") ? "neon"
                    : avx512                                     ? "avx512"
                                                                 : "avx2";
  module->getOperation()->setAttr(mest::MestDialect::getTargetAttrName(),
                                  mest::TargetAttr::forIsa(&context, isa));
  // The identity of the compiled model: its IR and the options that shape code.
  std::string text;
  llvm::raw_string_ostream ts(text);
  module->print(ts);
  const std::string storage = activationStorage == Storage::F16    ? "f16"
                              : activationStorage == Storage::BF16 ? "bf16"
                                                                   : "f32";
  // Not the activation storage, recomputation or masks, nor --split-updates/--data-parallel, nor
  // --weight-split, --tile-vectors or --weight-tile-filters: they shape the steps, not the state, so a model trained with bf16 activations or on
  // several ranks loads in an f32, one-process or inference object of the same
  // model, and a run may resume in another storage.
  ts << vectorWidth << noOpenMP << forwardOrder << convKernels << isa;
  const uint64_t fingerprint = llvm::xxh3_64bits(text);

  mest::CompileOptions options{exportKernels, vectorWidth, !noOpenMP, forwardOrder,
                               convKernels, isa, splitUpdates || dataParallel, storage,
                               dataParallel, weightSplit, tileVectors, weightTileFilters,
                               recomputeDepth, !keepReluOutputs};
  // --timing: one report for the passes of both pass managers and LLVM's
  // object emission, printed when the tool exits.
  DefaultTimingManager timer;
  timer.setEnabled(timing);
  TimingScope rootTime = timer.getRootScope();
  PassManager plan(&context);
  // --memory-budget: the least recomputation that fits, chosen on trial plans.
  if (!memoryBudget.empty()) {
    std::optional<int64_t> budget = mest::parseBytes(memoryBudget);
    if (!budget)
      fail("--memory-budget: '" + memoryBudget +
           "' is not a size (bytes, or a number with K, M or G, e.g. 48MiB)");
    if (recomputeDepth.getNumOccurrences())
      fail("--memory-budget chooses the recomputation: leave out --recompute-activations");
    const int64_t threads =
        budgetThreads ? budgetThreads : std::max(1u, std::thread::hardware_concurrency());
    mest::PlannedMemory chosen, smallest;
    mest::CompileOptions reachable;
    auto mib = [](int64_t b) { return llvm::formatv("{0:f2} MiB", b / 1048576.0).str(); };
    auto plan = [&](const mest::CompileOptions &o, const mest::PlannedMemory &m) {
      return llvm::formatv("activation storage {0}, recompute chains of {1}, ReLU masks {2}: "
                           "{3} bytes ({4}: state {5}, arena {6}, scratch {7} x {8} threads)",
                           o.activationStorage, o.recomputeDepth, o.reluMasks ? "on" : "off",
                           m.total(), mib(m.total()), mib(m.state), mib(m.arena),
                           mib(m.scratch), m.threads)
          .str();
    };
    if (failed(mest::chooseForBudget(*module, options, activationStorage.getNumOccurrences() > 0,
                                     *budget, threads, chosen, smallest, reachable))) {
      if (!smallest.total()) return 1;
      fail(llvm::formatv("--memory-budget {0} bytes ({1}) cannot be met: the smallest plan is ",
                         *budget, mib(*budget)) +
           plan(reachable, smallest));
    }
    llvm::outs() << "mestc: --memory-budget " << mib(*budget) << ": " << plan(options, chosen)
                 << "\n";
  }
  TimingScope planTime = rootTime.nest("mest planning passes");
  if (timing) plan.enableTiming(planTime);
  mest::buildPlanPipeline(plan, options);
  {
    // The memory plan's remark is for mest-opt users; mestc stays quiet.
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &d) {
      return success(d.getSeverity() == DiagnosticSeverity::Remark);
    });
    if (failed(plan.run(*module))) return 1;
  }
  planTime.stop();
  if (!memoryBudget.empty()) {
    llvm::outs() << "mestc: what the train step keeps for backward:\n";
    mest::describeSavedTensors(*module, llvm::outs());
  }
  // --entry infer: the training and evaluation steps are dropped before
  // lowering, so neither their code nor their arena is in the object. The
  // state layout, and so the fingerprint, is the training binary's: a model it
  // exported loads here.
  if (entry == Entry::Infer) {
    SmallVector<func::FuncOp> drop;
    for (auto f : module->getOps<func::FuncOp>())
      if (mest::MestDialect::getStepModel(f) &&
          !f->hasAttr(mest::MestDialect::getInferStepAttrName()))
        drop.push_back(f);
    for (func::FuncOp f : drop) f.erase();
  }
  warnIfLargerThanMemory(*module);
  // --emit exe: the object and header go to a temporary directory, then link.
  SmallString<128> exeDir;
  std::string objectPath = output, headerPath = header;
  if (emit == Emit::Exe) {
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("mestc-exe", exeDir))
      fail("cannot create a temporary directory: " + ec.message());
    objectPath = (exeDir + "/model.o").str();
    if (headerPath.empty()) headerPath = (exeDir + "/model.h").str();
  }
  if (!headerPath.empty()) {
    FailureOr<std::string> text = mest::writeModelHeader(*module, fingerprint);
    if (failed(text)) return 1;
    auto out = openOutputFile(headerPath, &err);
    if (!out) fail(err);
    out->os() << *text;
    out->keep();
  }

  PassManager lower(&context);
  TimingScope lowerTime = rootTime.nest("kernel lowering and conversion to the LLVM dialect");
  if (timing) lower.enableTiming(lowerTime);
  mest::MestLowerKernelsOptions kernelOptions;
  kernelOptions.exportKernels = exportKernels;
  lower.addPass(mest::createMestLowerKernels(kernelOptions));
  lower.addPass(createCanonicalizerPass());
  lower.addPass(createCSEPass());
  if (emit != Emit::MlirSteps) mest::buildLowerToLLVMPipeline(lower, options);
  if (failed(lower.run(*module))) return 1;
  lowerTime.stop();

  auto out = openOutputFile(objectPath, &err);
  if (!out) fail(err);
  if (emit == Emit::MlirSteps || emit == Emit::MlirLlvm) {
    module->print(out->os());
  } else {
    mest::TargetOptions target{triple, cpu, features, optLevel};
    TimingScope emitTime = rootTime.nest("LLVM: translation, optimisation and code generation");
    if (failed(mest::emitObject(*module, target, emit == Emit::Llvm, out->os(), err)))
      fail(err);
    emitTime.stop();
  }
  out->keep();
  if (emit == Emit::Exe) {
    out.reset();
    std::string linkError;
    bool linked = mest::linkTrainingBinary(argv[0], objectPath, headerPath, output, linkError);
    llvm::sys::fs::remove_directories(exeDir);
    if (!linked) fail(linkError);
  }
  return 0;
}
