// RUN: mest-opt %s --mest-compact-activations=storage=f8 -verify-diagnostics -o /dev/null

// expected-error @below {{mest-compact-activations: storage 'f8' is not f16 or bf16}}
module {
  func.func @m(%x: tensor<2x4xf32>) -> tensor<2x4xf32> attributes {mest.model} {
    %0 = mest.relu %x : tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }
}
