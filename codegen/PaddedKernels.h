//===- PaddedKernels.h - conv kernels on zero-bordered copies -------------===//
//
// Internal to codegen/: the emitters ConvKernels.cpp dispatches to when
// usePaddedKernels holds (see PaddedKernels.cpp and docs/pipeline.md).
//
//===----------------------------------------------------------------------===//
#ifndef MEST_CODEGEN_PADDEDKERNELS_H
#define MEST_CODEGEN_PADDEDKERNELS_H

#include "codegen/ConvGen.h"

namespace mest::codegen::conv {

/// Backward-data on the padded output gradient: at stride 1, and at stride 2
/// on phase planes where those cover every input row and column.
bool usePaddedBackwardData(const ConvKernelSpec &spec);
bool phasesCoverInput(const ConvKernelSpec &spec);

/// Each emits its kernel's body after ConvGen::begin, parallel loops included.
void emitPaddedForward(ConvGen &g, Value in, Value out, Value stats);
void emitPaddedBackwardData(ConvGen &g, Value dout, Value din, Value addend);
void emitPaddedBackwardDataStrided(ConvGen &g, Value dout, Value din, Value addend);
void emitPaddedBackwardWeight(ConvGen &g, Value in, Value dout, Value lr, Value mu, Value wd);
void emitPaddedBackwardWeightBlock(ConvGen &g, Value in, Value dout, Value lr, Value mu,
                                   Value wd);

} // namespace mest::codegen::conv

#endif // MEST_CODEGEN_PADDEDKERNELS_H
