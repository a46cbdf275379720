//===- PaddedKernels.h - conv kernels on zero-bordered copies -------------===//
//
// Internal to codegen/: the emitters ConvKernels.cpp dispatches to when
// a layer's #mest.kernel configuration says padded (see PaddedKernels.cpp and
// docs/pipeline.md).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_PADDEDKERNELS_H
#define MEST_CODEGEN_PADDEDKERNELS_H

#include "codegen/ConvGen.h"

namespace mest::codegen::conv {

/// Each emits its kernel's body after ConvGen::begin, parallel loops included.
void emitPaddedForward(ConvGen &g, Value in, Value out, Value stats);
void emitPaddedBackwardData(ConvGen &g, Value dout, Value din, Value addend);
void emitPaddedBackwardDataOnTaps(ConvGen &g, Value dout, Value din, Value addend);
void emitPaddedBackwardDataStrided(ConvGen &g, Value dout, Value din, Value addend);
void emitPaddedBackwardWeight(ConvGen &g, Value in, Value dout, Value lr, Value mu, Value wd);
void emitPaddedBackwardWeightBlock(ConvGen &g, Value in, Value dout, Value lr, Value mu,
                                   Value wd);

} // namespace mest::codegen::conv

#endif // MEST_CODEGEN_PADDEDKERNELS_H
