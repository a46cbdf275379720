//===- Main.cpp - entry point of every training binary --------------------===//
#include "runtime/driver/Trainer.h"

#include "runtime/abi/mest_abi.h"
#include "runtime/support/Error.h"

#include <sched.h>

#include <cstdio>
#include <cstring>
#include <exception>

namespace {
/// CPUs this process may run on.
int availableCores() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}
} // namespace

int main(int argc, char **argv) {
  const char *name = std::strrchr(argv[0], '/') ? std::strrchr(argv[0], '/') + 1 : argv[0];
  // Every failure ends here with a message and exit code 1, never an abort.
  try {
    const mest_model_desc *desc = mest_model_descriptor();
    mest::rt::Options options =
        mest::rt::parseOptions(argc, argv, desc->name, desc->batch, availableCores());
    return mest::rt::runTrainingBinary(options);
  } catch (const mest::rt::Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "%s: error: out of memory\n", name);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: internal error: %s (please report it)\n", name, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: internal error: unknown exception (please report it)\n", name);
  }
  return 1;
}
