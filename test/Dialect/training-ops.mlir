// RUN: mest-opt %s | FileCheck %s
// RUN: mest-opt %s | mest-opt | FileCheck %s
// The ops mest-generate-backward creates, and the planning attributes. A step
// names its model, whose layers its training ops refer to.
func.func @m(%x: tensor<2x4x4x4xf32>) -> tensor<2x4xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %1 = mest.batch_norm @bn(%0) : tensor<2x4x4x4xf32>
  %2 = mest.global_avg_pool2d %1 : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @step
// CHECK-SAME: mest.arena_bytes = 4096 : i64, mest.train_step = @m
func.func @step(%x: tensor<2x4x4x4xf32>, %dy: tensor<2x4x4x4xf32>, %l: tensor<2xi32>, %lr: f32) attributes {mest.train_step = @m, mest.arena_bytes = 4096 : i64} {
  // CHECK: mest.conv2d @c(%{{.*}}) {kernel = array<i64: 3, 3>, mest.regroup = "balance-nnz", mest.state_offset = 128 : i64, out_channels = 4 : i64, padding = array<i64: 1, 1>}
  %c = mest.conv2d @c(%x) {out_channels = 4 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, mest.state_offset = 128 : i64, mest.regroup = "balance-nnz"} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  // CHECK: mest.batch_norm_train @bn(%{{.*}}) {mest.arena_offsets = array<i64: 0, 512, 576>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>
  %y, %mean, %inv = mest.batch_norm_train @bn(%c) {mest.arena_offsets = array<i64: 0, 512, 576>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>
  // CHECK: mest.batch_norm_grad @bn(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : tensor<2x4x4x4xf32>, tensor<4xf32>
  %dbn = mest.batch_norm_grad @bn(%c, %dy, %mean, %inv) : tensor<2x4x4x4xf32>, tensor<4xf32>
  // CHECK: mest.sgd @bn(%{{.*}}, %{{.*}}, %{{.*}})
  mest.sgd @bn(%lr, %lr, %lr)
  // CHECK: mest.grad_input @c(%{{.*}}) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %dx = mest.grad_input @c(%dbn) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  // CHECK: mest.grad_weight_sgd @c(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  mest.grad_weight_sgd @c(%x, %dbn, %lr, %lr, %lr) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  // CHECK: mest.grad_weight @c(%{{.*}}, %{{.*}}) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  mest.grad_weight @c(%x, %dbn) : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
  // CHECK: mest.sgd @c(%{{.*}}, %{{.*}}, %{{.*}})
  mest.sgd @c(%lr, %lr, %lr)
  // CHECK: mest.relu_grad %{{.*}}, %{{.*}} : tensor<2x4x4x4xf32>
  %dr = mest.relu_grad %y, %dy : tensor<2x4x4x4xf32>
  // CHECK: mest.activation_grad silu %{{.*}}, %{{.*}} : tensor<2x4x4x4xf32>
  %dact = mest.activation_grad silu %y, %dy : tensor<2x4x4x4xf32>
  // CHECK: mest.activation_grad hard_swish %{{.*}}, %{{.*}} {alpha = 0.16666666666666666 : f64, beta = 5.000000e-01 : f64} : tensor<2x4x4x4xf32>
  %dhs = mest.activation_grad hard_swish %y, %dy {alpha = 0.16666666666666666 : f64, beta = 0.5 : f64} : tensor<2x4x4x4xf32>
  // CHECK: mest.dropout_train %{{.*}} {index = 0 : i64, ratio = 2.500000e-01 : f64} : tensor<2x4x4x4xf32>
  %dt = mest.dropout_train %y {ratio = 0.25, index = 0} : tensor<2x4x4x4xf32>
  // CHECK: mest.dropout_grad %{{.*}} {index = 0 : i64, ratio = 2.500000e-01 : f64} : tensor<2x4x4x4xf32>
  %dd = mest.dropout_grad %dy {ratio = 0.25, index = 0} : tensor<2x4x4x4xf32>
  // CHECK: mest.advance_dropout
  mest.advance_dropout
  // CHECK: mest.scale_channels_grad %{{.*}}, %{{.*}} : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  %dsc = mest.scale_channels_grad %y, %dy : tensor<2x4x4x4xf32> -> tensor<2x4xf32>
  // CHECK: mest.pad_channels %{{.*}} {offset = 2 : i64} : tensor<2x4x4x4xf32> -> tensor<2x8x4x4xf32>
  %dpad = mest.pad_channels %dy {offset = 2 : i64} : tensor<2x4x4x4xf32> -> tensor<2x8x4x4xf32>
  // CHECK: mest.max_pool2d_train %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x4x4x4xf32> -> tensor<2x4x2x2xf32>, tensor<2x4x2x2xi32>
  %p, %arg = mest.max_pool2d_train %y {kernel = array<i64: 2, 2>} : tensor<2x4x4x4xf32> -> tensor<2x4x2x2xf32>, tensor<2x4x2x2xi32>
  // CHECK: mest.max_pool2d_grad %{{.*}}, %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x4x2x2xf32>, tensor<2x4x2x2xi32> -> tensor<2x4x4x4xf32>
  %dp = mest.max_pool2d_grad %p, %arg {kernel = array<i64: 2, 2>} : tensor<2x4x2x2xf32>, tensor<2x4x2x2xi32> -> tensor<2x4x4x4xf32>
  // CHECK: mest.avg_pool2d_grad %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x4x2x2xf32> -> tensor<2x4x4x4xf32>
  %da = mest.avg_pool2d_grad %p {kernel = array<i64: 2, 2>} : tensor<2x4x2x2xf32> -> tensor<2x4x4x4xf32>
  %f = mest.flatten %y : tensor<2x4x4x4xf32> -> tensor<2x64xf32>
  // CHECK: mest.global_avg_pool2d_grad %{{.*}} : tensor<2x64xf32> -> tensor<2x64x1x1xf32>
  %dg = mest.global_avg_pool2d_grad %f : tensor<2x64xf32> -> tensor<2x64x1x1xf32>
  // CHECK: mest.reshape %{{.*}} : tensor<2x64xf32> -> tensor<2x4x4x4xf32>
  %dfl = mest.reshape %f : tensor<2x64xf32> -> tensor<2x4x4x4xf32>
  // CHECK: mest.softmax_cross_entropy_grad %{{.*}}, %{{.*}} : tensor<2x64xf32>, tensor<2xi32> -> tensor<2x64xf32>
  %dz = mest.softmax_cross_entropy_grad %f, %l : tensor<2x64xf32>, tensor<2xi32> -> tensor<2x64xf32>
  // A residual without statistics (direct kernels) round-trips.
  // CHECK: mest.batch_norm_train @bn(%{{.*}}, residual %{{.*}} : tensor<2x4x4x4xf32>) relu
  %yr, %mr, %ir = mest.batch_norm_train @bn(%c, residual %y : tensor<2x4x4x4xf32>) relu : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>
  // Saved activations in 16 bits (mest-compact-activations): the gradients'
  // f32 type is printed last where it differs.
  // CHECK: mest.relu_grad %{{.*}}, %{{.*}} : tensor<2x4x4x4xf16>, tensor<2x4x4x4xf32>
  // CHECK: mest.batch_norm_grad @bn(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, relu %{{.*}} : tensor<2x4x4x4xbf16>) : tensor<2x4x4x4xf16>, tensor<4xf32>, tensor<2x4x4x4xf32>
  %h, %hm, %hi = mest.batch_norm_train @bn(%c) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf16>, tensor<4xf32>, tensor<4xf32>
  %hr = mest.relu_grad %h, %dy : tensor<2x4x4x4xf16>, tensor<2x4x4x4xf32>
  %hb, %hbm, %hbi = mest.batch_norm_train @bn(%c) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xbf16>, tensor<4xf32>, tensor<4xf32>
  %dh = mest.batch_norm_grad @bn(%h, %dy, %hm, %hi, relu %hb : tensor<2x4x4x4xbf16>) : tensor<2x4x4x4xf16>, tensor<4xf32>, tensor<2x4x4x4xf32>
  // A batch norm output recomputed in backward (mest-recompute-activations)
  // from the (scale, shift) its batch norm returns.
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %[[A:.*]] = mest.batch_norm_train @bn(%{{.*}}, residual %{{.*}} : tensor<2x4x4x4xf32>) relu : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xbf16>, tensor<4xf32>, tensor<4xf32>, affine tensor<4x2xf32>
  // CHECK: mest.batch_norm_apply(%{{.*}}, %[[A]] : tensor<4x2xf32>, residual %{{.*}} : tensor<2x4x4x4xf32>) relu : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xbf16>
  // CHECK: mest.batch_norm_apply(%{{.*}}, %[[A]] : tensor<4x2xf32>) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %ya, %ma, %ia, %aa = mest.batch_norm_train @bn(%c, residual %y : tensor<2x4x4x4xf32>) relu : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xbf16>, tensor<4xf32>, tensor<4xf32>, affine tensor<4x2xf32>
  %yb = mest.batch_norm_apply(%c, %aa : tensor<4x2xf32>, residual %y : tensor<2x4x4x4xf32>) relu : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xbf16>
  %yc = mest.batch_norm_apply(%c, %aa : tensor<4x2xf32>) : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  // A ReLU output kept as its sign, 1 bit per element (mest-pack-relu-masks).
  // CHECK: %[[M:.*]] = mest.relu_mask %{{.*}} : tensor<2x4x4x4xbf16> -> tensor<16xi8>
  // CHECK: mest.relu_mask_grad %[[M]], %{{.*}} : tensor<16xi8>, tensor<2x4x4x4xf32>
  %mk = mest.relu_mask %ya : tensor<2x4x4x4xbf16> -> tensor<16xi8>
  %dm = mest.relu_mask_grad %mk, %dy : tensor<16xi8>, tensor<2x4x4x4xf32>
  return
}
