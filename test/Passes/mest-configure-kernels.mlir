// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx2 | FileCheck %s --check-prefix=AVX2
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx512 | FileCheck %s --check-prefix=AVX512
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=neon | FileCheck %s --check-prefix=NEON
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 conv-kernels=direct" | FileCheck %s --check-prefix=DIRECT
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 vector-width=8 forward-order=output conv-kernels=direct" | FileCheck %s --check-prefix=FORCED
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 weight-split=images" | FileCheck %s --check-prefix=IMAGES
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 weight-split=filters" | FileCheck %s --check-prefix=FILTERS
// RUN: not mest-opt %s --mest-plan-storage "--mest-configure-kernels=weight-split=rows" 2>&1 | FileCheck %s --check-prefix=SPLIT
// RUN: not mest-opt %s --mest-plan-storage --mest-configure-kernels=vector-width=5 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: not mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=sse2 2>&1 | FileCheck %s --check-prefix=ISA
// RUN: not mest-opt %s --mest-configure-kernels 2>&1 | FileCheck %s --check-prefix=NOPLAN

// Per target: the vector width is the register's, 3/4 of the vector registers
// hold a forward chunk's accumulators (AVX2 16 -> 12; AVX-512 and NEON 32 -> 24),
// backward-weight keeps 6 of them free, at most 24 (10, 24, 24). A pattern
// filter's tile is 1 filter x half the budget, at most the plane's vectors
// (8x8 on the padded pitch 10: 80 floats, 10 / 5 / 20 vectors), and so is its
// backward-data's (the gradient is padded alike); a direct kernel has none (1 x 1). The tiles: mest-configure-kernels-tile.mlir.
// AVX2: module attributes {mest.target = #mest.target<isa = "avx2", vector_bits = 256, vector_registers = 16
// AVX512: module attributes {mest.target = #mest.target<isa = "avx512", vector_bits = 512, vector_registers = 32
// NEON: module attributes {mest.target = #mest.target<isa = "neon", vector_bits = 128, vector_registers = 32

// A stride-1 conv on 8x8 planes (64 >= 16 positions): padded in all three
// directions, with the scratch that implies.
// AVX2: mest.conv2d @s1({{.*}}mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 6, data_tile_channels = 1, data_tile_vectors = 6, gradient_registers = 10, scratch_bytes = {{[1-9][0-9]*}}, image_groups = 2>
// AVX512: mest.conv2d @s1({{.*}}mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 16, registers = 24, tile_filters = 1, tile_vectors = 5, data_tile_channels = 1, data_tile_vectors = 5, gradient_registers = 24, scratch_bytes = {{[1-9][0-9]*}}, image_groups = 2>
// NEON: mest.conv2d @s1({{.*}}mest.kernel = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 4, registers = 24, tile_filters = 1, tile_vectors = 12, data_tile_channels = 1, data_tile_vectors = 12, gradient_registers = 24, scratch_bytes = {{[1-9][0-9]*}}, image_groups = 2>
// Pattern decodes its taps at compile time: weight-stationary when direct.
// DIRECT: mest.conv2d @s1({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight,
// Unstructured at stride 1 with 8-wide rows and (576 - round(0.5 * 576)) / 8 =
// 36 >= 24 weights per filter: padded by default; when direct, output-stationary.
// AVX512: mest.conv2d @u({{.*}}#mest.kernel<forward = padded,{{.*}}scratch_bytes = {{[0-9]+}}>
// DIRECT: mest.conv2d @u({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = output,
// Stride 2: padded too, backward-data on phase planes (they cover the 8x8 input).
// AVX512: mest.conv2d @s2({{.*}}#mest.kernel<forward = padded, backward_data = padded, backward_weight = padded{{.*}}scratch_bytes = {{[0-9]+}}>
// Stride 3: no padded kernel exists.
// AVX512: mest.conv2d @s3({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 16, registers = 24, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 24, scratch_bytes = 0>
// A linear layer is a 1x1 conv on a 1x1 plane: too small for the padded kernels.
// AVX512: mest.linear @fc({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 16, registers = 24, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 24, scratch_bytes = 0>
// Backward-weight over image groups (the smallest divisor of the batch, 2)
// where the groups' partial gradients are fewer bytes than one more read of
// the input: pattern 0.8 (2 x 2 x 58 weights x 4 bytes < 2 x 4 x 8 x 8 x 4),
// not unstructured 0.5 (2 x 2 x 288 x 4 > 2 x 8 x 8 x 8 x 4) nor dense @s2
// (above: the default image_groups = 1 is not printed).
// IMAGES: mest.conv2d @u({{.*}}image_groups = 2>
// IMAGES: mest.conv2d @s2({{.*}}image_groups = 2>
// IMAGES: mest.conv2d @s3({{.*}}scratch_bytes = 0>
// FILTERS: mest.conv2d @s1({{.*}}scratch_bytes = {{[0-9]+}}>
// Options override the rules.
// FORCED: mest.conv2d @s1({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = output, vector_width = 8,

// SPLIT: error: weight-split must be auto, filters or images, got 'rows'
// WIDTH: error: vector-width must be 4, 8 or 16, got 5
// ISA: error: isa must be avx2, avx512 or neon, got 'sse2'
// NOPLAN: error: model has no storage plan: run mest-plan-storage first

func.func @m(%x: tensor<2x4x8x8xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @s1(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8>} : tensor<2x4x8x8xf32> -> tensor<2x8x8x8xf32>
  %1 = mest.conv2d @u(%0) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  %2 = mest.conv2d @s2(%1) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<2x8x8x8xf32> -> tensor<2x8x4x4xf32>
  %3 = mest.conv2d @s3(%2) {out_channels = 8 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 3, 3>} : tensor<2x8x4x4xf32> -> tensor<2x8x2x2xf32>
  %4 = mest.global_avg_pool2d %3 : tensor<2x8x2x2xf32> -> tensor<2x8xf32>
  %5 = mest.linear @fc(%4) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}
