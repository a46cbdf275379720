//===- FuzzNpy.cpp - fuzz the .npy reader ----------------------------------===//
//
// The input is an .npy file (plain or gzip). Any failure must be a
// mest::rt::Error; a file that loads must hold what its shape says.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

#include "runtime/driver/Npy.h"
#include "runtime/support/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = mest::fuzz::scratchFile("npy", data, size);
  try {
    mest::rt::NpyArray a = mest::rt::readNpy(path, 1 << 24);
    if (a.data.size() != size_t(a.count()) * size_t(a.itemBytes)) __builtin_trap();
    for (int64_t i = 0; i < a.count() && i < 64; ++i) (void)a.real(i);
  } catch (const mest::rt::Error &) {
  }
  return 0;
}
