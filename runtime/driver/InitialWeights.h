//===- InitialWeights.h - start training from given weights (--init DIR) --===//
//
// A directory of .npy files, one per tensor, named after the layer:
// LAYER.weight [O, I, KH, KW] (linear [O, I]) and LAYER.bias [O] for conv2d
// and linear layers, LAYER.scale, .shift, .mean, .var [C] for batch norm
// (what mest-import --weights onnx writes). Every file the model needs must be
// there and every .npy file there must belong to the model; shapes, dtype
// (float32 or float64) and values (finite; variances >= 0) are checked, and any
// problem names the file. Sparse layers are pruned once to their target with
// their scheme's own ranking (initializeFromDense).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_INITIALWEIGHTS_H
#define MEST_RUNTIME_DRIVER_INITIALWEIGHTS_H

#include "runtime/driver/Model.h"

#include <string>

namespace mest::rt {

/// Replaces the model's whole state with the tensors of `dir`; throws Error.
void loadInitialWeights(Model &model, const std::string &dir, int threads);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_INITIALWEIGHTS_H
