//===- OnnxConstants.h - constant tensors of an ONNX graph ----*- C++ -*-===//
//
// Initializers, Constant nodes and the integer shape arithmetic exporters emit
// around them (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, the pads
// of F.pad, ...) are evaluated here at import time, so the importer sees only
// layers on activations and constant operands. Errors are ImportError naming
// the tensor or node.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_TOOLS_MEST_IMPORT_ONNXCONSTANTS_H
#define MEST_TOOLS_MEST_IMPORT_ONNXCONSTANTS_H

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mest::onnx_import {

/// An import error; the message names the node or tensor.
struct ImportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A constant: its ONNX element type, dims and values (doubles hold every
/// float32 and every integer below 2^53 exactly).
struct Constant {
  int32_t type = onnx::TensorProto::FLOAT;
  std::vector<int64_t> dims;
  std::vector<double> values;

  int64_t numel() const;
  bool isInteger() const;
  /// Values as integers; throws naming `what` unless integral.
  std::vector<int64_t> ints(const std::string &what) const;
};

/// Converts an initializer or a Constant's tensor; `what` names it in errors.
Constant fromTensor(const onnx::TensorProto &t, const std::string &what);

/// Node types foldConstant() evaluates when all their inputs are constants.
bool isFoldable(const std::string &opType);

/// Evaluates `node` on constant inputs (null entries: optional inputs left
/// empty); throws ImportError naming the node on anything it cannot evaluate.
Constant foldConstant(const onnx::NodeProto &node, const std::vector<const Constant *> &inputs);

/// An attribute of `node`, or null.
const onnx::AttributeProto *findAttribute(const onnx::NodeProto &node, const std::string &name);
int64_t intAttribute(const onnx::NodeProto &node, const std::string &name, int64_t otherwise);
float floatAttribute(const onnx::NodeProto &node, const std::string &name, float otherwise);
std::vector<int64_t> intsAttribute(const onnx::NodeProto &node, const std::string &name);
std::string stringAttribute(const onnx::NodeProto &node, const std::string &name);
/// "node 'NAME' (OpType)" for messages.
std::string describe(const onnx::NodeProto &node);

} // namespace mest::onnx_import

#endif // MEST_TOOLS_MEST_IMPORT_ONNXCONSTANTS_H
