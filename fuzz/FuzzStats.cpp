//===- FuzzStats.cpp - fuzz the forgetting statistics reader --------------===//
//
// The input is wrapped into a mest file with a correct CRC (FuzzUtil.h); what
// Forgetting::load accepts must give a removal order that is a permutation.
//
//===----------------------------------------------------------------------===//
#include "FuzzUtil.h"

#include "runtime/driver/Forgetting.h"
#include "runtime/support/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file = mest::fuzz::wrapMestFile(data, size, 0);
  std::string path = mest::fuzz::scratchFile("stats", file.data(), file.size());
  try {
    mest::rt::Forgetting f = mest::rt::Forgetting::load(path, -1);
    std::vector<int64_t> order = f.removalOrder();
    std::vector<uint8_t> seen(order.size());
    for (int64_t i : order) {
      if (i < 0 || i >= f.size() || seen[i]) __builtin_trap();
      seen[i] = 1;
    }
    int64_t never = 0;
    f.histogram(11, &never);
  } catch (const mest::rt::Error &) {
  }
  return 0;
}
