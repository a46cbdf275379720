// RUN: mest-opt %s -o /dev/null
// A residual basic block (conv-bn-relu-conv-bn, add, relu), max and average
// pooling, a strided conv, flatten, linear:
// test/codegen/TrainStepTest.cpp compares its compiled train step with the
// reference kernels composed by hand.
func.func @small(%x: tensor<4x3x8x8xf32>) -> tensor<4x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @conv1(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<4x3x8x8xf32> -> tensor<4x8x8x8xf32>
  %1 = mest.batch_norm @bn1(%0) : tensor<4x8x8x8xf32>
  %2 = mest.relu %1 : tensor<4x8x8x8xf32>
  %3 = mest.conv2d @conv2(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.7>} : tensor<4x8x8x8xf32> -> tensor<4x8x8x8xf32>
  %b0 = mest.batch_norm @bn2(%3) : tensor<4x8x8x8xf32>
  %b1 = mest.relu %b0 : tensor<4x8x8x8xf32>
  %b2 = mest.conv2d @conv2b(%b1) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<4x8x8x8xf32> -> tensor<4x8x8x8xf32>
  %4 = mest.batch_norm @bn2b(%b2) : tensor<4x8x8x8xf32>
  %5 = mest.add %4, %2 : tensor<4x8x8x8xf32>
  %6 = mest.relu %5 : tensor<4x8x8x8xf32>
  %7 = mest.max_pool2d %6 {kernel = array<i64: 2, 2>} : tensor<4x8x8x8xf32> -> tensor<4x8x4x4xf32>
  %8 = mest.conv2d @conv3(%7) {out_channels = 12 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.6>} : tensor<4x8x4x4xf32> -> tensor<4x12x2x2xf32>
  %9 = mest.batch_norm @bn3(%8) : tensor<4x12x2x2xf32>
  %10 = mest.relu %9 : tensor<4x12x2x2xf32>
  %11 = mest.avg_pool2d %10 {kernel = array<i64: 2, 2>} : tensor<4x12x2x2xf32> -> tensor<4x12x1x1xf32>
  %12 = mest.flatten %11 : tensor<4x12x1x1xf32> -> tensor<4x12xf32>
  %13 = mest.linear @fc(%12) {out_features = 10 : i64, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<4x12xf32> -> tensor<4x10xf32>
  return %13 : tensor<4x10xf32>
}
