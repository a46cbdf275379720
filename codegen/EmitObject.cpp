//===- EmitObject.cpp - LLVM dialect to an object file --------------------===//
#include "codegen/EmitObject.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

LogicalResult mest::emitObject(ModuleOp module, const TargetOptions &target, bool emitLLVM,
                               llvm::raw_pwrite_stream &os, std::string &error) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();

  const bool host = target.triple.empty();
  std::string triple = host ? llvm::sys::getDefaultTargetTriple() : target.triple;
  std::string cpu = !target.cpu.empty() ? target.cpu : host ? llvm::sys::getHostCPUName().str()
                                                            : "generic";
  std::string features = target.features;
  if (features.empty() && host && target.cpu.empty()) {
    // Host features only when no CPU is named: "-avx512f" from the host string
    // would cancel a named CPU's AVX-512.
    llvm::SubtargetFeatures f;
    for (auto &feature : llvm::sys::getHostCPUFeatures()) f.AddFeature(feature.first(), feature.second);
    features = f.getString();
  }
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!t) {
    error = "unknown target '" + triple + "': " + error;
    return failure();
  }
  std::unique_ptr<llvm::TargetMachine> tm(t->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt,
      target.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive : llvm::CodeGenOptLevel::Default));
  if (!tm) {
    error = "cannot create a target machine for '" + triple + "' cpu '" + cpu + "'";
    return failure();
  }

  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, context, "mest");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return failure();
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());
  auto optimize = makeOptimizingTransformer(target.optLevel, /*sizeLevel=*/0, tm.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    error = "LLVM optimisation failed: " + llvm::toString(std::move(err));
    return failure();
  }
  if (emitLLVM) {
    llvmModule->print(os, nullptr);
    return success();
  }
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "target '" + triple + "' cannot emit object files";
    return failure();
  }
  pm.run(*llvmModule);
  return success();
}
