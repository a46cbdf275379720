//===- MestOps.td - mest layer ops -------------------------*- tablegen -*-===//
#ifndef MEST_OPS_TD
#define MEST_OPS_TD

include "dialect/MestDialect.td"
include "dialect/MestAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Mest_LayerOpInterface : OpInterface<"LayerOpInterface"> {
  let cppNamespace = "::mest";
  let description = [{
    A layer that owns trainable parameters and is named by a stable symbol.
  }];
  let methods = [
    InterfaceMethod<"The layer's stable name.", "::llvm::StringRef", "getLayerName",
      (ins), [{ return $_op.getSymName(); }]>,
    InterfaceMethod<"Number of trainable parameters when dense.", "int64_t",
      "getNumParameters">,
  ];
}

/// The model's layer state (parameters, gradients, optimizer state, running
/// statistics): forward layers read it, training ops also write it.
def Mest_StateResource : Resource<"::mest::StateResource">;

def F32Tensor4D : TensorRankOf<[F32], [4]>;
def F32Tensor2D : TensorRankOf<[F32], [2]>;
def F32Tensor2DOr4D : TensorRankOf<[F32], [2, 4]>;
// Activations a training step saves for backward: f32, or 16-bit floats where
// mest-compact-activations stores them compactly (arithmetic stays f32). A
// model function itself computes in f32 only (its verifier says so).
def ActTensor4D : TensorRankOf<[F32, F16, BF16], [4]>;
def ActTensor2D : TensorRankOf<[F32, F16, BF16], [2]>;
def ActTensor2DOr4D : TensorRankOf<[F32, F16, BF16], [2, 4]>;
def ActTensor : TensorOf<[F32, F16, BF16]>;

class Mest_LayerOp<string mnemonic, list<Trait> traits = []>
    : Mest_Op<mnemonic, !listconcat(traits,
        [MemoryEffects<[MemRead<Mest_StateResource>]>,
         DeclareOpInterfaceMethods<Mest_LayerOpInterface, ["getNumParameters"]>])>;

def Mest_Conv2dOp : Mest_LayerOp<"conv2d"> {
  let summary = "2-D convolution over NCHW activations, optionally sparse";
  let description = [{
    Convolves `input` [N, C, H, W] with the layer's own weights [O, C, kh, kw]
    (O = `out_channels`), giving [N, O, (H + 2*ph - kh)/sh + 1, (W + 2*pw - kw)/sw + 1].
    `kernel`, `stride` and `padding` are [h, w] pairs; `bias` adds a per-channel bias.
    `groups` (default 1, dividing C and O) splits the channels into groups that
    convolve apart: filter o sees the C / groups input channels of its group
    o / (O / groups), so the weights are [O, C / groups, kh, kw]; groups = C = O
    is a depthwise convolution. `sparsity` (default dense) selects the scheme,
    target and capacity of the weights; a grouped convolution takes dense or
    unstructured.

    ```mlir
    %1 = mest.conv2d @layer1.0.conv1(%0) {out_channels = 16 : i64,
           kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>,
           padding = array<i64: 1, 1>,
           sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>}
         : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins
    F32Tensor4D:$input,
    SymbolNameAttr:$sym_name,
    I64Attr:$out_channels,
    DenseI64ArrayAttr:$kernel,
    DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$stride,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
    DefaultValuedAttr<BoolAttr, "false">:$bias,
    DefaultValuedAttr<I64Attr, "1">:$groups,
    OptionalAttr<Mest_SparsityAttr>:$sparsity
  );
  let results = (outs F32Tensor4D:$output);
  let assemblyFormat = [{
    $sym_name `(` $input `)` attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The sparsity attribute, or `#mest.sparsity<dense>` when absent.
    SparsityAttr getSparsityOrDense();
    int64_t getInChannels() { return getInput().getType().getDimSize(1); }
    /// The input channels one filter sees: C / groups.
    int64_t getFilterChannels() { return getInChannels() / getGroups(); }
  }];
}

