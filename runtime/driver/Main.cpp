//===- Main.cpp - entry point of every training binary --------------------===//
#include "runtime/driver/Trainer.h"

#include "runtime/abi/mest_abi.h"
#include "runtime/support/Error.h"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
  const char *name = std::strrchr(argv[0], '/') ? std::strrchr(argv[0], '/') + 1 : argv[0];
  try {
    const mest_model_desc *desc = mest_model_descriptor();
    mest::rt::Options options = mest::rt::parseOptions(argc, argv, desc->name, desc->batch);
    return mest::rt::runTrainingBinary(options);
  } catch (const mest::rt::Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "%s: error: out of memory\n", name);
  }
  return 1;
}
