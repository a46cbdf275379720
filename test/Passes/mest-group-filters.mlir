// RUN: mest-opt %s --mest-group-filters | FileCheck %s

// CHECK-LABEL: func.func @policies
func.func @policies(%x: tensor<2x8x6x6xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  // CHECK: mest.conv2d @u({{.*}}mest.regroup = "balance-nnz"
  %0 = mest.conv2d @u(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.9>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  // CHECK: mest.conv2d @b({{.*}}mest.regroup = "balance-nnz"
  %1 = mest.conv2d @b(%0) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  // CHECK: mest.conv2d @p({{.*}}mest.regroup = "pattern-mix"
  %2 = mest.conv2d @p(%1) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  // CHECK: mest.conv2d @c({{.*}}mest.regroup = "none"
  %3 = mest.conv2d @c(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<channel, target = 0.5>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  // CHECK: mest.conv2d @d({{.*}}mest.regroup = "none"
  %4 = mest.conv2d @d(%3) {out_channels = 8 : i64, kernel = array<i64: 1, 1>} : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
  %5 = mest.global_avg_pool2d %4 : tensor<2x8x6x6xf32> -> tensor<2x8xf32>
  // CHECK: mest.linear @fc({{.*}}mest.regroup = "none"
  %6 = mest.linear @fc(%5) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}
