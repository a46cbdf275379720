// Batch-norm outputs recomputed in backward (mestc --recompute-activations)
// leave training unchanged bit for bit: the same run with and without them,
// in bf16 storage and in f32, exports byte-identical models.
// RUN: rm -rf %t && mkdir -p %t
// RUN: mestc %s --emit exe --activation-storage bf16 -o %t/keep
// RUN: mestc %s --emit exe --activation-storage bf16 --recompute-activations 2 -o %t/recompute
// RUN: %t/keep --epochs 2 --train-limit 256 --test-limit 64 --threads 2 --quiet --out %t/a > /dev/null
// RUN: %t/recompute --epochs 2 --train-limit 256 --test-limit 64 --threads 2 --quiet --out %t/b > /dev/null
// RUN: cmp %t/a/model.mest %t/b/model.mest
// The plan recomputes the three block outputs and the shortcut's:
// RUN: mest-opt %s --mest-plan="activation-storage=bf16 recompute-depth=2" -o /dev/null 2>&1 | FileCheck %s
// CHECK: remark: @residual_cnn_train: 3 saved batch-norm outputs recomputed in backward, 1 more for their chains

// A stem, an identity residual block and a downsampling block with a 1x1
// shortcut (whose batch-norm output is recomputed for its block's), for
// Fashion-MNIST at batch 8.
func.func @residual_cnn(%x: tensor<8x1x28x28xf32>) -> tensor<8x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @c0(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<8x1x28x28xf32> -> tensor<8x8x14x14xf32>
  %1 = mest.batch_norm @b0(%0) : tensor<8x8x14x14xf32>
  %2 = mest.relu %1 : tensor<8x8x14x14xf32>
  %3 = mest.conv2d @c1(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.7, capacity = 0.65>} : tensor<8x8x14x14xf32> -> tensor<8x8x14x14xf32>
  %4 = mest.batch_norm @b1(%3) : tensor<8x8x14x14xf32>
  %5 = mest.relu %4 : tensor<8x8x14x14xf32>
  %6 = mest.conv2d @c2(%5) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.7, capacity = 0.65>} : tensor<8x8x14x14xf32> -> tensor<8x8x14x14xf32>
  %7 = mest.batch_norm @b2(%6) : tensor<8x8x14x14xf32>
  %8 = mest.add %7, %2 : tensor<8x8x14x14xf32>
  %9 = mest.relu %8 : tensor<8x8x14x14xf32>
  %10 = mest.conv2d @c3(%9) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<8x8x14x14xf32> -> tensor<8x16x7x7xf32>
  %11 = mest.batch_norm @b3(%10) : tensor<8x16x7x7xf32>
  %12 = mest.relu %11 : tensor<8x16x7x7xf32>
  %13 = mest.conv2d @c4(%12) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.7, capacity = 0.65>} : tensor<8x16x7x7xf32> -> tensor<8x16x7x7xf32>
  %14 = mest.batch_norm @b4(%13) : tensor<8x16x7x7xf32>
  %15 = mest.conv2d @s(%9) {out_channels = 16 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<8x8x14x14xf32> -> tensor<8x16x7x7xf32>
  %16 = mest.batch_norm @bs(%15) : tensor<8x16x7x7xf32>
  %17 = mest.add %14, %16 : tensor<8x16x7x7xf32>
  %18 = mest.relu %17 : tensor<8x16x7x7xf32>
  %19 = mest.global_avg_pool2d %18 : tensor<8x16x7x7xf32> -> tensor<8x16xf32>
  %20 = mest.linear @fc(%19) {out_features = 10 : i64} : tensor<8x16xf32> -> tensor<8x10xf32>
  return %20 : tensor<8x10xf32>
}
