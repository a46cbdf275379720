// RUN: mest-opt --mest-report-cost -o /dev/null %s | FileCheck %s
// RUN: mest-opt --mest-report-cost=format=json -o /dev/null %s | FileCheck %s --check-prefix=JSON
// RUN: mest-opt --mest-report-cost %s | FileCheck %s --check-prefix=IR
// RUN: not mest-opt --mest-report-cost=format=xml %s 2>&1 | FileCheck %s --check-prefix=BADFMT
// After planning, the memory the compiled model takes: the state block
// (9664 bytes: mest-plan-storage), the larger of the steps' arenas and the
// largest per-thread stack scratch of the layers' configurations (c1's; the
// others are direct), as the planning passes recorded them in the IR.
// RUN: mest-opt --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-plan-memory --mest-report-cost %s 2>/dev/null | FileCheck %s --check-prefix=PLANNED
// PLANNED: memory: state 9664 bytes, arena 9344 bytes, stack scratch 3152 bytes per thread; planned 19008 bytes (0.02 MiB) + 3152 bytes x threads
// PLANNED: mest.kernel = #mest.kernel<forward = padded, {{.*}}scratch_bytes = 3152>
// PLANNED: func.func @small_train({{.*}}mest.arena_bytes = 9344 : i64, {{.*}}mest.scratch_bytes = 3152 : i64
// PLANNED: func.func @small_eval({{.*}}mest.arena_bytes = 4608 : i64

// Numbers computed by hand (docs/formats.md has the rules):
// c1 pattern 8x4x3x3 at 0.8: kernel sparsity 1 - 0.2 * 9/4 = 0.55, 4 - round(2.2) = 2
//    kernels/filter -> 64 weights; capacity 0.7: 4 - round(1.3) = 3 -> 96. 72 output
//    positions: fwd 64*72 = 4608, dense 288*72 = 20736; input is the model input, so
//    bwd = weight gradient only. Bytes: values 8*3*4*4 = 384, metadata 8*3*5 + 8*8*4 = 376,
//    3*384 + 376 = 1528.
// b1 8 channels: 16 params, 12*16 + 8*8 = 256 bytes.
// c2 unstructured 8x8x3x3 at 0.75: 576 - 432 = 144; 18 positions: fwd 2592, dense 10368,
//    bwd 2x. Bytes 3*576 + 144*4 + 9*4 = 2340.
// c3 block 4x1 at 0.5: 2*72 = 144 block-columns, 72 kept = 288 weights: fwd 5184.
//    Bytes 3*72*16 + 72*4 + 3*4 = 3756.
// c4 channel 8x8x1x1 at 0.6 (capacity 0.5): 8 - round(4.8) = 3 channels = 24 weights,
//    capacity 4 channels = 32; fwd 24*18 = 432, dense 1152. Bytes 3*128 + 16 = 400.
// fc dense 8->3 with bias: 27 params, fwd 24*2 = 48; bytes 12*27 = 324.

// CHECK-LABEL: mest cost report for @small (MACs per batch of 2)
// CHECK: layer  {{ *}}kind{{ *}}scheme{{ *}}params{{ *}}active{{ *}}capacity{{ *}}fwd-MACs{{ *}}fwd-dense{{ *}}bwd-MACs{{ *}}bwd-dense{{ *}}bytes
// CHECK-NEXT: c1 {{ *}}conv2d     pattern {{ *}}288  {{ *}}64  {{ *}}96  {{ *}}4608  {{ *}}20736 {{ *}}4608  {{ *}}20736 {{ *}}1528
// CHECK-NEXT: b1 {{ *}}batch_norm dense   {{ *}}16   {{ *}}16  {{ *}}16  {{ *}}0     {{ *}}0     {{ *}}0     {{ *}}0     {{ *}}256
// CHECK-NEXT: c2 {{ *}}conv2d     unstructured {{ *}}576 {{ *}}144 {{ *}}144 {{ *}}2592 {{ *}}10368 {{ *}}5184 {{ *}}20736 {{ *}}2340
// CHECK-NEXT: c3 {{ *}}conv2d     block   {{ *}}576  {{ *}}288 {{ *}}288 {{ *}}5184  {{ *}}10368 {{ *}}10368 {{ *}}20736 {{ *}}3756
// CHECK-NEXT: c4 {{ *}}conv2d     channel {{ *}}64   {{ *}}24  {{ *}}32  {{ *}}432   {{ *}}1152  {{ *}}864   {{ *}}2304  {{ *}}400
// CHECK-NEXT: fc {{ *}}linear     dense   {{ *}}27   {{ *}}27  {{ *}}27  {{ *}}48    {{ *}}48    {{ *}}96    {{ *}}96    {{ *}}324
// CHECK-NEXT: total {{ *}}1547 {{ *}}563 {{ *}}603 {{ *}}12864 {{ *}}42672 {{ *}}21120 {{ *}}64608 {{ *}}8604
// CHECK-NEXT: density 0.3639 at target, 0.3898 at capacity; fwd MACs 3.317x fewer than dense
// CHECK-NEXT: memory: state not planned, arena not planned, stack scratch 0 bytes per thread{{$}}

// JSON: {"arena_bytes":null,"layers":[{"active":64,"bwd_macs":4608,"bwd_macs_dense":20736,"bytes":1528,"capacity":96,"fwd_macs":4608,"fwd_macs_dense":20736,"kind":"conv2d","name":"c1","params":288,"scheme":"pattern"}
// JSON-SAME: "model":"small"
// JSON-SAME: "scratch_bytes_per_thread":0,"state_bytes":null,"total":{"active":563,"bwd_macs":21120,"bwd_macs_dense":64608,"bytes":8604,"capacity":603,"fwd_macs":12864,"fwd_macs_dense":42672,"kind":"","name":"total","params":1547,"scheme":""}

// The pass does not change the IR.
// IR: func.func @small
// IR: mest.conv2d @c1

// BADFMT: unknown format 'xml', expected table or json

func.func @small(%x: tensor<2x4x6x6xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @c1(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8, capacity = 0.7>} : tensor<2x4x6x6xf32> -> tensor<2x8x6x6xf32>
  %1 = mest.batch_norm @b1(%0) : tensor<2x8x6x6xf32>
  %2 = mest.relu %1 : tensor<2x8x6x6xf32>
  %3 = mest.conv2d @c2(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>, sparsity = #mest.sparsity<unstructured, target = 0.75>} : tensor<2x8x6x6xf32> -> tensor<2x8x3x3xf32>
  %4 = mest.conv2d @c3(%3) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<2x8x3x3xf32> -> tensor<2x8x3x3xf32>
  %5 = mest.conv2d @c4(%4) {out_channels = 8 : i64, kernel = array<i64: 1, 1>, sparsity = #mest.sparsity<channel, target = 0.6, capacity = 0.5>} : tensor<2x8x3x3xf32> -> tensor<2x8x3x3xf32>
  %6 = mest.global_avg_pool2d %5 : tensor<2x8x3x3xf32> -> tensor<2x8xf32>
  %7 = mest.linear @fc(%6) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %7 : tensor<2x3xf32>
}
