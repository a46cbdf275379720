// 512 GiB of activations: compiles, with a warning (no machine here has that).
func.func @big(%x: tensor<524288x3x64x64xf32>) -> tensor<524288x64xf32> attributes {mest.model} {
  %0 = mest.conv2d @c(%x) {out_channels = 64 : i64, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : tensor<524288x3x64x64xf32> -> tensor<524288x64x64x64xf32>
  %1 = mest.global_avg_pool2d %0 : tensor<524288x64x64x64xf32> -> tensor<524288x64xf32>
  return %1 : tensor<524288x64xf32>
}
