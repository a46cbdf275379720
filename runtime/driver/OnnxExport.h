//===- OnnxExport.h - a trained model as an ONNX file ---------*- C++ -*-===//
//
// Writes the inference graph of the compiled model (mest_model_desc.nodes)
// with the model's current weights and running statistics as an ONNX model
// (IR version 7, opset 13): pruned weights are zeros in dense initializers,
// or, with `sparseInitializers`, the active weights of sparse layers go into
// ONNX sparse_initializer entries (values and linear int64 indices). The
// protobuf encoding is written here (a few dozen fields), so that training
// binaries, on a board too, need no protobuf library; tests read the files
// with libonnx's checker and OpenCV's DNN.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_ONNXEXPORT_H
#define MEST_RUNTIME_DRIVER_ONNXEXPORT_H

#include "runtime/driver/Model.h"

#include <string>

namespace mest::rt {

/// The bytes of the ONNX file of `model`'s inference graph and state.
std::string onnxModel(Model &model, bool sparseInitializers);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_ONNXEXPORT_H
