//===- mest-opt.cpp - inspect and transform mest IR -----------------------===//
//
// mlir-opt for mest: registers only the dialects and passes mest uses, which
// keeps the build fast and `--help` short.
//
//===----------------------------------------------------------------------===//
#include "codegen/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mest::registerCodegenDialects(registry);
  mest::registerMestPasses();
  mest::registerMestPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mest optimizer driver\n", registry));
}
