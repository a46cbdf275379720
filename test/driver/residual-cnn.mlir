// Batch-norm outputs recomputed in backward (mestc --recompute-activations)
// and ReLU outputs kept as bit masks (the default) leave training unchanged
// bit for bit: the same run with both, with masks only, and with neither
// exports byte-identical models.
// RUN: rm -rf %t && mkdir -p %t
// RUN: mestc %s --emit exe --activation-storage bf16 --keep-relu-outputs -o %t/full
// RUN: mestc %s --emit exe --activation-storage bf16 -o %t/keep
// RUN: mestc %s --emit exe --activation-storage bf16 --recompute-activations 2 -o %t/recompute
// RUN: %t/keep --epochs 2 --train-limit 256 --test-limit 64 --threads 2 --quiet --out %t/a > /dev/null
// RUN: %t/recompute --epochs 2 --train-limit 256 --test-limit 64 --threads 2 --quiet --out %t/b > /dev/null
// RUN: %t/full --epochs 2 --train-limit 256 --test-limit 64 --threads 2 --quiet --out %t/c > /dev/null
// RUN: cmp %t/a/model.mest %t/b/model.mest
// RUN: cmp %t/a/model.mest %t/c/model.mest
// The plan: the last block's output as a bit mask, the stem's and the first
// two blocks' outputs recomputed, and the shortcut's for the chain.
// RUN: mest-opt %s --mest-plan="activation-storage=bf16 recompute-depth=2" -o /dev/null 2>&1 | FileCheck %s
// CHECK: remark: @residual_cnn_train: 1 saved ReLU outputs kept as bit masks
// CHECK: remark: @residual_cnn_train: 3 saved batch-norm outputs recomputed in backward, 1 more for their chains

// A stem, an identity residual block, a downsampling block with a 1x1
// shortcut (whose batch-norm output is recomputed for its block's) and an
// identity block, whose output only its ReLU's backward reads after the
// loss: kept as a bit mask (mest-pack-relu-masks), for Fashion-MNIST at
// batch 8.
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
  %19 = mest.conv2d @c5(%18) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<8x16x7x7xf32> -> tensor<8x16x7x7xf32>
  %20 = mest.batch_norm @b5(%19) : tensor<8x16x7x7xf32>
  %21 = mest.relu %20 : tensor<8x16x7x7xf32>
  %22 = mest.conv2d @c6(%21) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<channel, target = 0.5>} : tensor<8x16x7x7xf32> -> tensor<8x16x7x7xf32>
  %23 = mest.batch_norm @b6(%22) : tensor<8x16x7x7xf32>
  %24 = mest.add %23, %18 : tensor<8x16x7x7xf32>
  %25 = mest.relu %24 : tensor<8x16x7x7xf32>
  %26 = mest.global_avg_pool2d %25 : tensor<8x16x7x7xf32> -> tensor<8x16xf32>
  %27 = mest.linear @fc(%26) {out_features = 10 : i64} : tensor<8x16xf32> -> tensor<8x10xf32>
  return %27 : tensor<8x10xf32>
}
