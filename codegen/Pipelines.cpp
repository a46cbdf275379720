//===- Pipelines.cpp - the named pass pipelines of mest -------------------===//
#include "codegen/Pipelines.h"

#include "dialect/MestDialect.h"
#include "passes/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// Without OpenMP a parallel loop becomes a plain loop, and an alloca in its
/// body would take new stack on every iteration: move static-size allocas of
/// parallel bodies to the function entry (one buffer, as for one thread).
struct HoistSequentialAllocas
    : public PassWrapper<HoistSequentialAllocas, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HoistSequentialAllocas)
  void runOnOperation() override {
    Block &entry = getOperation().getBody().front();
    getOperation().walk([&](memref::AllocaOp alloca) {
      if (alloca->getParentOfType<scf::ParallelOp>() && alloca.getType().hasStaticShape() &&
          alloca->getNumOperands() == 0)
        alloca->moveBefore(&entry, entry.begin());
    });
  }
};
/// math.exp (sigmoid, SiLU) as a vector polynomial (MLIR's approximation,
/// f32-accurate): ConvertMathToLLVM would make it llvm.exp, which LLVM
/// scalarises into one libm call per lane.
struct ApproximateMath : public PassWrapper<ApproximateMath, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApproximateMath)
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect, vector::VectorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mest::buildPlanPipeline(OpPassManager &pm, const CompileOptions &options) {
  pm.addPass(createMestPlanStorage());
  pm.addPass(createMestGroupFilters());
  MestConfigureKernelsOptions configure;
  configure.isa = options.isa;
  configure.vectorWidth = options.vectorWidth;
  configure.forwardOrder = options.forwardOrder;
  configure.convKernels = options.convKernels;
  configure.weightSplit = options.weightSplit;
  configure.tileVectors = options.tileVectors;
  configure.weightTileFilters = options.weightTileFilters;
  pm.addPass(createMestConfigureKernels(configure));
  pm.addPass(createMestGenerateBackward());
  if (options.splitUpdates)
    pm.addPass(createMestSplitUpdateStep({options.syncBatchNorm}));
  else
    pm.addPass(createMestFuseSgd());
  pm.addPass(createMestFormKernels());
  if (options.activationStorage != "f32")
    pm.addPass(createMestCompactActivations({options.activationStorage}));
  if (options.reluMasks) pm.addPass(createMestPackReluMasks());
  if (options.recomputeDepth != 0)
    pm.addPass(createMestRecomputeActivations({options.recomputeDepth}));
  pm.addPass(createMestPlanMemory());
}

void mest::buildCompilePipeline(OpPassManager &pm, const CompileOptions &options) {
  buildPlanPipeline(pm, options);
  MestLowerKernelsOptions lower;
  lower.exportKernels = options.exportKernels;
  pm.addPass(createMestLowerKernels(lower));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mest::buildLowerToLLVMPipeline(OpPassManager &pm, const CompileOptions &options) {
  if (options.openmp)
    pm.addPass(createConvertSCFToOpenMPPass());
  else
    pm.addNestedPass<func::FuncOp>(std::make_unique<HoistSequentialAllocas>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertSCFToCFPass());
  // ceildivsi / floordivsi; bf16 conversions as integer ops (round to nearest
  // even), which every target has: LLVM 19 lowers fptrunc to bfloat to a
  // library call on x86 without AVX512-BF16.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(std::make_unique<ApproximateMath>());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  if (options.openmp) pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // No canonicalizer on the LLVM dialect here: LLVM's O3 follows, and on
  // ResNet-32 the pass took 3-4 s of a 14-15 s compile for no step-time gain
  // (docs/performance.md, "Compile time").
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<bool> exportKernels{*this, "export-kernels",
                             llvm::cl::desc("Give layer kernels public C names"),
                             llvm::cl::init(false)};
  Option<int64_t> vectorWidth{*this, "vector-width",
                              llvm::cl::desc("Floats per vector along output rows (0: the "
                                             "target's register width)"),
                              llvm::cl::init(0)};
  Option<std::string> isa{*this, "isa",
                          llvm::cl::desc("Target when the module has no mest.target: avx2, "
                                         "avx512 or neon"),
                          llvm::cl::init("avx2")};
  Option<bool> openmp{*this, "openmp",
                      llvm::cl::desc("Lower parallel loops to OpenMP (else sequential)"),
                      llvm::cl::init(true)};
  Option<std::string> activationStorage{
      *this, "activation-storage",
      llvm::cl::desc("Saved activations of the train step: f32, f16 or bf16"),
      llvm::cl::init("f32")};
  Option<std::string> weightSplit{
      *this, "weight-split",
      llvm::cl::desc("Padded backward-weight split: auto, filters or images"),
      llvm::cl::init("auto")};
  Option<int64_t> tileVectors{
      *this, "tile-vectors",
      llvm::cl::desc("Padded forward tile's output vectors per filter; 0: the rule"),
      llvm::cl::init(0)};
  Option<int64_t> weightTileFilters{
      *this, "weight-tile-filters",
      llvm::cl::desc("Padded backward-weight tile's filters; 0: the rule"), llvm::cl::init(0)};
  Option<int64_t> recomputeDepth{
      *this, "recompute-depth",
      llvm::cl::desc("Batch-norm outputs recomputed in backward, longest chain; 0: none"),
      llvm::cl::init(0)};
  Option<bool> reluMasks{
      *this, "relu-masks",
      llvm::cl::desc("Keep ReLU outputs backward reads only for their sign as bit masks"),
      llvm::cl::init(true)};
  mest::CompileOptions get() const {
    return {exportKernels, vectorWidth, openmp, "auto",     "auto",      isa, false,
            activationStorage, false, weightSplit, tileVectors, weightTileFilters,
            recomputeDepth, reluMasks};
  }
};
} // namespace

void mest::registerMestPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "mest-plan", "The planning stages: storage, kernels, steps, kernel formation, memory",
      [](OpPassManager &pm, const PipelineOptions &o) { buildPlanPipeline(pm, o.get()); });
  PassPipelineRegistration<PipelineOptions>(
      "mest-compile", "Plan, differentiate and lower a mest model to step functions",
      [](OpPassManager &pm, const PipelineOptions &o) { buildCompilePipeline(pm, o.get()); });
  PassPipelineRegistration<PipelineOptions>(
      "mest-lower-to-llvm", "Lower generated step functions to the LLVM dialect",
      [](OpPassManager &pm, const PipelineOptions &o) {
        buildLowerToLLVMPipeline(pm, o.get());
      });
}

void mest::registerCodegenDialects(DialectRegistry &registry) {
  registry.insert<MestDialect, func::FuncDialect, arith::ArithDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect,
                  cf::ControlFlowDialect, affine::AffineDialect, omp::OpenMPDialect,
                  LLVM::LLVMDialect>();
}
