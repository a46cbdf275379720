// Compiled, then the training binary died with SIGFPE (issue 14).
func.func @m(%x: tensor<0x8xf32>) -> tensor<0x8xf32> attributes {mest.model} {
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<0x8xf32> -> tensor<0x8xf32>
  return %0 : tensor<0x8xf32>
}
