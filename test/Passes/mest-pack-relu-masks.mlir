// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-pack-relu-masks 2>/dev/null | FileCheck %s
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-pack-relu-masks -o /dev/null 2>&1 | FileCheck %s --check-prefix=RMK

// The block output %9 is read after the loss only by its ReLU's backward
// (the pool's backward needs no input): 2x8x4x4 = 256 f32 elements become
// 32 bytes. The stem's output %2 is also the block's residual and the
// conv's input (a weight gradient reads it): it stays.
func.func @m(%x: tensor<2x3x4x4xf32>) -> tensor<2x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @c0(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x3x4x4xf32> -> tensor<2x8x4x4xf32>
  %1 = mest.batch_norm @b0(%0) : tensor<2x8x4x4xf32>
  %2 = mest.relu %1 : tensor<2x8x4x4xf32>
  %3 = mest.conv2d @c1(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x8x4x4xf32> -> tensor<2x8x4x4xf32>
  %4 = mest.batch_norm @b1(%3) : tensor<2x8x4x4xf32>
  %8 = mest.add %4, %2 : tensor<2x8x4x4xf32>
  %9 = mest.relu %8 : tensor<2x8x4x4xf32>
  %10 = mest.global_avg_pool2d %9 : tensor<2x8x4x4xf32> -> tensor<2x8xf32>
  %11 = mest.linear @fc(%10) {out_features = 10 : i64} : tensor<2x8xf32> -> tensor<2x10xf32>
  return %11 : tensor<2x10xf32>
}

// 1024 bytes of f32 less the 32 of the mask:
// RMK: remark: @m_train: 1 saved ReLU outputs kept as bit masks (992 bytes less across the turn)
// CHECK-LABEL: func.func @m_train(
// CHECK: %[[Y:.*]], %{{.*}}, %{{.*}} = mest.batch_norm_train @b1({{.*}}) relu
// CHECK-NEXT: %[[M:.*]] = mest.relu_mask %[[Y]] : tensor<2x8x4x4xf32> -> tensor<32xi8>
// CHECK-NEXT: mest.global_avg_pool2d %[[Y]]
// CHECK: mest.softmax_cross_entropy
// CHECK-NOT: %[[Y]]
// CHECK: mest.relu_mask_grad %[[M]], %{{.*}} : tensor<32xi8>, tensor<2x8x4x4xf32>
// CHECK-NOT: mest.relu_grad %[[Y]]
