// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx2 | FileCheck %s --check-prefix=AVX2
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx512 | FileCheck %s --check-prefix=AVX512
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=neon | FileCheck %s --check-prefix=NEON
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx2 | FileCheck %s --check-prefix=DAVX2
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx512 | FileCheck %s --check-prefix=DAVX512
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=neon | FileCheck %s --check-prefix=DNEON
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 tile-vectors=3" | FileCheck %s --check-prefix=THREE
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 tile-vectors=100" | FileCheck %s --check-prefix=CLAMP
// RUN: not mest-opt %s --mest-plan-storage "--mest-configure-kernels=tile-vectors=-1" 2>&1 | FileCheck %s --check-prefix=NEG
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx2 | FileCheck %s --check-prefix=WTA
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=avx512 | FileCheck %s --check-prefix=WTB
// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels=isa=neon | FileCheck %s --check-prefix=WTC
// RUN: mest-opt %s --mest-plan-storage "--mest-configure-kernels=isa=avx512 weight-tile-filters=2" | FileCheck %s --check-prefix=WTWO
// RUN: not mest-opt %s --mest-plan-storage "--mest-configure-kernels=weight-tile-filters=-1" 2>&1 | FileCheck %s --check-prefix=WBAD

// The padded forward's register tile, per target (registers: AVX2 12, AVX-512
// and NEON 24; floats per vector 8, 16, 4). A 16x16 output on the padded pitch
// 18 is 288 floats: 36, 18 and 72 vectors.
// A tile of M filters holds M x (vectors + broadcasts) registers, the
// broadcasts being a row of 3 taps for dense and channel. Dense, 16 filters:
// AVX-512 and NEON 4 x (24 / 4 - 3 = 3); AVX2's 4 x (12 / 4 - 3 = 0) keeps no
// 2 vectors, so 2 x (12 / 2 - 3 = 3).
// AVX2: mest.conv2d @d({{.*}}registers = 12, tile_filters = 2, tile_vectors = 3,
// AVX512: mest.conv2d @d({{.*}}registers = 24, tile_filters = 4, tile_vectors = 3,
// NEON: mest.conv2d @d({{.*}}registers = 24, tile_filters = 4, tile_vectors = 3,
// Channel, 6 filters: 2 (6 is no multiple of 4), 12 / 2 - 3 = 3 or 24 / 2 - 3 = 9.
// AVX2: mest.conv2d @c({{.*}}tile_filters = 2, tile_vectors = 3,
// AVX512: mest.conv2d @c({{.*}}tile_filters = 2, tile_vectors = 9,
// NEON: mest.conv2d @c({{.*}}tile_filters = 2, tile_vectors = 9,
// Block 4x1: its 4 rows, one broadcast each: 12 / 4 - 1 = 2, 24 / 4 - 1 = 5.
// AVX2: mest.conv2d @b({{.*}}tile_filters = 4, tile_vectors = 2,
// AVX512: mest.conv2d @b({{.*}}tile_filters = 4, tile_vectors = 5,
// NEON: mest.conv2d @b({{.*}}tile_filters = 4, tile_vectors = 5,
// Pattern: one filter, half the budget.
// AVX2: mest.conv2d @p({{.*}}tile_filters = 1, tile_vectors = 6,
// AVX512: mest.conv2d @p({{.*}}tile_filters = 1, tile_vectors = 12,
// NEON: mest.conv2d @p({{.*}}tile_filters = 1, tile_vectors = 12,
// Unstructured at stride 2: 8 output rows on the phase pitch 9, 72 floats: 9,
// 5 and 18 vectors, so AVX-512's tile is the plane's 5.
// AVX2: mest.conv2d @u({{.*}}tile_filters = 1, tile_vectors = 6,
// AVX512: mest.conv2d @u({{.*}}tile_filters = 1, tile_vectors = 5,
// NEON: mest.conv2d @u({{.*}}tile_filters = 1, tile_vectors = 12,
// Backward-data at stride 1: dense and channel tile their input channels
// (weights on the same output-gradient positions) like the forward its
// filters; the 8 input channels of @d take 4 x 3 (2 x 3 on AVX2), channel 2 active
// slots x 9 (AVX2 3); the others one channel x half the budget, and stride 2's
// phase planes (8 + 1 rows on the pitch 10: 90 floats) at most 6 (AVX-512) vectors.
// DAVX2: mest.conv2d @d({{.*}}data_tile_channels = 2, data_tile_vectors = 3,
// DAVX512: mest.conv2d @d({{.*}}data_tile_channels = 4, data_tile_vectors = 3,
// DNEON: mest.conv2d @d({{.*}}data_tile_channels = 4, data_tile_vectors = 3,
// DAVX2: mest.conv2d @c({{.*}}data_tile_channels = 2, data_tile_vectors = 3,
// DAVX512: mest.conv2d @c({{.*}}data_tile_channels = 2, data_tile_vectors = 9,
// DAVX512: mest.conv2d @b({{.*}}data_tile_channels = 1, data_tile_vectors = 12,
// DAVX512: mest.conv2d @p({{.*}}data_tile_channels = 1, data_tile_vectors = 12,
// DAVX512: mest.conv2d @u({{.*}}data_tile_channels = 1, data_tile_vectors = 6,
// DAVX2: mest.conv2d @u({{.*}}data_tile_channels = 1, data_tile_vectors = 6,
// The linear layer runs direct: no tile.
// AVX512: mest.linear @fc({{.*}}tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1,

