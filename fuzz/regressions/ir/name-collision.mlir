// Two layer names that map to one C name, a model name with a quote and "*/".
func.func @"q\22uo*/te"(%x: tensor<2x8xf32>) -> tensor<2x4xf32> attributes {mest.model} {
  %0 = mest.linear @a.b(%x) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  %1 = mest.linear @a_b(%0) {out_features = 4 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}
