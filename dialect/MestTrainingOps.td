//===- MestTrainingOps.td - ops of a compiled training step -*- tablegen -*-===//
//
// Created by mest-generate-backward, not written by users: the training-mode
// forward ops that save what backward needs, the gradient ops, and the SGD
// update. Ops that refer to a layer (`@name`) act on that layer's state.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TRAINING_OPS_TD
#define MEST_TRAINING_OPS_TD

def Mest_BatchNormTrainOp : Mest_Op<"batch_norm_train",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>,
     AttrSizedOperandSegments]> {
  let summary = "Batch norm with batch statistics; updates the running averages";
  let description = [{
    The training-mode form of `mest.batch_norm @layer`: normalises with the
    batch's mean and (biased) variance, updates the layer's running statistics,
    and returns the per-channel mean and inverse standard deviation for backward.

    ```mlir
    %y, %mean, %invstd = mest.batch_norm_train @bn1(%x)
        : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>
    ```

    mest-form-kernels folds what follows it into its epilogue and where its
    statistics come from into its operands; the result is then
    `relu?(bn(x) + residual?)`:
    - `stats %s`: per-plane sums `[N, C, 2]` (sum, sum of squares of each
      image's plane) written by the conv forward that produced `%x`, so the
      kernel makes one pass over `%x` instead of two;
    - `residual %r`: the other side of a residual add, added after the affine
      normalisation;
    - `relu`: the ReLU that was the only user.

    ```mlir
    %y, %mean, %invstd = mest.batch_norm_train @bn2(%x, stats %s : tensor<64x16x2xf32>,
        residual %r : tensor<64x16x32x32xf32>) relu : tensor<64x16x32x32xf32> -> ...
    ```

    mest-recompute-activations adds the optional `affine` result, the
    per-channel `(scale, shift)` with `relu?(x * scale + shift + residual?)`
    the output, when backward recomputes the output from it
    (`mest.batch_norm_apply`) instead of keeping it.
  }];
  let arguments = (ins ActTensor2DOr4D:$input, Optional<TensorRankOf<[F32], [3]>>:$stats,
                       Optional<ActTensor2DOr4D>:$residual, FlatSymbolRefAttr:$layer,
                       UnitAttr:$relu);
  let results = (outs ActTensor2DOr4D:$output, TensorRankOf<[F32], [1]>:$mean,
                      TensorRankOf<[F32], [1]>:$inv_std,
                      Optional<TensorRankOf<[F32], [2]>>:$affine);
  let assemblyFormat = [{
    $layer `(` $input ``custom<NormOperands>($stats, type($stats), $residual, type($residual))
    `` `)`
    (`relu` $relu^)? attr-dict `:` type($input) `->` type($output) `,` type($mean) `,`
    type($inv_std) (`,` `affine` type($affine)^)?
  }];
  let hasVerifier = 1;
}

def Mest_BatchNormApplyOp : Mest_Op<"batch_norm_apply", [Pure]> {
  let summary = "A training batch norm's output, recomputed from its input";
  let description = [{
    `relu?(x * affine[c, 0] + affine[c, 1] + residual?)`: the output of the
    `batch_norm_train` whose `affine` result it reads, made by
    mest-recompute-activations in backward where that output is needed again,
    so that the train step does not keep it across the turn from forward to
    backward. The same fma, add and max in the same order as the forward
    kernel, stored in the same element type: the recomputed values equal the
    forward's bit for bit.

    ```mlir
    %y = mest.batch_norm_apply(%x, %a : tensor<16x2xf32>, residual %r : tensor<64x16x32x32xbf16>)
        relu : tensor<64x16x32x32xbf16> -> tensor<64x16x32x32xbf16>
    ```
  }];
  let arguments = (ins ActTensor2DOr4D:$input, TensorRankOf<[F32], [2]>:$affine,
                       Optional<ActTensor2DOr4D>:$residual, UnitAttr:$relu);
  let results = (outs ActTensor2DOr4D:$output);
  let assemblyFormat = [{
    `(` $input `,` $affine `:` type($affine) (`,` `residual` $residual^ `:` type($residual))? `)`
    (`relu` $relu^)? attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Mest_BatchNormGradOp : Mest_Op<"batch_norm_grad",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>,
     AllTypesMatch<["output_grad", "input_grad"]>, AllShapesMatch<["input", "output_grad"]>,
     AllTypesMatch<["mean", "inv_std"]>, AttrSizedOperandSegments]> {
  let summary = "Input gradient of batch norm; writes the scale and shift gradients";
  let description = [{
    ```mlir
    %dx = mest.batch_norm_grad @bn1(%x, %dy, %mean, %invstd)
        : tensor<64x16x32x32xf32>, tensor<16xf32>
    ```

    With `relu %y` (set by mest-form-kernels) `%dy` is the gradient of the
    ReLU after the batch norm, whose output was `%y`: the kernel takes `%dy`
    where `%y > 0` and 0 elsewhere (the ReLU backward as its prologue). With
    `relu_affine %a` instead, `%y` was not stored (`mest.batch_norm_affine`)
    and the mask is `%x * %a[c, 0] + %a[c, 1] > 0`.
  }];
  let arguments = (ins ActTensor2DOr4D:$input, F32Tensor2DOr4D:$output_grad,
                       TensorRankOf<[F32], [1]>:$mean, TensorRankOf<[F32], [1]>:$inv_std,
                       Optional<ActTensor2DOr4D>:$relu_output,
                       Optional<TensorRankOf<[F32], [2]>>:$relu_affine, FlatSymbolRefAttr:$layer);
  let results = (outs F32Tensor2DOr4D:$input_grad);
  // The gradients' type is the input's unless printed last: a compact
  // (16-bit) input differs from its f32 gradients.
  let assemblyFormat = [{
    $layer `(` $input `,` $output_grad `,` $mean `,` $inv_std
    (`,` `relu` $relu_output^ `:` type($relu_output))?
    (`,` `relu_affine` $relu_affine^ `:` type($relu_affine))? `)` attr-dict `:` type($input)
    `,` type($mean) ``custom<TypeOr>(type($output_grad), ref(type($input)), "\",\"")
  }];
  let hasVerifier = 1;
}

def Mest_GradInputOp : Mest_Op<"grad_input",
    [MemoryEffects<[MemRead<Mest_StateResource>]>,
     OptionalTypesMatchWith<"the addend has the result's type", "input_grad", "addend",
                            "$_self">]> {
  let summary = "Input gradient of a conv2d or linear layer (backward-data)";
  let description = [{
    Uses the layer's active weights only; the layer's geometry and sparsity are
    those of the model's layer `@layer`.

    ```mlir
    %dx = mest.grad_input @layer1.0.conv1(%dy)
        : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    ```

    With `add %g` (set by mest-form-kernels where a value fans out) the result
    is the input gradient plus `%g`, the gradient arriving by the other path,
    added as the kernel stores.
  }];
  let arguments = (ins TensorOf<[F32]>:$output_grad, Optional<TensorOf<[F32]>>:$addend,
                       FlatSymbolRefAttr:$layer);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = [{
    $layer `(` $output_grad (`,` `add` $addend^)? `)` attr-dict `:` type($output_grad) `->`
    type($input_grad)
  }];
}

def Mest_GradWeightSgdOp : Mest_Op<"grad_weight_sgd",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>]> {
  let summary = "Weight gradient of a conv2d or linear layer, fused with its SGD step";
  let description = [{
    Computes the gradient of every *active* weight (and of the bias), stores it,
    and immediately applies SGD with momentum and weight decay in place on the
    compressed values: g += wd * w; m = momentum * m + g; w -= lr * m. Placed
    after the layer's `mest.grad_input`, which needs the old weights.

    ```mlir
    mest.grad_weight_sgd @layer1.0.conv1(%x, %dy, %lr, %mom, %wd)
        : tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins ActTensor:$input, TensorOf<[F32]>:$output_grad, F32:$lr,
                       F32:$momentum, F32:$weight_decay,
                       Optional<TensorRankOf<[F32], [2]>>:$input_affine,
                       FlatSymbolRefAttr:$layer);
  let assemblyFormat = [{
    $layer `(` $input `,` $output_grad `,` $lr `,` $momentum `,` $weight_decay
    (`,` `bn_relu` $input_affine^ `:` type($input_affine))? `)` attr-dict
    `:` type($input) `,` type($output_grad)
  }];
}

def Mest_GradWeightOp : Mest_Op<"grad_weight",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>]> {
  let summary = "Weight gradient of a conv2d or linear layer, stored for a later update";
  let description = [{
    Computes the gradient of every *active* weight (and of the bias) and stores
    it in the layer's gradient arrays, leaving the weights as they are: the
    unfused form that mest-generate-backward emits, followed by the layer's
    `mest.sgd`. mest-fuse-sgd turns the pair into `mest.grad_weight_sgd` unless
    something has to happen in between (a gradient exchange across processes).

    ```mlir
    mest.grad_weight @layer1.0.conv1(%x, %dy) : tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins ActTensor:$input, TensorOf<[F32]>:$output_grad,
                       Optional<TensorRankOf<[F32], [2]>>:$input_affine,
                       FlatSymbolRefAttr:$layer);
  let assemblyFormat = [{
    $layer `(` $input `,` $output_grad (`,` `bn_relu` $input_affine^ `:` type($input_affine))? `)`
    attr-dict `:` type($input) `,` type($output_grad)
  }];
}

def Mest_SgdOp : Mest_Op<"sgd",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>]> {
  let summary = "SGD step on a layer's stored gradients";
  let description = [{
    SGD with momentum and weight decay on the parameters of a layer from the
    gradients stored in its state: d = g + wd * w; m = momentum * m + d;
    w -= lr * m. A batch-norm layer's scale and shift; a conv2d or linear
    layer's active weights and bias (after its `mest.grad_weight`).

    ```mlir
    mest.sgd @bn1(%lr, %mom, %wd)
    ```
  }];
  let arguments = (ins F32:$lr, F32:$momentum, F32:$weight_decay, FlatSymbolRefAttr:$layer);
  let assemblyFormat = "$layer `(` $lr `,` $momentum `,` $weight_decay `)` attr-dict";
}

def Mest_ReluGradOp : Mest_Op<"relu_grad",
    [Pure, AllTypesMatch<["output_grad", "input_grad"]>, AllShapesMatch<["output", "output_grad"]>]> {
  let summary = "ReLU gradient: dy where the forward output is positive";
  let description = [{
    ```mlir
    %dx = mest.relu_grad %y, %dy : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins ActTensor:$output, TensorOf<[F32]>:$output_grad);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = [{
    $output `,` $output_grad attr-dict `:` type($output)
    ``custom<TypeOr>(type($output_grad), ref(type($output)), "\",\"")
  }];
}

def Mest_ClipGradOp : Mest_Op<"clip_grad",
    [Pure, AllTypesMatch<["output_grad", "input_grad"]>, AllShapesMatch<["output", "output_grad"]>]> {
  let summary = "Clip gradient: dy where the forward output lies strictly inside the bounds";
  let description = [{
    The gradient of `mest.clip` from its output `%y`: `min < y < max` holds
    exactly where `min < x < max` (PyTorch's hardtanh backward), so the input
    need not be kept.

    ```mlir
    %dx = mest.clip_grad %y, %dy {min = 0.0, max = 6.0} : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins ActTensor:$output, TensorOf<[F32]>:$output_grad, F64Attr:$min,
                       F64Attr:$max);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = [{
    $output `,` $output_grad attr-dict `:` type($output)
    ``custom<TypeOr>(type($output_grad), ref(type($output)), "\",\"")
  }];
}

def Mest_ActivationGradOp : Mest_Op<"activation_grad",
    [Pure, AllTypesMatch<["saved", "output_grad", "input_grad"]>]> {
  let summary = "Gradient of mest.activation from the value backward keeps";
  let description = [{
    `%saved` is the forward output for `sigmoid` (dx = dy * y * (1 - y)) and
    `hard_sigmoid` (dx = dy * alpha where 0 < y < 1), the forward input for
    `hard_swish` (dx = dy * (h(x) + alpha * x where 0 < alpha * x + beta < 1))
    and `silu` (dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)). At the two
    kinks of the hard kinds the one-sided derivative taken is the outer one
    (PyTorch takes the inner one at x = -3 and x = 3 for hard swish).

    ```mlir
    %dx = mest.activation_grad silu %x, %dy : tensor<64x16x8x8xf32>
    ```
  }];
  let arguments = (ins Mest_ActivationAttr:$kind, TensorOf<[F32]>:$saved,
                       TensorOf<[F32]>:$output_grad, OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$beta);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = "`` $kind $saved `,` $output_grad attr-dict `:` type($saved)";
  let hasVerifier = 1;
}

def Mest_DropoutTrainOp : Mest_Op<"dropout_train",
    [MemoryEffects<[MemRead<Mest_StateResource>]>, SameOperandsAndResultType]> {
  let summary = "mest.dropout in the train step: the mask of this step's stream";
  let description = [{
    Element `e` (row-major in the tensor) is kept when `keep(seed, step, index,
    e)` of the model's dropout stream holds (docs/formats.md) and is then scaled
    by `1 / (1 - ratio)`; `index` numbers the model's dropouts in order, so each
    draws its own mask. Nothing is saved for backward: `mest.dropout_grad`
    recomputes the mask from the same stream.

    ```mlir
    %5 = mest.dropout_train %4 {ratio = 0.2, index = 0} : tensor<64x1280xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, F64Attr:$ratio, I64Attr:$index);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Mest_DropoutGradOp : Mest_Op<"dropout_grad",
    [MemoryEffects<[MemRead<Mest_StateResource>]>, SameOperandsAndResultType]> {
  let summary = "Gradient of mest.dropout_train: dy through the same mask and scale";
  let description = [{
    ```mlir
    %dx = mest.dropout_grad %dy {ratio = 0.2, index = 0} : tensor<64x1280xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$output_grad, F64Attr:$ratio, I64Attr:$index);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad)";
  let hasVerifier = 1;
}

def Mest_AdvanceDropoutOp : Mest_Op<"advance_dropout",
    [MemoryEffects<[MemRead<Mest_StateResource>, MemWrite<Mest_StateResource>]>]> {
  let summary = "Advance the dropout stream's step counter by one";
  let description = [{
    The last op of a train (or grad) step with dropout, after every
    `mest.dropout_grad`: the next step draws new masks. The counter is in the
    state block, so checkpoints keep it and a resumed run continues the stream.

    ```mlir
    mest.advance_dropout
    ```
  }];
  let assemblyFormat = "attr-dict";
}

def Mest_ScaleChannelsGradOp : Mest_Op<"scale_channels_grad",
    [Pure, AllTypesMatch<["input", "output_grad"]>]> {
  let summary = "Gradient of mest.scale_channels' scale: per image and channel, sum of x * dy";
  let description = [{
    `ds[n, c] = sum over h, w of x[n, c, h, w] * dy[n, c, h, w]`; the input's
    gradient is `mest.scale_channels %dy, %scale`.

    ```mlir
    %ds = mest.scale_channels_grad %x, %dy : tensor<64x16x8x8xf32> -> tensor<64x16xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input, TensorRankOf<[F32], [4]>:$output_grad);
  let results = (outs TensorRankOf<[F32], [2]>:$scale_grad);
  let assemblyFormat = "$input `,` $output_grad attr-dict `:` type($input) `->` type($scale_grad)";
  let hasVerifier = 1;
}

def Mest_PadChannelsOp : Mest_Op<"pad_channels", [Pure]> {
  let summary = "An activation placed at channels [offset, offset + C) of zeros: a slice's gradient";
  let description = [{
    ```mlir
    %dx = mest.pad_channels %db {offset = 16 : i64} : tensor<64x16x8x8xf32> -> tensor<64x32x8x8xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input, I64Attr:$offset);
  let results = (outs TensorRankOf<[F32], [4]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_ReluMaskOp : Mest_Op<"relu_mask", [Pure]> {
  let summary = "Where a ReLU's output is positive, one bit per element";
  let description = [{
    Bit `i % 8` of byte `i / 8` is `y[i] > 0`, over the flattened output (whose
    size is a multiple of 8). Made by mest-pack-relu-masks in forward for a
    ReLU output that backward reads only as a mask (`relu_grad`), which then
    reads these bits instead (`mest.relu_mask_grad`): 1 bit kept across the
    turn from forward to backward instead of 16 or 32.

    ```mlir
    %m = mest.relu_mask %y : tensor<64x64x8x8xbf16> -> tensor<32768xi8>
    ```
  }];
  let arguments = (ins ActTensor:$output);
  let results = (outs TensorRankOf<[I8], [1]>:$mask);
  let assemblyFormat = "$output attr-dict `:` type($output) `->` type($mask)";
  let hasVerifier = 1;
}

def Mest_ReluMaskGradOp : Mest_Op<"relu_mask_grad", [Pure, AllTypesMatch<["output_grad", "input_grad"]>]> {
  let summary = "ReLU gradient from its packed mask: dy where the bit is set";
  let description = [{
    `relu_grad` with the forward output's sign read from a `mest.relu_mask`.

    ```mlir
    %dx = mest.relu_mask_grad %m, %dy : tensor<32768xi8>, tensor<64x64x8x8xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[I8], [1]>:$mask, TensorOf<[F32]>:$output_grad);
  let results = (outs TensorOf<[F32]>:$input_grad);
  let assemblyFormat = "$mask `,` $output_grad attr-dict `:` type($mask) `,` type($output_grad)";
  let hasVerifier = 1;
}

def Mest_MaxPool2dTrainOp : Mest_Op<"max_pool2d_train", [Pure]> {
  let summary = "Max pooling that also returns the arg-max of each window";
  let description = [{
    ```mlir
    %y, %arg = mest.max_pool2d_train %x {kernel = array<i64: 2, 2>}
        : tensor<8x4x8x8xf32> -> tensor<8x4x4x4xf32>, tensor<8x4x4x4xi32>
    ```
  }];
  let arguments = (ins ActTensor4D:$input, DenseI64ArrayAttr:$kernel,
                       OptionalAttr<DenseI64ArrayAttr>:$stride,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding);
  let results = (outs ActTensor4D:$output, TensorRankOf<[I32], [4]>:$argmax);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($output) `,` type($argmax)
  }];
}

def Mest_MaxPool2dGradOp : Mest_Op<"max_pool2d_grad", [Pure]> {
  let summary = "Max pooling gradient, routed to each window's arg-max";
  let description = [{
    ```mlir
    %dx = mest.max_pool2d_grad %dy, %arg {kernel = array<i64: 2, 2>}
        : tensor<8x4x4x4xf32>, tensor<8x4x4x4xi32> -> tensor<8x4x8x8xf32>
    ```
  }];
  let arguments = (ins F32Tensor4D:$output_grad, TensorRankOf<[I32], [4]>:$argmax,
                       DenseI64ArrayAttr:$kernel, OptionalAttr<DenseI64ArrayAttr>:$stride,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding);
  let results = (outs F32Tensor4D:$input_grad);
  let assemblyFormat = [{
    $output_grad `,` $argmax attr-dict `:` type($output_grad) `,` type($argmax) `->`
    type($input_grad)
  }];
}

def Mest_AvgPool2dGradOp : Mest_Op<"avg_pool2d_grad", [Pure]> {
  let summary = "Average pooling gradient";
  let description = [{
    ```mlir
    %dx = mest.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>}
        : tensor<8x4x4x4xf32> -> tensor<8x4x8x8xf32>
    ```
  }];
  let arguments = (ins F32Tensor4D:$output_grad, DenseI64ArrayAttr:$kernel,
                       OptionalAttr<DenseI64ArrayAttr>:$stride,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding);
  let results = (outs F32Tensor4D:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad) `->` type($input_grad)";
}

def Mest_GlobalAvgPool2dGradOp : Mest_Op<"global_avg_pool2d_grad", [Pure]> {
  let summary = "Global average pooling gradient: spreads dy evenly over the plane";
  let description = [{
    ```mlir
    %dx = mest.global_avg_pool2d_grad %dy : tensor<64x64xf32> -> tensor<64x64x8x8xf32>
    ```
  }];
  let arguments = (ins F32Tensor2D:$output_grad);
  let results = (outs F32Tensor4D:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` type($output_grad) `->` type($input_grad)";
}

def Mest_ReshapeOp : Mest_Op<"reshape", [Pure]> {
  let summary = "Same elements, another static shape (the gradient of flatten)";
  let description = [{
    ```mlir
    %dx = mest.reshape %dy : tensor<64x1568xf32> -> tensor<64x32x7x7xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_SoftmaxCrossEntropyGradOp : Mest_Op<"softmax_cross_entropy_grad", [Pure]> {
  let summary = "Gradient of the batch-mean softmax cross-entropy: (softmax - onehot) / N";
  let description = [{
    ```mlir
    %dz = mest.softmax_cross_entropy_grad %logits, %labels
        : tensor<64x10xf32>, tensor<64xi32> -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins F32Tensor2D:$logits, TensorRankOf<[I32], [1]>:$labels);
  let results = (outs F32Tensor2D:$logits_grad);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->` type($logits_grad)
  }];
}

#endif // MEST_TRAINING_OPS_TD
