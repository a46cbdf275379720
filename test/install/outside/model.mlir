// RUN: mest-opt %s -o /dev/null
// The small CNN of test/driver/small-cnn.mlir, trained from outside mest's tree.
func.func @small_cnn(%x: tensor<32x1x28x28xf32>) -> tensor<32x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @conv1(%x) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<32x1x28x28xf32> -> tensor<32x16x28x28xf32>
  %1 = mest.batch_norm @bn1(%0) : tensor<32x16x28x28xf32>
  %2 = mest.relu %1 : tensor<32x16x28x28xf32>
  %3 = mest.max_pool2d %2 {kernel = array<i64: 2, 2>} : tensor<32x16x28x28xf32> -> tensor<32x16x14x14xf32>
  %4 = mest.conv2d @conv2(%3) {out_channels = 32 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<32x16x14x14xf32> -> tensor<32x32x14x14xf32>
  %5 = mest.batch_norm @bn2(%4) : tensor<32x32x14x14xf32>
  %6 = mest.relu %5 : tensor<32x32x14x14xf32>
  %7 = mest.max_pool2d %6 {kernel = array<i64: 2, 2>} : tensor<32x32x14x14xf32> -> tensor<32x32x7x7xf32>
  %8 = mest.conv2d @conv3(%7) {out_channels = 32 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9, capacity = 0.85>} : tensor<32x32x7x7xf32> -> tensor<32x32x7x7xf32>
  %9 = mest.batch_norm @bn3(%8) : tensor<32x32x7x7xf32>
  %10 = mest.relu %9 : tensor<32x32x7x7xf32>
  %11 = mest.global_avg_pool2d %10 : tensor<32x32x7x7xf32> -> tensor<32x32xf32>
  %12 = mest.linear @fc(%11) {out_features = 10 : i64} : tensor<32x32xf32> -> tensor<32x10xf32>
  return %12 : tensor<32x10xf32>
}
