// RUN: mest-opt %s --mest-plan-memory -split-input-file -verify-diagnostics

// A step with a scalar value: once a crash (a cast to a ranked tensor on every
// result), now a diagnostic on the op.
func.func @m(%x: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {mest.model} {
  %0 = mest.relu %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
func.func @m_eval(%x: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {mest.eval_step = @m} {
  // expected-error @+1 {{'arith.constant' op produces 'f32': the arena plan covers static tensors only}}
  %c = arith.constant 0.1 : f32
  %0 = mest.relu %x : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
