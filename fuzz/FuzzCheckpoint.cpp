//===- FuzzCheckpoint.cpp - fuzz checkpoint files and state validation ----===//
//
// Byte 0 picks the mode:
//  - < 64: the rest is a whole file for readCheckpoint (header, CRC, sections);
//  - < 128: the rest is wrapped into a file with a correct CRC (FuzzUtil.h), so
//    the section table is parsed;
//  - otherwise the state check: one layer per scheme is initialised, the rest
//    of the input patches its state block as (offset, byte) pairs, and a state
//    that checkLayerState accepts must survive prune, grow and decoding, and
//    still pass the check after them (the promise StateCheck.h makes).
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/formats/StateCheck.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Error.h"

#include <memory>

using namespace mest::rt;

namespace {

void fileMode(const uint8_t *data, size_t size, bool wrap) {
  std::vector<uint8_t> bytes = wrap ? mest::fuzz::wrapMestFile(data, size, 0x1234)
                                    : std::vector<uint8_t>(data, data + size);
  std::string path = mest::fuzz::scratchFile("ckpt", bytes.data(), bytes.size());
  for (FileKind k : {FileKind::Checkpoint, FileKind::Model}) {
    try {
      CheckpointFile f = readCheckpoint(path, k, 0x1234);
      for (auto &[tag, b] : f.sections)
        if (tag.size() > 4) __builtin_trap();
    } catch (const Error &) {
    }
  }
}

WeightSpec spec(Scheme s, WeightShape shape, double target, double capacity) {
  WeightSpec w;
  w.name = "fuzz", w.shape = shape, w.scheme = s, w.target = target, w.capacity = capacity;
  return w;
}

void stateMode(const uint8_t *data, size_t size) {
  const WeightSpec specs[] = {
      spec(Scheme::Dense, {4, 3, 3, 3}, 0, 0),
      spec(Scheme::Unstructured, {8, 4, 3, 3}, 0.8, 0.7),
      spec(Scheme::Channel, {8, 10, 3, 3}, 0.7, 0.6),
      spec(Scheme::Block, {8, 4, 3, 3}, 0.8, 0.7),
      spec(Scheme::Pattern, {8, 6, 3, 3}, 0.8, 0.7),
  };
  const WeightSpec &s = specs[data[0] % 5];
  CompressedWeights w(s);
  MutationScratch scratch({&w});
  Rng rng(7);
  initialize(w, 1.0, rng, scratch);
  for (size_t i = 1; i + 2 < size; i += 3) {
    size_t at = (size_t(data[i]) << 8 | data[i + 1]) % size_t(w.stateBytes());
    w.base[at] = data[i + 2];
  }
  if (!checkLayerState(w).empty()) return;
  std::vector<float> dense(s.shape.numel());
  w.densify(w.values, dense.data());
  if (s.scheme == Scheme::Dense) return;
  prune(w, std::min(0.95, s.target + 0.05), scratch);
  if (!checkLayerState(w).empty()) __builtin_trap();
  grow(w, s.capacity, rng, scratch);
  if (!checkLayerState(w).empty()) __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  try {
    if (data[0] < 64) fileMode(data + 1, size - 1, false);
    else if (data[0] < 128) fileMode(data + 1, size - 1, true);
    else stateMode(data, size);
  } catch (const Error &) {
  }
  return 0;
}
