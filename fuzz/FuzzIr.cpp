//===- FuzzIr.cpp - fuzz parsing, verification and the compile pipeline ---===//
//
// The input is a module in textual IR. Parse, verify, then the pipeline mestc
// runs up to and including kernel lowering (plan-storage, group-filters,
// configure-kernels, generate-backward, plan-memory, lower-kernels). Diagnostics are expected;
// crashes, aborts and sanitizer reports are bugs. Inputs over 8 KiB are skipped
// (the seeds are far smaller; a large model only makes lowering slow).
//
//===----------------------------------------------------------------------===//
#include "codegen/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192) return 0;
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry;
    mest::registerCodegenDialects(*r);
    return r;
  }();
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(StringRef(reinterpret_cast<const char *>(data), size)),
      llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module) return 0;
  PassManager pm(&context);
  pm.addPass(mest::createMestPlanStorage());
  pm.addPass(mest::createMestGroupFilters());
  pm.addPass(mest::createMestConfigureKernels());
  pm.addPass(mest::createMestGenerateBackward());
  pm.addPass(mest::createMestPlanMemory());
  pm.addPass(mest::createMestLowerKernels());
  (void)pm.run(*module);
  return 0;
}
