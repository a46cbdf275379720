// RUN: mest-opt %s -split-input-file --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels | FileCheck %s
// With direct kernels there is no statistics epilogue and no gradient sum in
// backward-data; the batch-norm fusions do not depend on the kernel variant.
// RUN: mest-opt %s -split-input-file --mest-plan-storage --mest-group-filters --mest-configure-kernels=conv-kernels=direct --mest-generate-backward --mest-fuse-sgd --mest-form-kernels | FileCheck %s --check-prefix=DIRECT

// A residual block. Forward: every conv is a forward kernel of its model layer;
// a padded conv before a batch norm also returns the per-plane statistics;
// bn -> relu and bn -> add -> relu are one batch norm each, at the ReLU.
// CHECK-LABEL: func.func @res_train(
// CHECK-NOT: mest.conv2d
// CHECK: %[[C0:.*]], %[[S0:.*]] = mest.forward @c0(%arg0) {{.*}}, stats tensor<2x8x2xf32>
// CHECK-NEXT: %[[Y0:[a-z0-9_]+]], %[[M0:[a-z0-9_]+]], %[[V0:[a-z0-9_]+]] = mest.batch_norm_train @b0(%[[C0]], stats %[[S0]] : tensor<2x8x2xf32>) relu
// relu(b1(c1)) is read only by c2's padded kernels and b1's backward: it is
// never stored; c2 applies it as it copies c1's output, b1's backward
// recomputes the ReLU mask.
// CHECK-NEXT: %[[C1:.*]], %[[S1:.*]] = mest.forward @c1(%[[Y0]])
// CHECK-NEXT: %[[M1:[a-z0-9_]+]], %[[V1:[a-z0-9_]+]], %[[A1:[a-z0-9_]+]] = mest.batch_norm_affine @b1(%[[C1]], stats %[[S1]] : tensor<2x8x2xf32>) {{.*}} -> tensor<8xf32>, tensor<8xf32>, tensor<8x2xf32>
// CHECK-NEXT: %[[C2:.*]], %[[S2:.*]] = mest.forward @c2(%[[C1]], bn_relu %[[A1]] : tensor<8x2xf32>)
// CHECK-NEXT: %[[Y2:[a-z0-9_]+]], {{.*}} = mest.batch_norm_train @b2(%[[C2]], stats %[[S2]] : tensor<2x8x2xf32>, residual %[[Y0]] : tensor<{{.*}}>) relu
// CHECK-NOT: mest.relu %
// CHECK-NOT: mest.add
// The linear layer's plane is a single position: direct, no statistics.
// CHECK: mest.forward @fc(%{{.*}}) : tensor<2x8xf32> -> tensor<2x3xf32>{{$}}
// Backward: the ReLU gradient after the residual add has two users (b2's
// backward and the shortcut), so it stays; the one before b1 and b0 goes into
// their backward as a prologue; the gradient sum at the block input is added
// by c1's backward-data kernel as it stores.
// CHECK: %[[G2:.*]] = mest.relu_grad %[[Y2]], %{{.*}}
// CHECK: mest.batch_norm_grad @b2(%[[C2]], %[[G2]], {{.*}}) :
// CHECK: mest.grad_weight_sgd @c2(%[[C1]], %{{.*}}, bn_relu %[[A1]] : tensor<8x2xf32>)
// CHECK: %[[D1:.*]] = mest.batch_norm_grad @b1(%[[C1]], %{{.*}}, %[[M1]], %[[V1]], relu_affine %[[A1]] : tensor<8x2xf32>)
// CHECK: %[[SUM:.*]] = mest.grad_input @c1(%[[D1]], add %[[G2]])
// CHECK: mest.batch_norm_grad @b0(%[[C0]], %[[SUM]], %[[M0]], %[[V0]], relu %[[Y0]] : tensor<{{.*}}>)
// CHECK-NOT: mest.relu_grad
// The eval step runs forward kernels too; its batch norms stay layer ops.
// CHECK-LABEL: func.func @res_eval(
// CHECK: mest.forward @c0(%arg0) : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>{{$}}
// CHECK-NEXT: mest.batch_norm @b0(

// DIRECT-LABEL: func.func @res_train(
// DIRECT: mest.forward @c0(%arg0) : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>{{$}}
// DIRECT-NEXT: mest.batch_norm_train @b0(%{{[a-z0-9_]+}}) relu
// DIRECT-NOT: mest.batch_norm_affine
// DIRECT: mest.batch_norm_train @b1(%{{[a-z0-9_]+}}) relu
// DIRECT: mest.batch_norm_train @b2(%{{[a-z0-9_]+}}, residual %{{[a-z0-9_]+}} : tensor<{{.*}}>) relu
// DIRECT: %[[G:.*]] = mest.grad_input @c1(
// DIRECT-NEXT: mest.add %{{.*}}, %[[G]]
// DIRECT-NEXT: mest.grad_weight_sgd @c1(
func.func @res(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c0(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>
  %1 = mest.batch_norm @b0(%0) : tensor<2x8x6x6xf32>
  %2 = mest.relu %1 : tensor<2x8x6x6xf32>
  %3 = mest.conv2d @c1(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.75>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  %4 = mest.batch_norm @b1(%3) : tensor<2x8x6x6xf32>
  %5 = mest.relu %4 : tensor<2x8x6x6xf32>
  %6 = mest.conv2d @c2(%5) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.75>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  %7 = mest.batch_norm @b2(%6) : tensor<2x8x6x6xf32>
  %8 = mest.add %7, %2 : tensor<2x8x6x6xf32>
  %9 = mest.relu %8 : tensor<2x8x6x6xf32>
  %10 = mest.global_avg_pool2d %9 : tensor<2x8x6x6xf32> -> tensor<2x8xf32>
  %11 = mest.linear @fc(%10) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %11 : tensor<2x3xf32>
}

// -----

// A batch-norm output with a second user is materialised: no fusion.
// CHECK-LABEL: func.func @twice_train(
// CHECK: %[[B:[a-z0-9_]+]], {{.*}} = mest.batch_norm_train @b(%{{[a-z0-9_]+}}, stats %{{[a-z0-9_]+}} : tensor<2x4x2xf32>) {
// CHECK-NEXT: %[[R:.*]] = mest.relu %[[B]]
// CHECK-NEXT: mest.add %[[R]], %[[B]]
func.func @twice(%x: tensor<2x4x4x4xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %1 = mest.batch_norm @b(%0) : tensor<2x4x4x4xf32>
  %2 = mest.relu %1 : tensor<2x4x4x4xf32>
  %3 = mest.add %2, %1 : tensor<2x4x4x4xf32>
  %4 = mest.global_avg_pool2d %3 : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  %5 = mest.linear @fc(%4) {out_features = 3 : i64} : tensor<2x4xf32> -> tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}
