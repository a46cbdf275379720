// RUN: mest-opt %s --mest-generate-backward --mest-plan-memory -verify-diagnostics | FileCheck %s

// Eval, ops 0..4: relu a (live 0-1, 256 B), relu b (1-2, 256 B), flatten c (2-3,
// 256 B), linear logits (3-4, 16 B -> 64 B), loss (returned: caller's buffers).
// Largest first at the lowest free offset: a at 0, b at 256 (overlaps a), c at 0
// (a is dead), logits at 256 (b is dead, c is not): 512 bytes for 832 in all.

// expected-remark @+5 {{@m_train: arena of}}
// expected-remark @+4 {{@m_eval: arena of 512 bytes for 4 tensors of 832 bytes in all (1.62x reuse)}}
// The inference entry: the eval forward without the loss (its 3 tensors; the
// logits go to the caller's buffer).
// expected-remark @+1 {{@m_infer: arena of 512 bytes for 3 tensors of 768 bytes in all (1.50x reuse)}}
func.func @m(%x: tensor<2x4x2x4xf32>) -> tensor<2x2xf32> attributes {mest.model} {
  %0 = mest.relu %x : tensor<2x4x2x4xf32>
  %1 = mest.relu %0 : tensor<2x4x2x4xf32>
  %2 = mest.flatten %1 : tensor<2x4x2x4xf32> -> tensor<2x32xf32>
  %3 = mest.linear @fc(%2) {out_features = 2 : i64} : tensor<2x32xf32> -> tensor<2x2xf32>
  return %3 : tensor<2x2xf32>
}
// CHECK-LABEL: func.func @m_eval
// CHECK-SAME: mest.arena_bytes = 512 : i64
// CHECK: mest.relu {{.*}} {mest.arena_offsets = array<i64: [[A:[0-9]+]]>}
// CHECK: mest.relu {{.*}} {mest.arena_offsets = array<i64: [[B:[0-9]+]]>}
// CHECK: mest.flatten {{.*}} {mest.arena_offsets = array<i64: [[A]]>}
// CHECK: mest.linear @fc({{.*}}mest.arena_offsets = array<i64: [[B]]>
// CHECK: mest.softmax_cross_entropy {{.*}} {mest.arena_offsets = array<i64: -1, -1, -1>}
