// Crashed mest-plan-memory (issue 14): an unused scalar in a model.
func.func @m(%x: tensor<2x8xf32>) -> tensor<2x8xf32> attributes {mest.model} {
  %c = arith.constant 0.1 : f32
  %0 = mest.linear @fc(%x) {out_features = 8 : i64} : tensor<2x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
