// RUN: mest-opt %s --mest-plan-storage --mest-configure-kernels | FileCheck %s
// The target in the IR wins over the isa option; its stack budget (here 4 KiB)
// is too small for the padded copies of this layer, so its kernels are direct.
// CHECK: mest.target = #mest.target<isa = "neon", vector_bits = 128, vector_registers = 32, l1_bytes = 65536, l2_bytes = 524288, stack_bytes = 4096>
// CHECK: mest.conv2d @c({{.*}}#mest.kernel<forward = direct, backward_data = direct, backward_weight = direct, order = weight, vector_width = 4, registers = 24, tile_filters = 1, tile_vectors = 1, data_tile_channels = 1, data_tile_vectors = 1, gradient_registers = 24, scratch_bytes = 0>
module attributes {mest.target = #mest.target<isa = "neon", vector_bits = 128, vector_registers = 32, l1_bytes = 65536, l2_bytes = 524288, stack_bytes = 4096>} {
func.func @m(%x: tensor<2x16x16x16xf32>) -> tensor<2x16xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 16 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<2x16x16x16xf32> -> tensor<2x16x16x16xf32>
  %1 = mest.global_avg_pool2d %0 : tensor<2x16x16x16xf32> -> tensor<2x16xf32>
  return %1 : tensor<2x16xf32>
}
}
