// RUN: mest-opt %s --mest-compile=export-kernels=1 | FileCheck %s
// CHECK-DAG: func.func @mest_kernel_dense3x3_bwd_data(
// CHECK-DAG: func.func @mest_kernel_pattern_s1_fwd(
// CHECK-DAG: func.func @mest_kernel_fc_dense_bwd_weight(
// CHECK-DAG: func.func @mest_model_train_step(
// CHECK-DAG: func.func @mest_model_eval_step(
// CHECK-DAG: func.func @mest_model_after_mutation(
// A chain of layers that covers every scheme of the code generator: strides 1
// and 2, padding 0, 1 and 2, kernels 1x1, 3x3 and 5x5, odd sizes, channel counts
// that are not multiples of 8, biases, linear layers; rows wide enough for
// 16-, 8- and 4-wide vectors, strided or not, plus scalar remainders. Compiled with
// --export-kernels by test/codegen/CMakeLists.txt; GeneratedKernelTest.cpp checks
// each kernel against the runtime's reference kernels. dense_tiles has channel
// counts that register tiles of 4 (or 2) filters and input channels divide;
// depthwise_s1, grouped_unstructured and depthwise_s2 (two filters per
// channel) are grouped convolutions.
func.func @kernels(%x: tensor<3x5x9x37xf32>) -> tensor<3x5xf32> attributes {mest.model} {
  %0 = mest.conv2d @dense3x3(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, bias = true} : tensor<3x5x9x37xf32> -> tensor<3x8x9x37xf32>
  %t = mest.conv2d @dense_tiles(%0) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<3x8x9x37xf32> -> tensor<3x8x9x37xf32>
  %dw = mest.conv2d @depthwise_s1(%t) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, bias = true, groups = 8 : i64} : tensor<3x8x9x37xf32> -> tensor<3x8x9x37xf32>
  %gr = mest.conv2d @grouped_unstructured(%dw) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, groups = 2 : i64, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<3x8x9x37xf32> -> tensor<3x8x9x37xf32>
  %1 = mest.conv2d @pattern_s1(%gr) {out_channels = 12 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.7>} : tensor<3x8x9x37xf32> -> tensor<3x12x9x37xf32>
  %2 = mest.conv2d @unstructured_s2(%1) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.8>} : tensor<3x12x9x37xf32> -> tensor<3x8x5x19xf32>
  %3 = mest.conv2d @block_p0(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, sparsity = #mest.sparsity<block, target = 0.75>} : tensor<3x8x5x19xf32> -> tensor<3x8x3x17xf32>
  %4 = mest.conv2d @channel_5x5(%3) {out_channels = 12 : i64, kernel = array<i64: 5, 5>, padding = array<i64: 2, 2>, sparsity = #mest.sparsity<channel, target = 0.5>} : tensor<3x8x3x17xf32> -> tensor<3x12x3x17xf32>
  %5 = mest.conv2d @pattern_s2(%4) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8, capacity = 0.7>} : tensor<3x12x3x17xf32> -> tensor<3x16x2x9xf32>
  %6 = mest.conv2d @unstructured_1x1(%5) {out_channels = 20 : i64, kernel = array<i64: 1, 1>, bias = true, sparsity = #mest.sparsity<unstructured, target = 0.6>} : tensor<3x16x2x9xf32> -> tensor<3x20x2x9xf32>
  %7 = mest.conv2d @block_5x5(%6) {out_channels = 8 : i64, kernel = array<i64: 5, 5>, padding = array<i64: 2, 2>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<3x20x2x9xf32> -> tensor<3x8x2x9xf32>
  %dm = mest.conv2d @depthwise_s2(%7) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 8 : i64} : tensor<3x8x2x9xf32> -> tensor<3x16x1x5xf32>
  %8 = mest.global_avg_pool2d %dm : tensor<3x16x1x5xf32> -> tensor<3x16xf32>
  %9 = mest.linear @fc_block(%8) {out_features = 12 : i64, bias = false, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<3x16xf32> -> tensor<3x12xf32>
  %10 = mest.linear @fc_unstructured(%9) {out_features = 7 : i64, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<3x12xf32> -> tensor<3x7xf32>
  %11 = mest.linear @fc_dense(%10) {out_features = 5 : i64} : tensor<3x7xf32> -> tensor<3x5xf32>
  return %11 : tensor<3x5xf32>
}