def Mest_LinearOp : Mest_LayerOp<"linear"> {
  let summary = "Fully connected layer, optionally sparse";
  let description = [{
    Computes `input` [N, I] times the transposed weights [O, I] (O = `out_features`),
    plus a bias when `bias` is true (the default). Only `dense`, `unstructured`
    and `block` sparsity apply to a linear layer.

    ```mlir
    %logits = mest.linear @fc(%feat) {out_features = 10 : i64}
              : tensor<64x64xf32> -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins
    F32Tensor2D:$input,
    SymbolNameAttr:$sym_name,
    I64Attr:$out_features,
    DefaultValuedAttr<BoolAttr, "true">:$bias,
    OptionalAttr<Mest_SparsityAttr>:$sparsity
  );
  let results = (outs F32Tensor2D:$output);
  let assemblyFormat = [{
    $sym_name `(` $input `)` attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    SparsityAttr getSparsityOrDense();
  }];
}

def Mest_BatchNormOp : Mest_LayerOp<"batch_norm", [SameOperandsAndResultType]> {
  let summary = "Batch normalisation over the channel dimension";
  let description = [{
    Normalises [N, C, H, W] (or [N, C]) per channel with batch statistics in
    training and running statistics in evaluation; learns a scale and a shift per
    channel. Running averages use `momentum` (default 0.1); `eps` defaults to 1e-5.

    ```mlir
    %2 = mest.batch_norm @bn1(%1) : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins
    F32Tensor2DOr4D:$input,
    SymbolNameAttr:$sym_name,
    DefaultValuedAttr<F64Attr, "1e-5">:$eps,
    DefaultValuedAttr<F64Attr, "0.1">:$momentum
  );
  let results = (outs F32Tensor2DOr4D:$output);
  let assemblyFormat = "$sym_name `(` $input `)` attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Mest_ReluOp : Mest_Op<"relu", [Pure, SameOperandsAndResultType]> {
  let summary = "Rectified linear unit, max(x, 0)";
  let description = [{
    ```mlir
    %3 = mest.relu %2 : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Mest_ClipOp : Mest_Op<"clip", [Pure, SameOperandsAndResultType]> {
  let summary = "Clamp to [min, max], e.g. ReLU6 (min = 0, max = 6)";
  let description = [{
    `min(max(x, min), max)`; the bounds are finite and `min <= max`.

    ```mlir
    %3 = mest.clip %2 {min = 0.0, max = 6.0} : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, F64Attr:$min, F64Attr:$max);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Mest_ActivationOp : Mest_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "Sigmoid, hard sigmoid, hard swish or SiLU, elementwise";
  let description = [{
    - `sigmoid`: `1 / (1 + exp(-x))`;
    - `hard_sigmoid`: `h(x) = max(0, min(1, alpha * x + beta))` (ONNX HardSigmoid;
      PyTorch's Hardsigmoid is alpha = 1/6, beta = 1/2);
    - `hard_swish`: `x * h(x)` (ONNX HardSwish and PyTorch's Hardswish are
      alpha = 1/6, beta = 1/2);
    - `silu`: `x * sigmoid(x)` (also called swish).
    `alpha` and `beta` are given for the two hard kinds, finite, alpha > 0,
    and not for the others.

    ```mlir
    %3 = mest.activation hard_swish %2 {alpha = 0.16666666666666666, beta = 0.5} : tensor<64x16x8x8xf32>
    %4 = mest.activation sigmoid %3 : tensor<64x16xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, Mest_ActivationAttr:$kind,
                       OptionalAttr<F64Attr>:$alpha, OptionalAttr<F64Attr>:$beta);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "`` $kind $input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether backward reads the output (sigmoid, hard sigmoid) rather than
    /// the input (hard swish, SiLU) to form the gradient.
    static bool gradientFromOutput(Activation kind) {
      return kind == Activation::sigmoid || kind == Activation::hard_sigmoid;
    }
  }];
}

def Mest_DropoutOp : Mest_Op<"dropout", [Pure, SameOperandsAndResultType]> {
  let summary = "Inverted dropout: trained for real, the identity everywhere else";
  let description = [{
    In the train step (`mest-generate-backward` makes it `mest.dropout_train`)
    each element is zeroed with probability `ratio` and the others are scaled
    by `1 / (1 - ratio)`, from a counter-based random stream in the state block
    (`mest-plan-storage` places it; docs/formats.md gives the function). The
    eval step, inference and the exported graph leave it out. `0 <= ratio < 1`.

    ```mlir
    %5 = mest.dropout %4 {ratio = 0.2} : tensor<64x1280xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, F64Attr:$ratio);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Mest_ScaleChannelsOp : Mest_Op<"scale_channels",
    [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "Each channel of each image times its own scalar (squeeze-and-excitation)";
  let description = [{
    `out[n, c, h, w] = x[n, c, h, w] * scale[n, c]`: the excitation of a
    squeeze-and-excitation block (ONNX Mul of [N, C, H, W] by [N, C, 1, 1]).

    ```mlir
    %5 = mest.scale_channels %x, %s : tensor<64x16x8x8xf32>, tensor<64x16xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input, TensorRankOf<[F32], [2]>:$scale);
  let results = (outs TensorRankOf<[F32], [4]>:$output);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
  let hasVerifier = 1;
}

def Mest_ConcatOp : Mest_Op<"concat", [Pure]> {
  let summary = "Activations side by side along the channels (ONNX Concat on axis 1)";
  let description = [{
    The inputs have one batch and plane size; the output's channels are the
    inputs' in order: DenseNet's dense blocks, Inception branches, SqueezeNet's
    fire modules.

    ```mlir
    %c = mest.concat %a, %b : tensor<64x16x8x8xf32>, tensor<64x32x8x8xf32> -> tensor<64x48x8x8xf32>
    ```
  }];
  let arguments = (ins Variadic<TensorRankOf<[F32], [4]>>:$inputs);
  let results = (outs TensorRankOf<[F32], [4]>:$output);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_SliceChannelsOp : Mest_Op<"slice_channels", [Pure]> {
  let summary = "Channels [offset, offset + C) of an activation (ONNX Slice or Split on axis 1)";
  let description = [{
    ShuffleNet's channel split, and the gradient of a `mest.concat` input.

    ```mlir
    %db = mest.slice_channels %dc {offset = 16 : i64} : tensor<64x48x8x8xf32> -> tensor<64x32x8x8xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input, I64Attr:$offset);
  let results = (outs TensorRankOf<[F32], [4]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_ShuffleChannelsOp : Mest_Op<"shuffle_channels",
    [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "ShuffleNet's channel shuffle: groups interleaved";
  let description = [{
    `out[n, c] = in[n, (c % groups) * (C / groups) + c / groups]`: the
    reshape to [N, groups, C / groups, H, W], transpose of the two channel
    dimensions and reshape back that PyTorch exports. Its gradient is the
    shuffle with C / groups groups.

    ```mlir
    %y = mest.shuffle_channels %x {groups = 2 : i64} : tensor<64x48x8x8xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [4]>:$input, I64Attr:$groups);
  let results = (outs TensorRankOf<[F32], [4]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Mest_AddOp : Mest_Op<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise sum, the join of a residual connection";
  let description = [{
    ```mlir
    %7 = mest.add %6, %0 : tensor<64x16x32x32xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$lhs, TensorOf<[F32]>:$rhs);
  let results = (outs TensorOf<[F32]>:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

class Mest_Pool2dOp<string mnemonic, string what> : Mest_Op<mnemonic, [Pure]> {
  let summary = what # " pooling over windows of NCHW activations";
  let description = [{
    Pools windows of `kernel` [h, w] moved by `stride` (default: the kernel) over
    the input padded by `padding` (default 0); the output size follows the
    convolution formula. Padded positions never win a max and are not counted
    in an average (count_include_pad = false).

    ```mlir
    %p = mest.}] # mnemonic # [{ %x {kernel = array<i64: 2, 2>}
         : tensor<64x16x32x32xf32> -> tensor<64x16x16x16xf32>
    ```
  }];
  let arguments = (ins
    ActTensor4D:$input,
    DenseI64ArrayAttr:$kernel,
    OptionalAttr<DenseI64ArrayAttr>:$stride,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding
  );
  let results = (outs ActTensor4D:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The stride in effect: the explicit one, or the kernel.
    ::llvm::ArrayRef<int64_t> getStrideOrKernel() {
      return getStride() ? *getStride() : getKernel();
    }
  }];
}

def Mest_MaxPool2dOp : Mest_Pool2dOp<"max_pool2d", "Max">;
def Mest_AvgPool2dOp : Mest_Pool2dOp<"avg_pool2d", "Average">;

def Mest_GlobalAvgPool2dOp : Mest_Op<"global_avg_pool2d", [Pure]> {
  let summary = "Average over the whole spatial plane: [N, C, H, W] -> [N, C]";
  let description = [{
    ```mlir
    %f = mest.global_avg_pool2d %x : tensor<64x64x8x8xf32> -> tensor<64x64xf32>
    ```
  }];
  let arguments = (ins ActTensor4D:$input);
  let results = (outs ActTensor2D:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_FlattenOp : Mest_Op<"flatten", [Pure]> {
  let summary = "Flatten [N, C, H, W] to [N, C*H*W]";
  let description = [{
    ```mlir
    %f = mest.flatten %x : tensor<64x32x7x7xf32> -> tensor<64x1568xf32>
    ```
  }];
  let arguments = (ins ActTensor4D:$input);
  let results = (outs ActTensor2D:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Mest_SoftmaxCrossEntropyOp : Mest_Op<"softmax_cross_entropy", [Pure]> {
  let summary = "Per-example softmax cross-entropy loss and correctness";
  let description = [{
    For logits [N, K] and integer labels [N] in [0, K), returns the per-example
    loss -log softmax(logits)[label], whether the arg-max equals the label
    (first maximum on ties), and the margin (label logit minus the largest other
    logit). The per-example values feed the mean loss and the forgetting
    statistics of data-efficient training.

    ```mlir
    %loss, %correct, %margin = mest.softmax_cross_entropy %logits, %labels
        : tensor<64x10xf32>, tensor<64xi32> -> tensor<64xf32>, tensor<64xi1>, tensor<64xf32>
    ```
  }];
  let arguments = (ins F32Tensor2D:$logits, TensorRankOf<[I32], [1]>:$labels);
  let results = (outs TensorRankOf<[F32], [1]>:$loss,
                      TensorRankOf<[I1], [1]>:$correct,
                      TensorRankOf<[F32], [1]>:$margin);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` type($logits) `,` type($labels) `->`
    type($loss) `,` type($correct) `,` type($margin)
  }];
  let hasVerifier = 1;
}

include "dialect/MestTrainingOps.td"
include "dialect/MestKernelOps.td"

#endif // MEST_OPS_TD
