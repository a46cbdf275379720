//===- FuzzOptions.cpp - fuzz the training binary's option parser ---------===//
//
// The input is argv, split at NUL bytes (at most 32 arguments). --help is
// dropped (it prints and exits, by design).
//
//===----------------------------------------------------------------------===//
#include "runtime/driver/Options.h"
#include "runtime/support/Error.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> args = {"fuzz"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 33; ++i) {
    if (data[i] == 0) args.push_back(cur), cur.clear();
    else cur += char(data[i]);
  }
  if (!cur.empty() && args.size() < 33) args.push_back(cur);
  std::vector<char *> argv;
  for (std::string &a : args) {
    if (a == "--help" || a == "-h") continue;
    argv.push_back(a.data());
  }
  try {
    mest::rt::Options o = mest::rt::parseOptions(int(argv.size()), argv.data(), "fuzz", 32, 2);
    // What the parser let through must be in range.
    if (o.epochs < 1 || o.epochs > mest::rt::kMaxEpochs || !(o.lr > 0) || o.threads < 0 ||
        o.threads > 8 || !(o.momentum >= 0 && o.momentum < 1) || o.removeEpoch >= o.epochs)
      __builtin_trap();
    for (int e : o.decayEpochList)
      if (e < 0 || e >= o.epochs) __builtin_trap();
  } catch (const mest::rt::Error &) {
  }
  return 0;
}
