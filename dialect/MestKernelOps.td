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
    the batch norm reading `%y` takes as its `stats` operand. With `bn_relu %a`
    the layer's input is `relu(%x * %a[c, 0] + %a[c, 1])`, applied as the
    padded kernel copies `%x` (the batch norm before it was folded into its
    consumers: see `mest.batch_norm_affine`).

    ```mlir
    %y, %s = mest.forward @conv1(%x)
        : tensor<64x3x32x32xf32> -> tensor<64x16x32x32xf32>, stats tensor<64x16x2xf32>
    ```
  }];
  let arguments = (ins ActTensor2DOr4D:$input, Optional<TensorRankOf<[F32], [2]>>:$input_affine,
                       FlatSymbolRefAttr:$layer);
  let results = (outs ActTensor2DOr4D:$output, Optional<TensorRankOf<[F32], [3]>>:$stats);
  let assemblyFormat = [{
    $layer `(` $input (`,` `bn_relu` $input_affine^ `:` type($input_affine))? `)` attr-dict `:`
    type($input) `->` type($output) (`,` `stats` type($stats)^)?
  }];
  let hasVerifier = 1;
}

def Mest_BatchNormAffineOp : Mest_Op<"batch_norm_affine",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>]> {
  let summary = "Training batch norm + ReLU folded into its consumers: statistics only";
  let description = [{
    What `batch_norm_train @bn(%x) relu` computes except its output: the batch
    mean and inverse standard deviation (for backward), the running averages,
    and per channel `(scale, shift)` with `relu(x * scale + shift)` the output.
    mest-form-kernels makes it when every user of that output can apply it as
    it reads `%x`: padded conv forward and backward-weight kernels (`bn_relu`
    operand) and the batch norm's own backward (`relu_affine`, the ReLU mask).
    The output then never exists: one activation less saved per layer.

    ```mlir
    %mean, %invstd, %a = mest.batch_norm_affine @bn1(%x, stats %s : tensor<64x16x2xf32>)
        : tensor<64x16x32x32xf32> -> tensor<16xf32>, tensor<16xf32>, tensor<16x2xf32>
    ```
  }];
  let arguments = (ins ActTensor4D:$input, Optional<TensorRankOf<[F32], [3]>>:$stats,
                       FlatSymbolRefAttr:$layer);
  let results = (outs TensorRankOf<[F32], [1]>:$mean, TensorRankOf<[F32], [1]>:$inv_std,
                      TensorRankOf<[F32], [2]>:$affine);
  let assemblyFormat = [{
    $layer `(` $input (`,` `stats` $stats^ `:` type($stats))? `)` attr-dict `:` type($input) `->`
    type($mean) `,` type($inv_std) `,` type($affine)
  }];
}

#endif // MEST_KERNEL_OPS_TD
