//===- Passes.td - mest passes -----------------------------*- tablegen -*-===//
#ifndef MEST_PASSES_TD
#define MEST_PASSES_TD

include "mlir/Pass/PassBase.td"

def MestReportCost : Pass<"mest-report-cost", "::mlir::ModuleOp"> {
  let summary = "Print what each layer of a model will cost: weights, MACs, bytes";
  let description = [{
    For every `mest.model` function, prints one row per layer with parameters:
    its dense parameter count, the weights kept at the target sparsity and at the
    storage capacity, forward and backward multiply-accumulates per batch at the
    target and dense, and the bytes its compressed storage takes (weights,
    gradients and momentum at capacity, plus index metadata and, for batch norm,
    running statistics), then model totals. Backward MACs count the weight
    gradient plus the data gradient, which the first layer does not need.
    The IR is not changed. The counts are the runtime's own (runtime/formats/Scheme.h).

    ```
    mest-opt --mest-report-cost -o /dev/null examples/resnet32-pattern90.mlir
    ```
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "Output format: table (for people) or json (one object per model)">,
  ];
}

#endif // MEST_PASSES_TD
