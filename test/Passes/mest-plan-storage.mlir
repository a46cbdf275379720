// RUN: mest-opt %s --mest-plan-storage -split-input-file -verify-diagnostics | FileCheck %s

// Layouts by hand (runtime/formats/StateLayout.h, 64-byte aligned arrays):
// @c unstructured 8x4x3x3 at capacity 0.5: 288 - 144 = 144 weights.
//   header 0..16 -> 64, values 64..640, grads 640..1216, momentum 1216..1792,
//   index 1792..2368, groupPtr 2368..2404 -> 2432, order 2432..2464 -> 2496 bytes.
// @b 8 channels: 3 arrays of 2*8 floats (64 B each) + 2 of 8 floats (64 B) = 320 B,
//   at 2496; next at 2496 + 320 = 2816.
// @fc dense 3x8 with bias: header 64, values 96 -> 128, grads 128, momentum 128,
//   bias, bias grad, bias momentum 64 each = 640 B at 2816; block 3456 bytes.

// CHECK-LABEL: func.func @tiny
// CHECK-SAME: mest.state_bytes = 3456 : i64
// CHECK: mest.conv2d @c({{.*}}mest.state_offset = 0 : i64
// CHECK: mest.batch_norm @b({{.*}}) {mest.state_offset = 2496 : i64}
// CHECK: mest.linear @fc({{.*}}mest.state_offset = 2816 : i64
func.func @tiny(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.9, capacity = 0.5>} : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>
  %1 = mest.batch_norm @b(%0) : tensor<2x8x6x6xf32>
  %2 = mest.global_avg_pool2d %1 : tensor<2x8x6x6xf32> -> tensor<2x8xf32>
  %3 = mest.linear @fc(%2) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

func.func @wide_blocks(%x: tensor<2x4x6x6xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  // expected-error @+1 {{code generation supports block columns of width 1 (R x 1 blocks), got block = [4, 2]}}
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, sparsity = #mest.sparsity<block, target = 0.9, block = [4, 2]>} : tensor<2x4x6x6xf32> -> tensor<2x8x4x4xf32>
  %1 = mest.global_avg_pool2d %0 : tensor<2x8x4x4xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// A model with dropout gets its stream (16 bytes, 64 aligned) after the layers:
// @fc dense 3x8 with bias is 640 bytes at 0, the stream at 640, the block 704.
// CHECK-LABEL: func.func @dropped
// CHECK-SAME: mest.dropout_state_offset = 640 : i64
// CHECK-SAME: mest.state_bytes = 704 : i64
func.func @dropped(%x: tensor<2x8xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.dropout %x {ratio = 0.5} : tensor<2x8xf32>
  %1 = mest.linear @fc(%0) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
