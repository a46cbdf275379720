// RUN: mest-opt %s | FileCheck %s
// RUN: mest-opt %s | mest-opt | FileCheck %s
// Every form of #mest.sparsity, printed in its shortest form.

// CHECK-LABEL: func.func @forms
func.func @forms() attributes {
  // CHECK-SAME: a = #mest.sparsity<dense>
  a = #mest.sparsity<dense>,
  // CHECK-SAME: b = #mest.sparsity<unstructured, target = 0.9>
  b = #mest.sparsity<unstructured, target = 0.9, capacity = 0.9>,
  // CHECK-SAME: c = #mest.sparsity<channel, target = 0.5, capacity = 0.0>
  c = #mest.sparsity<channel, target = 0.5, capacity = 0.0>,
  // CHECK-SAME: d = #mest.sparsity<block, target = 0.9>
  d = #mest.sparsity<block, target = 0.9, block = [4, 1]>,
  // CHECK-SAME: e = #mest.sparsity<block, target = 0.95, block = [8, 2]>
  e = #mest.sparsity<block, target = 0.95, block = [8, 2]>,
  // CHECK-SAME: f = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>
  f = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>,
  // CHECK-SAME: g = #mest.sparsity<pattern, target = 0.8, patterns = {{\[\[}}4, 5, 7, 8], [0, 1, 2, 3]]>
  g = #mest.sparsity<pattern, target = 0.8, patterns = [[4, 5, 7, 8], [0, 1, 2, 3]]>
} {
  return
}
