//===- MestKernelOps.td - ops of formed kernels ------------*- tablegen -*-===//
//
// Created by mest-form-kernels, not written by users: in a step function a
// conv2d or linear layer runs as `mest.forward` of the model's layer, with the
// epilogue the kernel formation attached to it.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_KERNEL_OPS_TD
#define MEST_KERNEL_OPS_TD

def Mest_ForwardOp : Mest_Op<"forward", [MemoryEffects<[MemRead<Mest_StateResource>]>]> {
  let summary = "Forward kernel of a model's conv2d or linear layer";
  let description = [{
    The forward of the layer `@layer` of the step's model (its geometry,
    sparsity, storage and `#mest.kernel` configuration) on `%x`. With a
    second result the kernel also writes, in its epilogue, the per-plane
    statistics `[N, C, 2]` (sum and sum of squares of each output plane) that
    the batch norm reading `%y` takes as its `stats` operand.

    ```mlir
    %y, %s = mest.forward @conv1(%x)
        : tensor<64x3x32x32xf32> -> tensor<64x16x32x32xf32>, stats tensor<64x16x2xf32>
    ```
  }];
  let arguments = (ins F32Tensor2DOr4D:$input, FlatSymbolRefAttr:$layer);
  let results = (outs F32Tensor2DOr4D:$output, Optional<TensorRankOf<[F32], [3]>>:$stats);
  let assemblyFormat = [{
    $layer `(` $input `)` attr-dict `:` type($input) `->` type($output)
    (`,` `stats` type($stats)^)?
  }];
  let hasVerifier = 1;
}

#endif // MEST_KERNEL_OPS_TD
