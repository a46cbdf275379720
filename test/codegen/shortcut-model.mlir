// RUN: mest-opt %s -o /dev/null
// A downsampling residual block with a 1x1 projection shortcut: the block
// input fans out to two convs (a gradient sum of two backward-data kernels),
// a batch norm + ReLU folded into two consumers (conva and short), a strided
// conv, global average pooling. test/codegen/TrainStepShortcutTest.cpp
// compares its compiled train step with the reference kernels composed by hand.
func.func @shortcut(%x: tensor<4x3x8x8xf32>) -> tensor<4x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @stem(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<4x3x8x8xf32> -> tensor<4x8x8x8xf32>
  %1 = mest.batch_norm @bn0(%0) : tensor<4x8x8x8xf32>
  %2 = mest.relu %1 : tensor<4x8x8x8xf32>
  %3 = mest.conv2d @conva(%2) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.7>} : tensor<4x8x8x8xf32> -> tensor<4x16x4x4xf32>
  %4 = mest.batch_norm @bna(%3) : tensor<4x16x4x4xf32>
  %5 = mest.relu %4 : tensor<4x16x4x4xf32>
  %6 = mest.conv2d @convb(%5) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.6>} : tensor<4x16x4x4xf32> -> tensor<4x16x4x4xf32>
  %7 = mest.batch_norm @bnb(%6) : tensor<4x16x4x4xf32>
  %8 = mest.conv2d @short(%2) {out_channels = 16 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<4x8x8x8xf32> -> tensor<4x16x4x4xf32>
  %9 = mest.batch_norm @bns(%8) : tensor<4x16x4x4xf32>
  %10 = mest.add %7, %9 : tensor<4x16x4x4xf32>
  %11 = mest.relu %10 : tensor<4x16x4x4xf32>
  %12 = mest.global_avg_pool2d %11 : tensor<4x16x4x4xf32> -> tensor<4x16xf32>
  %13 = mest.linear @fc(%12) {out_features = 10 : i64} : tensor<4x16xf32> -> tensor<4x10xf32>
  return %13 : tensor<4x10xf32>
}
