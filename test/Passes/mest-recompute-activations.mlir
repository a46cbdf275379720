// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-recompute-activations=depth=1 2>/dev/null | FileCheck %s --check-prefixes=CHECK,D1
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-recompute-activations=depth=2 2>/dev/null | FileCheck %s --check-prefixes=CHECK,D2
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-recompute-activations=depth=1 -o /dev/null 2>&1 | FileCheck %s --check-prefix=RMK1
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-recompute-activations=depth=2 -o /dev/null 2>&1 | FileCheck %s --check-prefix=RMK2
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-recompute-activations=depth=0 2>&1 | FileCheck %s --check-prefix=D0
// RUN: not mest-opt %s --mest-recompute-activations=depth=-1 -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEG

// A stem, an identity block and a downsampling block with a 1x1 shortcut.
// Saved batch-norm outputs: the stem's y0 = relu(b0) (chain 1: its input is
// kept), the first block's y1 = relu(b2 + y0) (chain 2 if y0 is recomputed)
// and the second block's y2 = relu(b4 + bs) (chain 2: the shortcut's output
// bs is not saved, so it is recomputed for the chain).
func.func @m(%x: tensor<2x3x8x8xf32>) -> tensor<2x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @c0(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x8x8x8xf32>
  %1 = mest.batch_norm @b0(%0) : tensor<2x8x8x8xf32>
  %2 = mest.relu %1 : tensor<2x8x8x8xf32>
  %3 = mest.conv2d @c1(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  %4 = mest.batch_norm @b1(%3) : tensor<2x8x8x8xf32>
  %5 = mest.relu %4 : tensor<2x8x8x8xf32>
  %6 = mest.conv2d @c2(%5) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  %7 = mest.batch_norm @b2(%6) : tensor<2x8x8x8xf32>
  %8 = mest.add %7, %2 : tensor<2x8x8x8xf32>
  %9 = mest.relu %8 : tensor<2x8x8x8xf32>
  %10 = mest.conv2d @c3(%9) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<2x8x8x8xf32> -> tensor<2x16x4x4xf32>
  %11 = mest.batch_norm @b3(%10) : tensor<2x16x4x4xf32>
  %12 = mest.relu %11 : tensor<2x16x4x4xf32>
  %13 = mest.conv2d @c4(%12) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x16x4x4xf32> -> tensor<2x16x4x4xf32>
  %14 = mest.batch_norm @b4(%13) : tensor<2x16x4x4xf32>
  %15 = mest.conv2d @s(%9) {out_channels = 16 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<2x8x8x8xf32> -> tensor<2x16x4x4xf32>
  %16 = mest.batch_norm @bs(%15) : tensor<2x16x4x4xf32>
  %17 = mest.add %14, %16 : tensor<2x16x4x4xf32>
  %18 = mest.relu %17 : tensor<2x16x4x4xf32>
  %19 = mest.global_avg_pool2d %18 : tensor<2x16x4x4xf32> -> tensor<2x16xf32>
  %20 = mest.linear @fc(%19) {out_features = 10 : i64} : tensor<2x16xf32> -> tensor<2x10xf32>
  return %20 : tensor<2x10xf32>
}

// y0 is 1024 f32 elements; with depth 2 also y1 (1024) and y2 (512), and bs.
// RMK1: remark: @m_train: 1 saved batch-norm outputs recomputed in backward, 0 more for their chains (4096 bytes not kept across the turn)
// RMK2: remark: @m_train: 3 saved batch-norm outputs recomputed in backward, 1 more for their chains (10240 bytes not kept across the turn)
// D0-NOT: remark: @m_train: {{.*}} recomputed
// D0-NOT: batch_norm_apply
// NEG: error: mest-recompute-activations: depth -1 is negative

// CHECK-LABEL: func.func @m_train(
// The recomputed batch norms gain their (scale, shift):
// CHECK: %[[C0:.*]], %{{.*}}, %{{.*}}, %[[A0:.*]] = mest.batch_norm_train @b0({{.*}}) relu {{.*}}, affine tensor<8x2xf32>
// D1: %[[Y1:.*]], %{{.*}}, %{{.*}} = mest.batch_norm_train @b2({{.*}}, residual %[[C0]] : {{.*}}) relu {{.*}}, tensor<8xf32>{{$}}
// D2: %{{.*}}, %{{.*}}, %{{.*}}, %[[A1:.*]] = mest.batch_norm_train @b2({{.*}}, residual %[[C0]] : {{.*}}) relu {{.*}}, affine tensor<8x2xf32>
// D1: mest.batch_norm_train @bs({{.*}}) {{.*}}, tensor<16xf32>{{$}}
// D2: mest.batch_norm_train @bs({{.*}}) {{.*}}, affine tensor<16x2xf32>
// CHECK: mest.softmax_cross_entropy
// Depth 2: the last block's output before its ReLU mask, from the shortcut's
// recompute; then y0 and y1 (from y0) before the downsampling conv's weight
// gradient reads y1.
// D2: %[[S:.*]] = mest.batch_norm_apply(%{{.*}}, %{{.*}} : tensor<16x2xf32>) :
// D2: %[[Y2:.*]] = mest.batch_norm_apply(%{{.*}}, %{{.*}} : tensor<16x2xf32>, residual %[[S]] : tensor<2x16x4x4xf32>) relu
// D2: mest.relu_grad %[[Y2]],
// D2: %[[R0:.*]] = mest.batch_norm_apply(%{{.*}}, %[[A0]] : tensor<8x2xf32>) relu
// D2: %[[R1:.*]] = mest.batch_norm_apply(%{{.*}}, %[[A1]] : tensor<8x2xf32>, residual %[[R0]] : tensor<2x8x8x8xf32>) relu
// D2: mest.grad_weight_sgd @c3(%[[R1]],
// D2: mest.relu_grad %[[R1]],
// D1: mest.grad_weight_sgd @c3(%[[Y1]],
// D1: mest.relu_grad %[[Y1]],
// Depth 1: y0 just before its first backward reader, the stem's ReLU mask
// in the weight gradient of the conv it feeds:
// D1: %[[R0:.*]] = mest.batch_norm_apply(%{{.*}}, %[[A0]] : tensor<8x2xf32>) relu
// CHECK: mest.grad_weight_sgd @c1(%[[R0]],
// CHECK-NOT: batch_norm_apply
