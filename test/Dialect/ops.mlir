// RUN: mest-opt %s | FileCheck %s
// RUN: mest-opt %s | mest-opt | FileCheck %s
// RUN: mest-opt --mlir-print-op-generic %s | mest-opt | FileCheck %s

// CHECK-LABEL: func.func @every_op
// CHECK-SAME: attributes {mest.model}
func.func @every_op(%x: tensor<2x3x8x8xf32>) -> tensor<2x10xf32> attributes {mest.model} {
  // CHECK: mest.conv2d @conv1(%{{.*}}) {bias = true, kernel = array<i64: 3, 3>, out_channels = 8 : i64, padding = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x8x8x8xf32>
  %0 = mest.conv2d @conv1(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, bias = true} : tensor<2x3x8x8xf32> -> tensor<2x8x8x8xf32>
  // CHECK: mest.batch_norm @bn1(%{{.*}}) : tensor<2x8x8x8xf32>
  %1 = mest.batch_norm @bn1(%0) : tensor<2x8x8x8xf32>
  // CHECK: mest.relu %{{.*}} : tensor<2x8x8x8xf32>
  %2 = mest.relu %1 : tensor<2x8x8x8xf32>
  // CHECK: mest.conv2d @conv2(%{{.*}}) {kernel = array<i64: 3, 3>, out_channels = 8 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>}
  %3 = mest.conv2d @conv2(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  // CHECK: mest.batch_norm @bn2(%{{.*}}) {eps = 1.000000e-03 : f64, momentum = 0.000000e+00 : f64}
  %4 = mest.batch_norm @bn2(%3) {eps = 1.0e-3 : f64, momentum = 0.0 : f64} : tensor<2x8x8x8xf32>
  // CHECK: mest.add %{{.*}}, %{{.*}} : tensor<2x8x8x8xf32>
  %5 = mest.add %4, %2 : tensor<2x8x8x8xf32>
  // CHECK: mest.conv2d @depthwise(%{{.*}}) {groups = 8 : i64, kernel = array<i64: 3, 3>, out_channels = 8 : i64, padding = array<i64: 1, 1>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  %dw = mest.conv2d @depthwise(%5) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, groups = 8 : i64} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  // CHECK: mest.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<2x8x8x8xf32>
  %c6 = mest.clip %dw {min = 0.0, max = 6.0} : tensor<2x8x8x8xf32>
  // CHECK: mest.activation hard_swish %{{.*}} {alpha = 0.16666666666666666 : f64, beta = 5.000000e-01 : f64} : tensor<2x8x8x8xf32>
  %hs = mest.activation hard_swish %c6 {alpha = 0.16666666666666666 : f64, beta = 0.5 : f64} : tensor<2x8x8x8xf32>
  // CHECK: mest.activation silu %{{.*}} : tensor<2x8x8x8xf32>
  %si = mest.activation silu %hs : tensor<2x8x8x8xf32>
  %sq = mest.global_avg_pool2d %si : tensor<2x8x8x8xf32> -> tensor<2x8xf32>
  // CHECK: mest.activation sigmoid %{{.*}} : tensor<2x8xf32>
  %sg = mest.activation sigmoid %sq : tensor<2x8xf32>
  // CHECK: mest.dropout %{{.*}} {ratio = 2.000000e-01 : f64} : tensor<2x8xf32>
  %dr = mest.dropout %sg {ratio = 0.2} : tensor<2x8xf32>
  // CHECK: mest.activation hard_sigmoid %{{.*}} {alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64} : tensor<2x8xf32>
  %hg = mest.activation hard_sigmoid %sg {alpha = 0.2 : f64, beta = 0.5 : f64} : tensor<2x8xf32>
  // CHECK: mest.scale_channels %{{.*}}, %{{.*}} : tensor<2x8x8x8xf32>, tensor<2x8xf32>
  %se = mest.scale_channels %si, %hg : tensor<2x8x8x8xf32>, tensor<2x8xf32>
  // CHECK: mest.conv2d @down(%{{.*}}) {kernel = array<i64: 1, 1>, out_channels = 16 : i64, sparsity = #mest.sparsity<unstructured, target = 0.5>, stride = array<i64: 2, 2>} : tensor<2x8x8x8xf32> -> tensor<2x16x4x4xf32>
  %6 = mest.conv2d @down(%se) {out_channels = 16 : i64, kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<2x8x8x8xf32> -> tensor<2x16x4x4xf32>
  // CHECK: mest.slice_channels %{{.*}} {offset = 8 : i64} : tensor<2x16x4x4xf32> -> tensor<2x8x4x4xf32>
  %half = mest.slice_channels %6 {offset = 8 : i64} : tensor<2x16x4x4xf32> -> tensor<2x8x4x4xf32>
  // CHECK: mest.concat %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x16x4x4xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32> -> tensor<2x32x4x4xf32>
  %cat3 = mest.concat %6, %half, %half : tensor<2x16x4x4xf32>, tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32> -> tensor<2x32x4x4xf32>
  // CHECK: mest.shuffle_channels %{{.*}} {groups = 2 : i64} : tensor<2x32x4x4xf32>
  %cat = mest.shuffle_channels %cat3 {groups = 2 : i64} : tensor<2x32x4x4xf32>
  // Ceil mode: a 3x3 window at stride 2 on 4x4 gives 2x2 (floor: 1x1).
  // CHECK: mest.max_pool2d %{{.*}} {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : tensor<2x32x4x4xf32> -> tensor<2x32x2x2xf32>
  %ceil = mest.max_pool2d %cat {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>} : tensor<2x32x4x4xf32> -> tensor<2x32x2x2xf32>
  // CHECK: mest.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x16x4x4xf32> -> tensor<2x16x2x2xf32>
  %7 = mest.max_pool2d %6 {kernel = array<i64: 2, 2>} : tensor<2x16x4x4xf32> -> tensor<2x16x2x2xf32>
  // CHECK: mest.avg_pool2d %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>}
  %8 = mest.avg_pool2d %7 {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<2x16x2x2xf32> -> tensor<2x16x2x2xf32>
  // CHECK: mest.flatten %{{.*}} : tensor<2x16x2x2xf32> -> tensor<2x64xf32>
  %9 = mest.flatten %8 : tensor<2x16x2x2xf32> -> tensor<2x64xf32>
  // CHECK: mest.linear @fc1(%{{.*}}) {out_features = 32 : i64, sparsity = #mest.sparsity<block, target = 0.75, block = [8, 1]>}
  %10 = mest.linear @fc1(%9) {out_features = 32 : i64, sparsity = #mest.sparsity<block, target = 0.75, block = [8, 1]>} : tensor<2x64xf32> -> tensor<2x32xf32>
  // CHECK: mest.batch_norm @bn3(%{{.*}}) : tensor<2x32xf32>
  %11 = mest.batch_norm @bn3(%10) : tensor<2x32xf32>
  // CHECK: mest.linear @fc2(%{{.*}}) {bias = false, out_features = 10 : i64}
  %12 = mest.linear @fc2(%11) {out_features = 10 : i64, bias = false} : tensor<2x32xf32> -> tensor<2x10xf32>
  return %12 : tensor<2x10xf32>
}

// CHECK-LABEL: func.func @pool_and_loss
func.func @pool_and_loss(%x: tensor<4x6x5x5xf32>, %labels: tensor<4xi32>) -> tensor<4xf32> {
  // CHECK: mest.global_avg_pool2d %{{.*}} : tensor<4x6x5x5xf32> -> tensor<4x6xf32>
  %0 = mest.global_avg_pool2d %x : tensor<4x6x5x5xf32> -> tensor<4x6xf32>
  // CHECK: mest.softmax_cross_entropy %{{.*}}, %{{.*}} : tensor<4x6xf32>, tensor<4xi32> -> tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
  %loss, %correct, %margin = mest.softmax_cross_entropy %0, %labels : tensor<4x6xf32>, tensor<4xi32> -> tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
  return %loss : tensor<4xf32>
}
