//===- FuzzIdx.cpp - fuzz the IDX (MNIST, Fashion-MNIST) loader -----------===//
//
// Byte 0 picks the fuzzed file: even, the image file (labels are 4 good ones);
// odd, the label file (images are 4 good 2x2 ones). The rest is the file, plain
// or gzip. Any failure must be a mest::rt::Error; anything else is a bug.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

#include "runtime/driver/Dataset.h"
#include "runtime/support/Error.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2,
                                              1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  static const std::vector<uint8_t> labels = {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 3};
  bool fuzzImages = data[0] % 2 == 0;
  std::string fuzzed = mest::fuzz::scratchFile("idx", data + 1, size - 1);
  std::string fixed = fuzzImages ? mest::fuzz::scratchFile("idx-fixed", labels.data(), labels.size())
                                 : mest::fuzz::scratchFile("idx-fixed", images.data(), images.size());
  try {
    mest::rt::Dataset d = fuzzImages ? mest::rt::loadIdx(fuzzed, fixed, 10, "fuzz")
                                     : mest::rt::loadIdx(fixed, fuzzed, 10, "fuzz");
    if (d.images.size() != size_t(d.count * d.height * d.width) || d.labels.size() != size_t(d.count))
      __builtin_trap();  // a loaded set must be consistent
  } catch (const mest::rt::Error &) {
  }
  return 0;
}
