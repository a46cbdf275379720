// RUN: mest-opt %s --mest-form-kernels | FileCheck %s

// A fused op runs at the last op of its chain. A layer's backward-data may
// move to the gradient sum only if its weights are not updated in between:
// after mest.grad_weight_sgd @a the old weights are gone, so that sum stays;
// @b's update comes after the sum, so it fuses.
// CHECK-LABEL: func.func @m_train(
// CHECK: %[[GA:.*]] = mest.grad_input @a(%arg0) :
// CHECK-NEXT: mest.grad_weight_sgd @a(
// CHECK-NEXT: %[[S:.*]] = mest.add %[[GA]], %arg1
// CHECK-NEXT: %[[SB:.*]] = mest.grad_input @b(%[[S]], add %arg1) :
// CHECK-NEXT: mest.grad_weight_sgd @b(
// CHECK-NEXT: return %[[SB]]
#k = #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded, order = weight, vector_width = 8, registers = 12, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 12, scratch_bytes = 4096>
func.func @m(%x: tensor<2x4x4x4xf32>) -> tensor<2x4xf32> attributes {mest.model} {
  %0 = mest.conv2d @a(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #k} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %1 = mest.conv2d @b(%0) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.kernel = #k} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %2 = mest.global_avg_pool2d %1 : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}
func.func @m_train(%dy: tensor<2x4x4x4xf32>, %g: tensor<2x4x4x4xf32>, %x: tensor<2x4x4x4xf32>, %lr: f32, %mu: f32, %wd: f32) -> tensor<2x4x4x4xf32> attributes {mest.train_step = @m} {
  %ga = mest.grad_input @a(%dy) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  mest.grad_weight_sgd @a(%x, %dy, %lr, %mu, %wd) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  %s = mest.add %ga, %g : tensor<2x4x4x4xf32>
  %gb = mest.grad_input @b(%s) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %t = mest.add %gb, %g : tensor<2x4x4x4xf32>
  mest.grad_weight_sgd @b(%x, %s, %lr, %mu, %wd) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  return %t : tensor<2x4x4x4xf32>
}
