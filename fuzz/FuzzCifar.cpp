//===- FuzzCifar.cpp - fuzz the CIFAR-10/100 loader -----------------------===//
//
// Byte 0: even, CIFAR-10 records; odd, CIFAR-100. The rest is the file.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

#include "runtime/driver/Dataset.h"
#include "runtime/support/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  std::string path = mest::fuzz::scratchFile("cifar", data + 1, size - 1);
  try {
    mest::rt::Dataset d = mest::rt::loadCifar({path}, data[0] % 2 == 1, "fuzz");
    for (int32_t l : d.labels)
      if (l < 0 || l >= d.classes) __builtin_trap();
  } catch (const mest::rt::Error &) {
  }
  return 0;
}
