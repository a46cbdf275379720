//===- Pipelines.h - the named pass pipelines of mest ---------------------===//
#ifndef MEST_CODEGEN_PIPELINES_H
#define MEST_CODEGEN_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <string>

namespace mest {

struct CompileOptions {
  bool exportKernels = false;
  int64_t vectorWidth = 0;  // 0: the target's register width
  bool openmp = true;       // parallel loops become OpenMP worksharing loops
  std::string forwardOrder = "auto";
  std::string convKernels = "auto";
  std::string isa = "avx2";  // the target when the module has no mest.target
  bool splitUpdates = false;  // gradient and update steps apart (mest-split-update-step)
  std::string activationStorage = "f32";  // saved activations: f32, f16 or bf16
  bool syncBatchNorm = false;  // with splitUpdates: batch norms sum across replicas
  std::string weightSplit = "auto";  // padded backward-weight: auto, filters or images
  int64_t tileVectors = 0;  // padded forward tile's vectors per filter; 0: the rule
  int64_t weightTileFilters = 0;  // padded backward-weight tile's filters; 0: the rule
  int64_t recomputeDepth = 0;  // batch-norm outputs recomputed in backward (chain length; 0: none)
  bool reluMasks = true;  // ReLU outputs backward reads only for their sign kept as bit masks
};

/// The planning stages (docs/pipeline.md): storage plan, load-balancing
/// policy, kernel configuration, backward generation, SGD fusion (or the
/// split into gradient and update steps), kernel
/// formation, compact activation storage (unless f32), recomputation (if
/// asked), memory plan. Tensor-level model in, planned steps out.
void buildPlanPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// mest-compile: the planning stages, then kernel lowering and cleanup.
/// Tensor-level model in, memref/scf/vector step functions out.
void buildCompilePipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// mest-lower-to-llvm: upstream conversions to the LLVM dialect, with the
/// bare-pointer calling convention so the step functions have plain C signatures.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Registers both pipelines with mlir-opt style tools.
void registerMestPipelines();

/// Registers the dialects the pipelines produce and consume.
void registerCodegenDialects(mlir::DialectRegistry &registry);

} // namespace mest

#endif // MEST_CODEGEN_PIPELINES_H
