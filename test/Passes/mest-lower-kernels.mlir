// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-plan-memory --mest-lower-kernels --mlir-print-op-on-diagnostic=false 2>/dev/null | FileCheck %s
// Unfused (what mestc --split-updates does): a gradient-only kernel, then the
// layer's SGD loop over its active values, bounded by the count in its state.
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-form-kernels --mest-plan-memory --mest-lower-kernels 2>/dev/null | FileCheck %s --check-prefix=SPLIT
// SPLIT-LABEL: func.func @mest_model_train_step(
// SPLIT: call @mest_k_fc_bwd_weight_grad(
// The dense classifier: all of its 3 x 8 = 24 weights.
// SPLIT: scf.for %{{.*}} = %{{.*}} to %c24 step
// SPLIT: call @mest_k_c_bwd_weight_grad(
// SPLIT: memref.load %{{.*}} : memref<2xi64>
// SPLIT: scf.for
// SPLIT-NOT: call @mest_k_c_bwd_weight(
// RUN: not mest-opt %s --mest-lower-kernels 2>&1 | FileCheck %s --check-prefix=NOPLAN
// RUN: not mest-opt %s --mest-plan-storage --mest-lower-kernels 2>&1 | FileCheck %s --check-prefix=NOCONFIG
// RUN: not mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-plan-memory --mest-lower-kernels 2>&1 | FileCheck %s --check-prefix=NOFORM
// Batch norm, pooling and the loss are generated kernels: the steps call no
// runtime routine for them (the backward-weight kernels still ask the runtime
// for the thread count).
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-plan-memory --mest-lower-kernels 2>/dev/null | FileCheck %s --check-prefix=NORT
// NORT-LABEL: func.func @mest_model_train_step(
// NORT-NOT: call @mest_rt_{{(batch_norm|global_avg_pool|max_pool|avg_pool|softmax)}}
// NORT-LABEL: func.func @mest_model_after_mutation(
// NOFORM: error: 'mest.conv2d' op is a layer definition inside a step: run mest-form-kernels first

// The ABI functions over the state block (3456 bytes: see mest-plan-storage.mlir)
// and the arena, with caller buffers for inputs and outputs (i1 as i8).
// CHECK: memref.global "private" constant @mest_regroup_params_0 : memref<10xi64> = dense<[1, 1, 8, 4, 3, 3, 4, 8, 0, 4602678819172646912]>
// CHECK-LABEL: func.func @mest_model_train_step(
// CHECK-SAME: memref<3456xi8>, %{{.*}}: memref<{{[0-9]+}}xi8>, %{{.*}}: memref<2x4x6x6xf32>, %{{.*}}: memref<2xi32>, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: memref<2xf32>, %{{.*}}: memref<2xi8>, %{{.*}}: memref<2xf32>)
// The conv's forward also writes the per-plane statistics its batch norm uses,
// an arena tensor like any other.
// CHECK: %[[STATS:.*]] = memref.view %arg1[%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<2x8x2xf32>
// CHECK: %[[BLOCK:.*]] = memref.view %arg0[%{{.*}}][] : memref<3456xi8> to memref<2496xi8>
// CHECK: call @mest_k_c_fwd_stats(%[[BLOCK]], %{{.*}}, %{{.*}}, %[[STATS]])
// CHECK: call @mest_k_bn_train_0(
// CHECK: call @mest_k_global_avg_pool_0(
// CHECK: call @mest_k_fc_fwd(
// CHECK: call @mest_k_softmax_xent_0(
// CHECK: call @mest_k_softmax_xent_grad_0(
// CHECK: call @mest_k_fc_bwd_data(
// CHECK: call @mest_k_fc_bwd_weight(
// CHECK: call @mest_k_global_avg_pool_grad_0(
// CHECK: call @mest_k_bn_grad_0(
// The first layer's input is the model input: no backward-data kernel for it.
// CHECK-NOT: call @mest_k_c_bwd_data
// CHECK: call @mest_k_c_bwd_weight(

// The unstructured conv (padded kernels): parallel over images, its weights read
// through the row pointers and columns of its storage. A kernel sees only its
// layer's block of the state (2496 bytes for @c, at offset 0: the caller passes
// a view), so layers of equal shape, scheme, storage and configuration share it.
// CHECK-LABEL: func.func private @mest_k_c_fwd_stats(
// CHECK-SAME: memref<2496xi8>
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>}
// CHECK: memref.view %arg0[%{{.*}}][] : memref<2496xi8> to memref<9xi32>
// CHECK: scf.parallel
// CHECK: vector.load
// CHECK: math.fma

// The batch-norm kernel: parallel over channels, statistics from the conv.
// CHECK-LABEL: func.func private @mest_k_bn_train_0(
// CHECK: scf.parallel
// CHECK: math.sqrt

// CHECK-LABEL: func.func @mest_model_eval_step(
// CHECK: call @mest_k_c_fwd(
// CHECK: call @mest_k_bn_eval_0(

// The inference entry: state, arena, the input batch and the caller's logits.
// CHECK-LABEL: func.func @mest_model_infer(
// CHECK-SAME: memref<3456xi8>, %{{.*}}: memref<{{[0-9]+}}xi8>, %{{.*}}: memref<2x4x6x6xf32>, %{{.*}}: memref<2x3xf32>)
// CHECK: call @mest_k_c_fwd(
// CHECK: call @mest_k_bn_eval_0(
// CHECK: call @mest_k_fc_fwd(
// CHECK-NOT: softmax

// CHECK-LABEL: func.func @mest_model_after_mutation(
// CHECK-SAME: memref<3456xi8>, %{{.*}}: i32)
// The regrouping's parameters are a typed constant (mest_rt_regroup_params in
// runtime/abi/mest_abi.h): balance-nnz (1), unstructured (1), 8x4x3x3, block
// rows 4 and 8 patterns (the defaults, unused here), no bias, capacity 0.5
// (0x3FE0000000000000).
// CHECK: %[[P:.*]] = memref.get_global @mest_regroup_params_0 : memref<10xi64>
// CHECK: %[[PTR:.*]] = memref.reinterpret_cast %[[P]]
// CHECK: call @mest_rt_regroup(%{{.*}}, %[[PTR]], %arg1)

// NOPLAN: error: model has no storage plan: run mest-plan-storage first
// NOCONFIG: error: 'mest.conv2d' op has no mest.kernel configuration: run mest-configure-kernels first

func.func @tiny(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.9, capacity = 0.5>} : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>
  %1 = mest.batch_norm @b(%0) : tensor<2x8x6x6xf32>
  %2 = mest.global_avg_pool2d %1 : tensor<2x8x6x6xf32> -> tensor<2x8xf32>
  %3 = mest.linear @fc(%2) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}
