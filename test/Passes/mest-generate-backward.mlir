// RUN: mest-opt %s --mest-generate-backward | FileCheck %s

// A residual block: the gradient of %1 is the sum of the add's gradient and
// the conv's input gradient; the first conv gets no input gradient.
func.func @res(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c1(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x4x6x6xf32> -> tensor<2x4x6x6xf32>
  %1 = mest.relu %0 : tensor<2x4x6x6xf32>
  %2 = mest.conv2d @c2(%1) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8>} : tensor<2x4x6x6xf32> -> tensor<2x4x6x6xf32>
  %3 = mest.batch_norm @bn(%2) : tensor<2x4x6x6xf32>
  %4 = mest.add %3, %1 : tensor<2x4x6x6xf32>
  %5 = mest.max_pool2d %4 {kernel = array<i64: 2, 2>} : tensor<2x4x6x6xf32> -> tensor<2x4x3x3xf32>
  %6 = mest.flatten %5 : tensor<2x4x3x3xf32> -> tensor<2x36xf32>
  %7 = mest.linear @fc(%6) {out_features = 3 : i64} : tensor<2x36xf32> -> tensor<2x3xf32>
  return %7 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @res_train(
// CHECK-SAME: %[[X:[a-z0-9_]+]]: tensor<2x4x6x6xf32>, %[[L:[a-z0-9_]+]]: tensor<2xi32>, %[[LR:[a-z0-9_]+]]: f32, %[[MU:[a-z0-9_]+]]: f32, %[[WD:[a-z0-9_]+]]: f32) -> (tensor<2xf32>, tensor<2xi1>, tensor<2xf32>) attributes {mest.train_step = @res}
// CHECK: %[[C1:[a-z0-9_]+]] = mest.conv2d @c1(%[[X]])
// CHECK: %[[R1:[a-z0-9_]+]] = mest.relu %[[C1]]
// CHECK: %[[C2:[a-z0-9_]+]] = mest.conv2d @c2(%[[R1]])
// CHECK: %[[BN:[a-z0-9_]+]], %[[MEAN:[a-z0-9_]+]], %[[INV:[a-z0-9_]+]] = mest.batch_norm_train @bn(%[[C2]])
// CHECK: %[[ADD:[a-z0-9_]+]] = mest.add %[[BN]], %[[R1]]
// CHECK: %[[P:[a-z0-9_]+]], %[[ARG:[a-z0-9_]+]] = mest.max_pool2d_train %[[ADD]]
// CHECK: %[[F:[a-z0-9_]+]] = mest.flatten %[[P]]
// CHECK: %[[Z:[a-z0-9_]+]] = mest.linear @fc(%[[F]])
// CHECK: %[[LOSS:[a-z0-9_]+]], %[[OK:[a-z0-9_]+]], %[[MARGIN:[a-z0-9_]+]] = mest.softmax_cross_entropy %[[Z]], %[[L]]
// CHECK: %[[DZ:[a-z0-9_]+]] = mest.softmax_cross_entropy_grad %[[Z]], %[[L]]
// CHECK: %[[DF:[a-z0-9_]+]] = mest.grad_input @fc(%[[DZ]])
// Each weight gradient, then its update (mest-fuse-sgd fuses the pair).
// CHECK: mest.grad_weight @fc(%[[F]], %[[DZ]])
// CHECK-NEXT: mest.sgd @fc(%[[LR]], %[[MU]], %[[WD]])
// CHECK: %[[DP:[a-z0-9_]+]] = mest.reshape %[[DF]]
// CHECK: %[[DADD:[a-z0-9_]+]] = mest.max_pool2d_grad %[[DP]], %[[ARG]]
// CHECK: %[[DC2:[a-z0-9_]+]] = mest.batch_norm_grad @bn(%[[C2]], %[[DADD]], %[[MEAN]], %[[INV]])
// CHECK: mest.sgd @bn(%[[LR]], %[[MU]], %[[WD]])
// CHECK: %[[DR1A:[a-z0-9_]+]] = mest.grad_input @c2(%[[DC2]])
// CHECK: %[[DR1:[a-z0-9_]+]] = mest.add %[[DADD]], %[[DR1A]]
// CHECK: mest.grad_weight @c2(%[[R1]], %[[DC2]])
// CHECK-NEXT: mest.sgd @c2(
// CHECK: %[[DC1:[a-z0-9_]+]] = mest.relu_grad %[[R1]], %[[DR1]]
// CHECK-NOT: mest.grad_input @c1
// CHECK: mest.grad_weight @c1(%[[X]], %[[DC1]])
// CHECK-NEXT: mest.sgd @c1(
// CHECK: return %[[LOSS]], %[[OK]], %[[MARGIN]]

// CHECK-LABEL: func.func @res_eval(
// CHECK-SAME: attributes {mest.eval_step = @res}
// CHECK: mest.batch_norm @bn(
// CHECK: mest.max_pool2d %
// CHECK: mest.softmax_cross_entropy
// CHECK-NOT: grad
// CHECK: return

// The inference entry: the model's signature, the eval forward, the logits.
// CHECK-LABEL: func.func @res_infer(
// CHECK-SAME: -> tensor<{{[0-9x]+}}xf32> attributes {mest.infer_step = @res}
// CHECK: mest.batch_norm @bn(
// CHECK-NOT: softmax_cross_entropy
// CHECK: %[[LOGITS:.*]] = mest.linear
// CHECK-NEXT: return %[[LOGITS]]

// -----

// Dropout: masked in the train step (numbered in model order), its gradient
// the same mask, the stream advanced last; left out of eval and infer.
func.func @drop(%x: tensor<2x8xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.dropout %x {ratio = 0.5} : tensor<2x8xf32>
  %1 = mest.linear @fc1(%0) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  %2 = mest.dropout %1 {ratio = 0.2} : tensor<2x8xf32>
  %3 = mest.linear @fc2(%2) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @drop_train(
// CHECK: %[[D0:[a-z0-9_]+]] = mest.dropout_train %{{.*}} {index = 0 : i64, ratio = 5.000000e-01 : f64}
// CHECK: %[[L1:[a-z0-9_]+]] = mest.linear @fc1(%[[D0]])
// CHECK: %[[D1:[a-z0-9_]+]] = mest.dropout_train %[[L1]] {index = 1 : i64, ratio = 2.000000e-01 : f64}
// CHECK: mest.linear @fc2(%[[D1]])
// CHECK: %[[G2:[a-z0-9_]+]] = mest.grad_input @fc2
// CHECK: %[[G1:[a-z0-9_]+]] = mest.dropout_grad %[[G2]] {index = 1 : i64, ratio = 2.000000e-01 : f64}
// CHECK: mest.grad_weight @fc1(%[[D0]], %[[G1]])
// CHECK-NOT: mest.dropout_grad
// CHECK: mest.advance_dropout
// CHECK-NEXT: return
// CHECK-LABEL: func.func @drop_eval(
// CHECK-NOT: dropout
// CHECK: mest.linear @fc1(%arg0)
// CHECK-LABEL: func.func @drop_infer(
// CHECK-NOT: dropout
// CHECK: return
