// RUN: mest-opt %s --mest-generate-backward --mest-split-update-step | FileCheck %s
// RUN: mest-opt %s --mest-generate-backward --mest-split-update-step=sync-batch-norm=true | FileCheck %s --check-prefix=SYNC

// The train step becomes a grad step (no update, no learning-rate scalars)
// and an update step holding every sgd in the train step's order.
func.func @m(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<2x4x6x6xf32> -> tensor<2x4x6x6xf32>
  %1 = mest.batch_norm @bn(%0) : tensor<2x4x6x6xf32>
  %2 = mest.relu %1 : tensor<2x4x6x6xf32>
  %3 = mest.global_avg_pool2d %2 : tensor<2x4x6x6xf32> -> tensor<2x4xf32>
  %4 = mest.linear @fc(%3) {out_features = 3 : i64} : tensor<2x4xf32> -> tensor<2x3xf32>
  return %4 : tensor<2x3xf32>
}

// CHECK-NOT: func.func @m_train
// CHECK-LABEL: func.func @m_update(
// CHECK-SAME: %[[LR:[a-z0-9_]+]]: f32, %[[MU:[a-z0-9_]+]]: f32, %[[WD:[a-z0-9_]+]]: f32) attributes {mest.update_step = @m}
// CHECK-NEXT: mest.sgd @fc(%[[LR]], %[[MU]], %[[WD]])
// CHECK-NEXT: mest.sgd @bn(%[[LR]], %[[MU]], %[[WD]])
// CHECK-NEXT: mest.sgd @c(%[[LR]], %[[MU]], %[[WD]])
// CHECK-NEXT: return
// CHECK-LABEL: func.func @m_grad(
// CHECK-SAME: %{{[a-z0-9_]+}}: tensor<2x4x6x6xf32>, %{{[a-z0-9_]+}}: tensor<2xi32>) -> (tensor<2xf32>, tensor<2xi1>, tensor<2xf32>) attributes {mest.grad_step = @m}
// CHECK-NOT: mest.sgd
// CHECK: mest.grad_weight @fc(
// CHECK: mest.batch_norm_grad @bn(
// CHECK: mest.grad_weight @c(
// CHECK-NOT: mest.sgd
// CHECK: return
// CHECK-LABEL: func.func @m_eval(

// SYNC: func.func @m_grad({{.*}}) -> ({{.*}}) attributes {mest.grad_step = @m, mest.sync_replicas}
