//===- MestDialect.td - the mest dialect -------------------*- tablegen -*-===//
#ifndef MEST_DIALECT_TD
#define MEST_DIALECT_TD

include "mlir/IR/OpBase.td"

def Mest_Dialect : Dialect {
  let name = "mest";
  let cppNamespace = "::mest";
  let summary = "Layers of sparse neural networks for memory-economic training";
  let description = [{
    The `mest` dialect describes a neural network as a function from an input batch
    to logits, one op per layer, on tensors with value semantics. Layers that own
    parameters (`mest.conv2d`, `mest.linear`, `mest.batch_norm`) carry a stable
    symbol name (`@layer1.0.conv1`) by which passes, checkpoints and reports refer
    to them; the compiler, not the user, decides how their parameters are stored.

    Convolutions and linear layers carry a `#mest.sparsity<...>` attribute: the
    sparsity scheme, the target sparsity and the storage capacity. The compiler
    specialises storage and kernels on it.

    A model is a `func.func` marked with the unit attribute `mest.model`; the
    dialect verifies that its layer names are unique.

    ```mlir
    func.func @tiny(%x: tensor<8x1x28x28xf32>) -> tensor<8x10xf32>
        attributes {mest.model} {
      %0 = mest.conv2d @conv1(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>,
             sparsity = #mest.sparsity<pattern, target = 0.9>}
           : tensor<8x1x28x28xf32> -> tensor<8x8x28x28xf32>
      %1 = mest.relu %0 : tensor<8x8x28x28xf32>
      %2 = mest.global_avg_pool2d %1 : tensor<8x8x28x28xf32> -> tensor<8x8xf32>
      %3 = mest.linear @fc(%2) {out_features = 10 : i64}
           : tensor<8x8xf32> -> tensor<8x10xf32>
      return %3 : tensor<8x10xf32>
    }
    ```
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    /// Name of the unit attribute that marks a func.func as a mest model.
    static constexpr ::llvm::StringLiteral getModelAttrName() { return "mest.model"; }
    // Attributes added by the planning passes (docs/pipeline.md).
    static constexpr ::llvm::StringLiteral getStateOffsetAttrName() { return "mest.state_offset"; }
    static constexpr ::llvm::StringLiteral getStateBytesAttrName() { return "mest.state_bytes"; }
    static constexpr ::llvm::StringLiteral getDropoutStateOffsetAttrName() { return "mest.dropout_state_offset"; }
    static constexpr ::llvm::StringLiteral getArenaOffsetsAttrName() { return "mest.arena_offsets"; }
    static constexpr ::llvm::StringLiteral getArenaBytesAttrName() { return "mest.arena_bytes"; }
    /// Stack bytes per thread the step's kernels take (mest-plan-memory).
    static constexpr ::llvm::StringLiteral getScratchBytesAttrName() { return "mest.scratch_bytes"; }
    static constexpr ::llvm::StringLiteral getRegroupAttrName() { return "mest.regroup"; }
    static constexpr ::llvm::StringLiteral getTrainStepAttrName() { return "mest.train_step"; }
    static constexpr ::llvm::StringLiteral getEvalStepAttrName() { return "mest.eval_step"; }
    static constexpr ::llvm::StringLiteral getInferStepAttrName() { return "mest.infer_step"; }
    /// The two halves of a train step split by mest-split-update-step: forward
    /// and backward storing every gradient, then every SGD update.
    static constexpr ::llvm::StringLiteral getGradStepAttrName() { return "mest.grad_step"; }
    static constexpr ::llvm::StringLiteral getUpdateStepAttrName() { return "mest.update_step"; }
    /// Unit attribute on a grad step whose batch norms sum their statistics
    /// across data-parallel replicas (mest_rt_sum_across_replicas).
    static constexpr ::llvm::StringLiteral getSyncReplicasAttrName() { return "mest.sync_replicas"; }
    /// The model a step function (train, grad, update, eval or infer) was made
    /// from; null for any other op.
    static ::mlir::FlatSymbolRefAttr getStepModel(::mlir::Operation *op);
    /// A step that runs forward and backward in training mode (train or grad).
    static bool isTrainingStep(::mlir::Operation *op);
    // The target description (on the module) and each layer's kernel configuration.
    static constexpr ::llvm::StringLiteral getTargetAttrName() { return "mest.target"; }
    static constexpr ::llvm::StringLiteral getKernelConfigAttrName() { return "mest.kernel"; }
  }];
}

class Mest_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mest_Dialect, mnemonic, traits>;

#endif // MEST_DIALECT_TD
