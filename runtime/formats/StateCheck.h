//===- StateCheck.h - is a loaded layer state one training can produce? ---===//
//
// A checkpoint's checksum tells accidents apart from intact files; it says
// nothing about contents written by another program or crafted by hand. Before
// a loaded state block is used (resume, evaluation), every layer is checked
// against its format's invariants (CompressedWeights.h): counts within the
// compiled capacity, indices within the layer, units in canonical order, pattern
// counts that add up, finite values. A state that passes can be pruned, grown
// and run by the generated kernels without reading out of bounds.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_STATECHECK_H
#define MEST_RUNTIME_FORMATS_STATECHECK_H

#include "runtime/formats/CompressedWeights.h"

#include <string>

namespace mest::rt {

/// The first violated invariant of a conv/linear layer's state, or "" when
/// none. A dense layer's active count is set (it is always full) rather than
/// checked: files written before the count was kept hold 0 there.
std::string checkLayerState(CompressedWeights &w);

/// The same for a batch-norm layer of `channels` channels at `base`.
std::string checkBatchNormState(const uint8_t *base, int64_t channels);

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_STATECHECK_H