// tile-vectors sets the vectors, within the budget and the plane.
// THREE: mest.conv2d @d({{.*}}tile_filters = 4, tile_vectors = 3,
// THREE: mest.conv2d @p({{.*}}tile_filters = 1, tile_vectors = 3,
// CLAMP: mest.conv2d @d({{.*}}tile_filters = 4, tile_vectors = 6,
// CLAMP: mest.conv2d @p({{.*}}tile_filters = 1, tile_vectors = 18,
// CLAMP: mest.conv2d @u({{.*}}tile_filters = 1, tile_vectors = 5,
// NEG: error: tile-vectors must be >= 0, got -1

// The padded backward-weight's tile: filters share the gradient registers
// (AVX2 10, AVX-512 and NEON 24) where one filter's plane, 36, 18 and 72
// vectors, takes more than them. On AVX2 and on NEON dense's 16 filters 4 at a
// time, channel's 6 filters 2; AVX-512's plane fits: one filter (the default,
// not printed). Other schemes: one filter.
// WTA: mest.conv2d @d({{.*}}gradient_registers = 10, weight_tile_filters = 4,
// WTA: mest.conv2d @c({{.*}}gradient_registers = 10, weight_tile_filters = 2,
// WTA: mest.conv2d @b({{.*}}gradient_registers = 10, scratch_bytes
// WTA: mest.conv2d @p({{.*}}gradient_registers = 10, scratch_bytes
// WTB: mest.conv2d @d({{.*}}gradient_registers = 24, scratch_bytes
// WTB: mest.conv2d @c({{.*}}gradient_registers = 24, scratch_bytes
// WTC: mest.conv2d @d({{.*}}gradient_registers = 24, weight_tile_filters = 4,
// WTC: mest.conv2d @c({{.*}}gradient_registers = 24, weight_tile_filters = 2,
// weight-tile-filters sets it where the scheme allows and it divides the filters.
// WTWO: mest.conv2d @d({{.*}}weight_tile_filters = 2,
// WTWO: mest.conv2d @c({{.*}}weight_tile_filters = 2,
// WTWO: mest.conv2d @u({{.*}}gradient_registers = 24, scratch_bytes
// WBAD: error: weight-tile-filters must be >= 0, got -1

func.func @m(%x: tensor<2x8x16x16xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.conv2d @d(%x) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x8x16x16xf32> -> tensor<2x16x16x16xf32>
  %1 = mest.conv2d @c(%0) {out_channels = 6 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<channel, target = 0.5>} : tensor<2x16x16x16xf32> -> tensor<2x6x16x16xf32>
  %2 = mest.conv2d @b(%1) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.5>} : tensor<2x6x16x16xf32> -> tensor<2x8x16x16xf32>
  %3 = mest.conv2d @p(%2) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.8>} : tensor<2x8x16x16xf32> -> tensor<2x8x16x16xf32>
  %4 = mest.conv2d @u(%3) {out_channels = 8 : i64, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<unstructured, target = 0.5>} : tensor<2x8x16x16xf32> -> tensor<2x8x8x8xf32>
  %5 = mest.global_avg_pool2d %4 : tensor<2x8x8x8xf32> -> tensor<2x8xf32>
  %6 = mest.linear @fc(%5) {out_features = 3 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
  return %6 : tensor<2x3xf32>
}
