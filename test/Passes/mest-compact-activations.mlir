// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-compact-activations=storage=f16 --mest-plan-memory 2>/dev/null | FileCheck %s
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-compact-activations=storage=f16 --mest-plan-memory -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-compact-activations=storage=bf16 -o /dev/null 2>&1 | FileCheck %s --check-prefix=BF16
// The same plan in f32: the arena the compact one is compared with below.
// RUN: mest-opt %s --mest-plan-storage --mest-group-filters --mest-configure-kernels --mest-generate-backward --mest-fuse-sgd --mest-form-kernels --mest-plan-memory -o /dev/null 2>&1 | FileCheck %s --check-prefix=F32

// A residual block (padded convs with statistics epilogues), a max pool, a
// stride-2 conv on a 4x4 input (2x2 outputs: a direct
// forward, which accumulates in its output), global average pooling, linear.
func.func @m(%x: tensor<2x3x8x8xf32>) -> tensor<2x10xf32> attributes {mest.model} {
  %0 = mest.conv2d @c0(%x) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x8x8x8xf32>
  %1 = mest.batch_norm @b0(%0) : tensor<2x8x8x8xf32>
  %2 = mest.relu %1 : tensor<2x8x8x8xf32>
  %3 = mest.conv2d @c1(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.7>} : tensor<2x8x8x8xf32> -> tensor<2x8x8x8xf32>
  %4 = mest.batch_norm @b1(%3) : tensor<2x8x8x8xf32>
  %5 = mest.add %4, %2 : tensor<2x8x8x8xf32>
  %6 = mest.relu %5 : tensor<2x8x8x8xf32>
  %7 = mest.max_pool2d %6 {kernel = array<i64: 2, 2>} : tensor<2x8x8x8xf32> -> tensor<2x8x4x4xf32>
  %8 = mest.conv2d @c2(%7) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<2x8x4x4xf32> -> tensor<2x8x2x2xf32>
  %9 = mest.batch_norm @b2(%8) : tensor<2x8x2x2xf32>
  %10 = mest.relu %9 : tensor<2x8x2x2xf32>
  %11 = mest.global_avg_pool2d %10 : tensor<2x8x2x2xf32> -> tensor<2x8xf32>
  %12 = mest.linear @fc(%11) {out_features = 10 : i64} : tensor<2x8xf32> -> tensor<2x10xf32>
  return %12 : tensor<2x10xf32>
}

// 7 saved values of 1024 + 1024 + 1024 + 1024 + 256 + 64 + 16 elements, 2
// bytes less each:
// REMARK: remark: @m_train: 7 saved activations stored as f16 (8864 bytes less before reuse)
// REMARK: remark: @m_train: arena of 16640 bytes
// F32: remark: @m_train: arena of 24832 bytes
// BF16: remark: @m_train: 7 saved activations stored as bf16
// CHECK-LABEL: func.func @m_train(
// Padded conv outputs (read by the batch norm, its backward and the weight
// gradient of the conv they feed), the batch norms' stored outputs, the pools:
// CHECK: mest.forward @c0(%arg0) {{.*}} : tensor<2x3x8x8xf32> -> tensor<2x8x8x8xf16>, stats
// CHECK: mest.batch_norm_train @b0({{.*}}) relu {{.*}} : tensor<2x8x8x8xf16> -> tensor<2x8x8x8xf16>,
// CHECK: mest.forward @c1({{.*}}) {{.*}} : tensor<2x8x8x8xf16> -> tensor<2x8x8x8xf16>, stats
// CHECK: mest.batch_norm_train @b1({{.*}}, residual %{{.*}} : tensor<2x8x8x8xf16>) relu {{.*}} : tensor<2x8x8x8xf16> -> tensor<2x8x8x8xf16>,
// CHECK: mest.max_pool2d_train {{.*}} : tensor<2x8x8x8xf16> -> tensor<2x8x4x4xf16>, tensor<2x8x4x4xi32>
// The direct forward of c2 accumulates in its output, which stays f32:
// CHECK: mest.forward @c2({{.*}}) {{.*}} : tensor<2x8x4x4xf16> -> tensor<2x8x2x2xf32>
// CHECK: mest.batch_norm_train @b2({{.*}}) relu {{.*}} : tensor<2x8x2x2xf32> -> tensor<2x8x2x2xf16>,
// CHECK: mest.global_avg_pool2d {{.*}} : tensor<2x8x2x2xf16> -> tensor<2x8xf16>
// The logits are read by the loss, which takes f32 only:
// CHECK: mest.forward @fc({{.*}}) {{.*}} : tensor<2x8xf16> -> tensor<2x10xf32>
// Gradients stay f32; the backward ops read the compact values:
// CHECK: mest.relu_grad %{{.*}}, %{{.*}} : tensor<2x8x8x8xf16>, tensor<2x8x8x8xf32>
// CHECK: mest.batch_norm_grad @b1({{.*}}) {{.*}} : tensor<2x8x8x8xf16>, tensor<8xf32>, tensor<2x8x8x8xf32>
// The eval and inference steps are untouched:
// CHECK-LABEL: func.func @m_eval(
// CHECK-NOT: f16
// CHECK-LABEL: func.func @m_infer(
// CHECK-NOT: f16
// CHECK: return
