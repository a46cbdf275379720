//===- OnnxImporter.h - an ONNX inference graph as a mest model -*- C++ -*-===//
//
// Translates the graph of an ONNX model (as torch.onnx.export writes it, in
// eval mode with batch norm folded into the convolutions or with
// TrainingMode.PRESERVE keeping it) into a mest model function, and collects
// its initial weights. Layers are named after their PyTorch module (the weight
// initializer "layer1.0.conv1.weight" names layer1.0.conv1) or, when the
// exporter renamed the weight, after the node ("/layer1/0/conv1/Conv").
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TOOLS_MEST_IMPORT_ONNXIMPORTER_H
#define MEST_TOOLS_MEST_IMPORT_ONNXIMPORTER_H

#include "tools/support/SparsityPolicy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace mest::onnx_import {

struct ImportOptions {
  int64_t batch = 64;
  std::string name = "model";  // symbol of the model function
};

/// One initial tensor of a layer: `file` is LAYER.weight, LAYER.bias,
/// LAYER.scale, LAYER.shift, LAYER.mean or LAYER.var (runtime --init).
struct InitialTensor {
  std::string file;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<InitialTensor> tensors;
  std::vector<std::string> notes;  // e.g. a layer the scheme does not apply to
};

/// Imports `model`; layers of the default sparse set (every convolution but the
/// graph's first, every linear layer but its last) take `policies.sparse` where
/// the scheme applies to their shape, the rest stay dense; overrides apply as
/// given. Throws ImportError naming the node; the returned module verifies.
ImportResult importModel(const onnx::ModelProto &model, mlir::MLIRContext &ctx,
                         const ImportOptions &options, tools::LayerPolicies &policies);

} // namespace mest::onnx_import

#endif // MEST_TOOLS_MEST_IMPORT_ONNXIMPORTER_H
