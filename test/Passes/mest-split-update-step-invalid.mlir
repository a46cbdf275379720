// RUN: mest-opt %s --mest-split-update-step -split-input-file -verify-diagnostics

// An update already fused into its gradient cannot be split off.
func.func @m(%x: tensor<2x4xf32>) -> tensor<2x3xf32> attributes {mest.model} {
  %0 = mest.linear @fc(%x) {out_features = 3 : i64} : tensor<2x4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
func.func @m_train(%x: tensor<2x4xf32>, %l: tensor<2xi32>, %lr: f32, %mu: f32, %wd: f32) attributes {mest.train_step = @m} {
  %dy = mest.linear @fc(%x) {out_features = 3 : i64} : tensor<2x4xf32> -> tensor<2x3xf32>
  // expected-error @+1 {{is a fused update: mest-split-update-step runs instead of mest-fuse-sgd, not after it}}
  mest.grad_weight_sgd @fc(%x, %dy, %lr, %mu, %wd) : tensor<2x4xf32>, tensor<2x3xf32>
  return
}

// -----

// The sync attribute belongs to grad steps.
// expected-error @+1 {{'mest.sync_replicas' is a unit attribute of a grad step}}
func.func @f() attributes {mest.sync_replicas} {
  return
}
