// RUN: mest-opt %s --mest-fuse-sgd | FileCheck %s

// A gradient and its update fuse; a pair with an op on the same layer in
// between (here its input gradient, which needs the old weights) does not.
// CHECK-LABEL: func.func @m_train(
// CHECK: mest.grad_weight_sgd @fc(%{{.*}}, %{{.*}}, %[[LR:[a-z0-9]+]], %[[MU:[a-z0-9]+]], %[[WD:[a-z0-9]+]])
// CHECK-NOT: mest.sgd @fc
// CHECK: mest.grad_weight @c(
// CHECK-NEXT: mest.grad_input @c(
// CHECK-NEXT: mest.sgd @c(
// Other layers' ops in between do not prevent it.
// CHECK: mest.grad_weight_sgd @d(
// CHECK-NEXT: mest.sgd @bn(
// CHECK-NOT: mest.sgd @d
func.func @m_train(%x: tensor<2x4x4x4xf32>, %y: tensor<2x8xf32>, %dy: tensor<2x8xf32>, %dc: tensor<2x4x4x4xf32>, %lr: f32, %mu: f32, %wd: f32) {
  mest.grad_weight @fc(%y, %dy) : tensor<2x8xf32>, tensor<2x8xf32>
  mest.sgd @fc(%lr, %mu, %wd)
  mest.grad_weight @c(%x, %dc) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  %dx = mest.grad_input @c(%dc) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  mest.sgd @c(%lr, %mu, %wd)
  mest.grad_weight @d(%x, %dc) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  mest.sgd @bn(%lr, %mu, %wd)
  mest.sgd @d(%lr, %mu, %wd)
  return
}
