// RUN: mest-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

// expected-error @+1 {{target sparsity 1.0 is outside [0, 1)}}
func.func @f() attributes {s = #mest.sparsity<unstructured, target = 1.0>} { return }

// -----

// expected-error @+1 {{capacity -0.1 is outside [0, 1)}}
func.func @f() attributes {s = #mest.sparsity<unstructured, target = 0.5, capacity = -0.1>} { return }

// -----

// expected-error @+1 {{capacity 0.95 is sparser than the target 0.9}}
func.func @f() attributes {s = #mest.sparsity<block, target = 0.9, capacity = 0.95>} { return }

// -----

// expected-error @+1 {{unknown sparsity scheme 'random'}}
func.func @f() attributes {s = #mest.sparsity<random, target = 0.9>} { return }

// -----

// expected-error @+1 {{unknown sparsity parameter 'ratio'}}
func.func @f() attributes {s = #mest.sparsity<block, ratio = 0.9>} { return }

// -----

// expected-error @+1 {{a dense layer has no target or capacity}}
func.func @f() attributes {s = #mest.sparsity<dense, target = 0.9>} { return }

// -----

// expected-error @+1 {{block shape [0, 1] must be positive}}
func.func @f() attributes {s = #mest.sparsity<block, target = 0.9, block = [0, 1]>} { return }

// -----

// expected-error @+1 {{'block' applies to the block scheme only}}
func.func @f() attributes {s = #mest.sparsity<unstructured, target = 0.9, block = [8, 1]>} { return }

// -----

// expected-error @+1 {{'patterns' applies to the pattern scheme only}}
func.func @f() attributes {s = #mest.sparsity<block, target = 0.9, patterns = [[0, 1, 2, 3]]>} { return }

// -----

// expected-error @+1 {{pattern tap 9 is not in a 3x3 kernel}}
func.func @f() attributes {s = #mest.sparsity<pattern, target = 0.9, patterns = [[0, 1, 2, 9]]>} { return }

// -----

// expected-error @+1 {{pattern 1 repeats tap 4}}
func.func @f() attributes {s = #mest.sparsity<pattern, target = 0.9, patterns = [[0, 1, 2, 3], [4, 4, 5, 6]]>} { return }

// -----

// expected-error @+1 {{every pattern keeps exactly 4 taps}}
func.func @f() attributes {s = #mest.sparsity<pattern, target = 0.9, patterns = [[0, 1, 2]]>} { return }

// -----

// expected-error @+1 {{pattern sparsity cannot be below 0.555}}
func.func @f() attributes {s = #mest.sparsity<pattern, target = 0.5>} { return }

// -----

func.func @pattern_not_3x3(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{pattern sparsity needs a 3x3 kernel, got 5x5}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 5, 5>, sparsity = #mest.sparsity<pattern, target = 0.9>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @block_rows(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x6x6xf32> {
  // expected-error @+1 {{block rows 4 do not divide the 6 output channels}}
  %0 = mest.conv2d @c(%x) {out_channels = 6 : i64, kernel = array<i64: 3, 3>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<1x4x8x8xf32> -> tensor<1x6x6x6xf32>
  return %0 : tensor<1x6x6x6xf32>
}

// -----

func.func @block_cols(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{block columns 5 do not divide the 36 weights of a filter}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, sparsity = #mest.sparsity<block, target = 0.9, block = [4, 5]>} : tensor<1x4x8x8xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_shape(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result type 'tensor<1x4x8x8xf32>' does not match the expected shape [1, 4, 6, 6]}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>) -> tensor<1x0x6x6xf32> {
  // expected-error @+1 {{out_channels must be > 0, got 0}}
  %0 = mest.conv2d @c(%x) {out_channels = 0 : i64, kernel = array<i64: 3, 3>} : tensor<1x4x8x8xf32> -> tensor<1x0x6x6xf32>
  return %0 : tensor<1x0x6x6xf32>
}

// -----

func.func @conv_stride(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'stride' must be > 0, got [0, 1]}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 0, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_padding(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'padding' must be >= 0, got [-1, 0]}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: -1, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_kernel_rank(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kernel' must be [h, w], got 1 values}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3>} : tensor<1x4x8x8xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_too_big(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{kernel [3, 3] is larger than the padded input}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>} : tensor<1x4x2x2xf32> -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @linear_shape(%x: tensor<2x8xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{result type 'tensor<2x5xf32>' does not match the expected shape [2, 4]}}
  %0 = mest.linear @fc(%x) {out_features = 4 : i64} : tensor<2x8xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_pattern(%x: tensor<2x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'pattern' sparsity is for convolutions}}
  %0 = mest.linear @fc(%x) {out_features = 4 : i64, sparsity = #mest.sparsity<pattern, target = 0.9>} : tensor<2x8xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @bn_eps(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{eps must be > 0, got 0.0}}
  %0 = mest.batch_norm @bn(%x) {eps = 0.0 : f64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @bn_momentum(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{momentum must be in [0, 1], got 2.0}}
  %0 = mest.batch_norm @bn(%x) {momentum = 2.0 : f64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @relu_types(%x: tensor<2x8xf32>) -> tensor<2x9xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "mest.relu"(%x) : (tensor<2x8xf32>) -> tensor<2x9xf32>
  return %0 : tensor<2x9xf32>
}

// -----

func.func @add_types(%x: tensor<2x8xf32>, %y: tensor<2x4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "mest.add"(%x, %y) : (tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @pool_shape(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x3x3xf32> {
  // expected-error @+1 {{result type 'tensor<1x4x3x3xf32>' does not match the expected shape [1, 4, 4, 4]}}
  %0 = mest.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

func.func @pool_padding(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x5x5xf32> {
  // expected-error @+1 {{padding must be at most half the kernel}}
  %0 = mest.avg_pool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

func.func @gap_shape(%x: tensor<1x4x8x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{result type 'tensor<1x8xf32>' must be [N, C] of the input}}
  %0 = mest.global_avg_pool2d %x : tensor<1x4x8x8xf32> -> tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}

// -----

func.func @flatten_shape(%x: tensor<1x4x2x2xf32>) -> tensor<1x15xf32> {
  // expected-error @+1 {{result type 'tensor<1x15xf32>' must be [1, 16]}}
  %0 = mest.flatten %x : tensor<1x4x2x2xf32> -> tensor<1x15xf32>
  return %0 : tensor<1x15xf32>
}

// -----

func.func @loss_batch(%x: tensor<4x10xf32>, %l: tensor<3xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{labels, loss, correctness and margin must have the batch size 4 of the logits}}
  %loss, %c, %m = mest.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<3xi32> -> tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
  return %loss : tensor<4xf32>
}

// -----

func.func @dup(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  // expected-note @+1 {{first use here}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  // expected-error @+1 {{layer name @fc is already used in this model}}
  %1 = mest.linear @fc(%0) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{a mest model takes one input batch and returns one logits tensor, got 2 inputs and 1 results}}
func.func @two_inputs(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  return %x : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{a mest model maps a static [N, ...] batch to [N, classes] logits}}
func.func @bad_batch(%x: tensor<2x8xf32>) -> tensor<3x8xf32> attributes {mest.model} {
  %0 = "test.opaque"(%x) : (tensor<2x8xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// expected-error @+1 {{'mest.model' must be a unit attribute}}
func.func @not_unit(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model = 1 : i32} {
  return %x : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{unknown mest attribute 'mest.layer'}}
func.func @unknown(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.layer} {
  return %x : tensor<2x8xf32>
}

// -----

func.func @reshape(%x: tensor<2x8xf32>) -> tensor<2x9xf32> {
  // expected-error @+1 {{needs static shapes with the same number of elements}}
  %0 = mest.reshape %x : tensor<2x8xf32> -> tensor<2x9xf32>
  return %0 : tensor<2x9xf32>
}

// -----

// expected-error @+1 {{'mest.state_offset' applies to layers with parameters only}}
func.func @state_offset_on_func() attributes {mest.state_offset = 4 : i64} { return }

// -----

func.func @arena_offsets(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'mest.arena_offsets' needs one offset per result}}
  %0 = mest.relu %x {mest.arena_offsets = array<i64: 0, 64>} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @regroup(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'mest.regroup' must be "none", "balance-nnz" or "pattern-mix"}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, mest.regroup = "fast"} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Found by outside testing: an unused scalar made mest-plan-memory crash.
func.func @scalar(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  // expected-error @+1 {{'arith.constant' op is not a mest op: a model holds mest ops only}}
  %c = arith.constant 0.1 : f32
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Batch 0 compiled, then the training binary died with SIGFPE.
// expected-error @+1 {{has an empty tensor 'tensor<0x8xf32>': every size must be > 0}}
func.func @batch0(%x: tensor<0x8xf32>) -> tensor<0x8xf32> attributes {mest.model} {
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<0x8xf32> -> tensor<0x8xf32>
  return %0 : tensor<0x8xf32>
}

// -----

// Batch 2^62 wrapped to a 6 KB arena.
// expected-error @+1 {{of more than 1099511627776 bytes}}
func.func @batch_huge(%x: tensor<4611686018427387904x8xf32>) -> tensor<4611686018427387904x8xf32> attributes {mest.model} {
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<4611686018427387904x8xf32> -> tensor<4611686018427387904x8xf32>
  return %0 : tensor<4611686018427387904x8xf32>
}

// -----

// out_channels 2^62 reached LLVM.
func.func @wide(%x: tensor<1x1x4x4xf32>) -> tensor<1x4611686018427387904xf32> attributes {mest.model} {
  // expected-error @+1 {{of more than 1099511627776 bytes}}
  %0 = mest.conv2d @c(%x) {out_channels = 4611686018427387904 : i64, kernel = array<i64: 1, 1>} : tensor<1x1x4x4xf32> -> tensor<1x4611686018427387904x4x4xf32>
  %1 = mest.global_avg_pool2d %0 : tensor<1x4611686018427387904x4x4xf32> -> tensor<1x4611686018427387904xf32>
  return %1 : tensor<1x4611686018427387904xf32>
}

// -----

// Zero input channels reached LLVM with an internal error at 1:1.
func.func @no_channels(%x: tensor<1x0x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{needs input channels > 0, got 0}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 1, 1>} : tensor<1x0x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Padding 2^40 gave a 1e15-byte arena.
func.func @pad(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // expected-error @+1 {{'padding' must be at most 1048576, got [1099511627776, 1]}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1099511627776, 1>} : tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @pad_kernel(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{padding [3, 3] must be smaller than the kernel [3, 3]: outputs would see padding only}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 3, 3>} : tensor<1x1x4x4xf32> -> tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x8x8xf32>
}

// -----

// Stride INT64_MAX: an internal error at 1:1.
func.func @stride(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+1 {{'stride' must be at most 1048576, got [9223372036854775807, 1]}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 9223372036854775807, 1>} : tensor<1x1x4x4xf32> -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

func.func @stride_input(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x1x1xf32> {
  // expected-error @+1 {{stride [5, 5] is larger than the padded input 'tensor<1x1x4x4xf32>'}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 5, 5>} : tensor<1x1x4x4xf32> -> tensor<1x1x1x1xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

// A layer that keeps no weight was accepted in silence.
func.func @empty_channel(%x: tensor<1x1x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{keeps no weight: channel sparsity 0.9 of [4, 1, 3, 3] rounds to 0 units; lower the target}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<channel, target = 0.9>} : tensor<1x1x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @empty_target(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{keeps no weight: unstructured sparsity 0.9999999 of [8, 8, 1, 1] rounds to 0 units}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, sparsity = #mest.sparsity<unstructured, target = 0.9999999>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{unknown ISA 'sse2': expected avx2, avx512 or neon}}
module attributes {mest.target = #mest.target<isa = "sse2", vector_bits = 128, vector_registers = 16, l1_bytes = 32768, l2_bytes = 262144, stack_bytes = 1024>} {}

// -----

// expected-error @+1 {{'mest.target' is a #mest.target<...> on the module}}
func.func @f() attributes {mest.target = #mest.target<isa = "avx2", vector_bits = 256, vector_registers = 16, l1_bytes = 32768, l2_bytes = 262144, stack_bytes = 1024>} { return }

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{vector_width must be 4, 8 or 16, got 5}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, mest.kernel = #mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 5, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 0>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @f(%x: tensor<1x1x9x9xf32>) -> tensor<1x1x3x3xf32> {
  // expected-error @+1 {{padded kernels need equal strides of 1 or 2, got [3, 3]}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 3, 3>, mest.kernel = #mest.kernel<forward = padded, backward_data = direct, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 64>} : tensor<1x1x9x9xf32> -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{forward and backward_weight share the padded input copy: both padded or both direct}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, mest.kernel = #mest.kernel<forward = padded, backward_data = direct, backward_weight = direct, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 64>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{direct kernels use no scratch, got scratch_bytes = 64}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, mest.kernel = #mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 64>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

module attributes {mest.target = #mest.target<isa = "neon", vector_bits = 128, vector_registers = 32, l1_bytes = 65536, l2_bytes = 524288, stack_bytes = 1024>} {
func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{scratch_bytes 4096 exceed the target's stack budget of 1024}}
  %0 = mest.linear @fc(%x) {out_features = 8 : i64, mest.kernel = #mest.kernel<forward = padded, backward_data = direct, backward_weight = padded, order = weight, vector_width = 4, registers = 24, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 24, scratch_bytes = 4096>} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
}

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'mest.kernel' is a #mest.kernel<...> on conv2d or linear}}
  %0 = mest.relu %x {mest.kernel = #mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 0>} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// A training op naming a layer the model does not have (once a null
// dereference in mest-lower-kernels).
func.func @m(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
func.func @m_train(%x: tensor<2x8xf32>, %dy: tensor<2x8xf32>, %lr: f32) attributes {mest.train_step = @m} {
  // expected-error @+1 {{'mest.grad_weight' op names layer @nosuch, which model @m does not have}}
  mest.grad_weight @nosuch(%x, %dy) : tensor<2x8xf32>, tensor<2x8xf32>
  return
}

// -----

// expected-error @+1 {{'mest.eval_step' names the model @gone, which this module does not have}}
func.func @m_eval(%x: tensor<2x8xf32>) attributes {mest.eval_step = @gone} {
  return
}

// -----

// A model computes in f32: 16-bit storage is the compiler's decision.
func.func @m(%x: tensor<2x3x4x4xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  // expected-error @+1 {{'mest.global_avg_pool2d' op produces or takes 'tensor<2x3xf16>': a mest model computes in f32}}
  %0 = mest.global_avg_pool2d %x : tensor<2x3x4x4xf32> -> tensor<2x3xf16>
  %1 = mest.flatten %x : tensor<2x3x4x4xf32> -> tensor<2x48xf32>
  return %0 : tensor<2x3xf16>
}

// -----

func.func @bad_affine(%x: tensor<2x8x4x4xf32>) {
  // expected-error @+1 {{affine 'tensor<4x2xf32>' must be [8, 2]: (scale, shift) per channel of 'tensor<2x8x4x4xf32>'}}
  %y, %m, %v, %a = mest.batch_norm_train @b(%x) : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, affine tensor<4x2xf32>
  return
}

// -----

func.func @bad_apply(%x: tensor<2x8x4x4xf32>, %a: tensor<8x3xf32>) {
  // expected-error @+1 {{affine 'tensor<8x3xf32>' must be [8, 2]}}
  %y = mest.batch_norm_apply(%x, %a : tensor<8x3xf32>) : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return
}

// -----

func.func @bad_apply_residual(%x: tensor<2x8x4x4xf32>, %a: tensor<8x2xf32>, %r: tensor<2x8x4x5xf32>) {
  // expected-error @+1 {{residual 'tensor<2x8x4x5xf32>' differs in shape from the input 'tensor<2x8x4x4xf32>'}}
  %y = mest.batch_norm_apply(%x, %a : tensor<8x2xf32>, residual %r : tensor<2x8x4x5xf32>) relu : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  return
}

// -----

func.func @bad_mask(%y: tensor<2x8x4x4xf32>) {
  // expected-error @+1 {{mask 'tensor<16xi8>' must hold one bit per element of 'tensor<2x8x4x4xf32>' (256 elements, a multiple of 8)}}
  %m = mest.relu_mask %y : tensor<2x8x4x4xf32> -> tensor<16xi8>
  return
}

// -----

func.func @bad_mask_grad(%m: tensor<4xi8>, %dy: tensor<3x3xf32>) {
  // expected-error @+1 {{mask 'tensor<4xi8>' must hold one bit per element of 'tensor<3x3xf32>' (9 elements, a multiple of 8)}}
  %dx = mest.relu_mask_grad %m, %dy : tensor<4xi8>, tensor<3x3xf32>
  return
}

// -----

func.func @bad_bn(%x: tensor<2x8x4x4xf16>, %r: tensor<2x8x4x5xf32>) {
  // expected-error @+1 {{residual 'tensor<2x8x4x5xf32>' differs in shape from the input 'tensor<2x8x4x4xf16>'}}
  %y, %m, %v = mest.batch_norm_train @b(%x, residual %r : tensor<2x8x4x5xf32>) : tensor<2x8x4x4xf16> -> tensor<2x8x4x4xf16>, tensor<8xf32>, tensor<8xf32>
  return
}

// -----

func.func @m(%x: tensor<3x1x8x8xf32>) -> tensor<3x1x8x8xf32> {
  // expected-error @+1 {{image_groups = 2 must divide the batch of 3}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096, image_groups = 2>} : tensor<3x1x8x8xf32> -> tensor<3x1x8x8xf32>
  return %0 : tensor<3x1x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x1x8x8xf32>) -> tensor<2x1x8x8xf32> {
  // expected-error @+1 {{image_groups = 2 needs a padded backward_weight}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 0, image_groups = 2>} : tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %0 : tensor<2x1x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x1x8x8xf32>) -> tensor<2x1x8x8xf32> {
  // expected-error @+1 {{image_groups must be >= 1, got 0}}
  %0 = mest.conv2d @c(%x) {out_channels = 1 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096, image_groups = 0>} : tensor<2x1x8x8xf32> -> tensor<2x1x8x8xf32>
  return %0 : tensor<2x1x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{tile_filters = 4: the filters of pattern weights do not share input positions; it must be 1}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 4, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{tile_filters = 2 must be the block rows (4)}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.5>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 2, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x6x8x8xf32> {
  // expected-error @+1 {{tile_filters = 4 must divide the 6 filters}}
  %0 = mest.conv2d @c(%x) {out_channels = 6 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 4, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x6x8x8xf32>
  return %0 : tensor<2x6x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{the forward tile of 4 filters x 4 vectors must be >= 1 x 1 and hold at most registers = 12 accumulators}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 4, tile_vectors = 4, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{data_tile_channels = 2: only dense and channel weights share output-gradient positions across input channels; it must be 1}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.5>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 2, data_tile_vectors = 2, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{data_tile_channels = 2 needs a padded stride-1 backward_data}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 2, data_tile_vectors = 2, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

func.func @m(%x: tensor<2x6x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{data_tile_channels = 4 must divide the 6 input channels}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 4, data_tile_vectors = 2, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x6x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{the backward-data tile of 4 channels x 4 vectors must be >= 1 x 1 and hold at most registers = 12 accumulators}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 4, data_tile_vectors = 4, gradient_registers = 10, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{weight_tile_filters = 2: only dense and channel filters share every weight position; it must be 1}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 2, gradient_registers = 10, weight_tile_filters = 2, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x6x8x8xf32> {
  // expected-error @+1 {{weight_tile_filters = 4 must divide the 6 filters}}
  %0 = mest.conv2d @c(%x) {out_channels = 6 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 2, gradient_registers = 10, weight_tile_filters = 4, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x6x8x8xf32>
  return %0 : tensor<2x6x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{weight_tile_filters = 2 needs a padded backward_weight}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 10, weight_tile_filters = 2, scratch_bytes = 0>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x8x8x8xf32> {
  // expected-error @+1 {{weight_tile_filters = 16 must be >= 1 and share gradient_registers = 10 (at least one vector each)}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 2, data_tile_channels = 1, data_tile_vectors = 2, gradient_registers = 10, weight_tile_filters = 16, scratch_bytes = 4096>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

func.func @groups_divide(%x: tensor<1x6x8x8xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{groups 4 must divide the 6 input and the 4 output channels}}
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, groups = 4 : i64} : tensor<1x6x8x8xf32> -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @grouped_pattern(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{'pattern' sparsity does not apply to a grouped convolution (groups = 8); it takes dense or unstructured}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, groups = 8 : i64, sparsity = #mest.sparsity<pattern, target = 0.9>} : tensor<1x8x8x8xf32> -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

func.func @clip_bounds(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{bounds must be finite floats with min <= max, got [6.0, 0.0]}}
  %0 = mest.clip %x {min = 6.0, max = 0.0} : tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @hard_sigmoid_without_slope(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'hard_sigmoid' needs alpha and beta}}
  %0 = mest.activation hard_sigmoid %x : tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @sigmoid_with_slope(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{'sigmoid' takes no alpha or beta}}
  %0 = mest.activation sigmoid %x {alpha = 0.2 : f64, beta = 0.5 : f64} : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @hard_swish_slope(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{alpha must be a finite float > 0 and beta finite, got alpha 0.0, beta 0.5}}
  %0 = mest.activation hard_swish %x {alpha = 0.0 : f64, beta = 0.5 : f64} : tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @unknown_activation(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+2 {{expected ::mest::Activation to be one of: sigmoid, hard_sigmoid, hard_swish, silu}}
  // expected-error @+1 {{failed to parse Mest_ActivationAttr parameter}}
  %0 = mest.activation tanh %x : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @scale_channels_shape(%x: tensor<2x4x8x8xf32>, %s: tensor<2x5xf32>) -> tensor<2x4x8x8xf32> {
  // expected-error @+1 {{scale must be [N, C] = [2, 4] for the input, got [2, 5]}}
  %0 = mest.scale_channels %x, %s : tensor<2x4x8x8xf32>, tensor<2x5xf32>
  return %0 : tensor<2x4x8x8xf32>
}

// -----

func.func @scale_channels_grad_shape(%x: tensor<2x4x8x8xf32>, %dy: tensor<2x4x8x8xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{result must be [N, C] = [2, 4]}}
  %0 = mest.scale_channels_grad %x, %dy : tensor<2x4x8x8xf32> -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @concat_channels(%a: tensor<2x4x8x8xf32>, %b: tensor<2x6x8x8xf32>) -> tensor<2x12x8x8xf32> {
  // expected-error @+1 {{result has 12 channels, the inputs 10}}
  %0 = mest.concat %a, %b : tensor<2x4x8x8xf32>, tensor<2x6x8x8xf32> -> tensor<2x12x8x8xf32>
  return %0 : tensor<2x12x8x8xf32>
}

// -----

func.func @concat_planes(%a: tensor<2x4x8x8xf32>, %b: tensor<2x6x4x4xf32>) -> tensor<2x10x8x8xf32> {
  // expected-error @+1 {{input 'tensor<2x6x4x4xf32>' differs from the result 'tensor<2x10x8x8xf32>' in batch or plane size}}
  %0 = mest.concat %a, %b : tensor<2x4x8x8xf32>, tensor<2x6x4x4xf32> -> tensor<2x10x8x8xf32>
  return %0 : tensor<2x10x8x8xf32>
}

// -----

func.func @slice_outside(%x: tensor<2x8x4x4xf32>) -> tensor<2x4x4x4xf32> {
  // expected-error @+1 {{channels [6, 10) are not inside the input's 8}}
  %0 = mest.slice_channels %x {offset = 6 : i64} : tensor<2x8x4x4xf32> -> tensor<2x4x4x4xf32>
  return %0 : tensor<2x4x4x4xf32>
}

// -----

// Ceil mode gives one more output only where its window starts inside the
// input or its leading padding: 2x2 at stride 2, padding 1, on 5x5 is 3x3
// (floor), and ceil's 4th window would start in the trailing padding.
func.func @ceil_in_padding(%x: tensor<1x4x5x5xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{result type}}
  %0 = mest.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x4x5x5xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @shuffle_groups(%x: tensor<2x6x4x4xf32>) -> tensor<2x6x4x4xf32> {
  // expected-error @+1 {{groups must be >= 1 and divide the 6 channels, got 4}}
  %0 = mest.shuffle_channels %x {groups = 4 : i64} : tensor<2x6x4x4xf32>
  return %0 : tensor<2x6x4x4xf32>
}

// -----

func.func @dropout_ratio(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{ratio must be in [0, 1), got 1.0}}
  %0 = mest.dropout %x {ratio = 1.0} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @dropout_index(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{index must be in [0, 65535], got 65536}}
  %0 = mest.dropout_train %x {ratio = 0.5, index = 65536} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
