// RUN: mestc %s --emit mlir-steps -o %t.mlir && FileCheck %s < %t.mlir
// Dropout's kernel: the stream's key from the state block (seed at the
// stream's offset, step 8 bytes on), the element hash on vectors of i32 lanes,
// one kernel for the forward mask and the gradient (same size and ratio); the
// step ends by advancing the counter; the eval step has no dropout.

func.func @drop(%x: tensor<4x16xf32>) -> tensor<4x3xf32> attributes {mest.model} {
  %0 = mest.linear @fc1(%x) {out_features = 16 : i64} : tensor<4x16xf32> -> tensor<4x16xf32>
  %1 = mest.dropout %0 {ratio = 0.25} : tensor<4x16xf32>
  %2 = mest.linear @fc2(%1) {out_features = 3 : i64} : tensor<4x16xf32> -> tensor<4x3xf32>
  return %2 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @mest_model_train_step(
// CHECK: memref.view %arg0[%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<2xi64>
// CHECK: call @mest_k_dropout_64_0x400000(
// CHECK: call @mest_k_dropout_64_0x400000(
// CHECK: %[[STEP:.*]] = memref.load %[[S:.*]][%c1] : memref<2xi64>
// CHECK: %[[NEXT:.*]] = arith.addi %[[STEP]], %{{.*}} : i64
// CHECK: memref.store %[[NEXT]], %[[S]][%c1] : memref<2xi64>
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @mest_k_dropout_64_0x400000(
// CHECK-SAME: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: i64
// CHECK: arith.muli %{{.*}}, %{{.*}} : vector<{{[0-9]+}}xi32>
// CHECK: arith.cmpi uge
// CHECK: arith.select
// CHECK-LABEL: func.func @mest_model_eval_step(
// CHECK-NOT: dropout
// CHECK-LABEL: func.func @mest_model_infer(
