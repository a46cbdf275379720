//===- Main.cpp - entry point of every training binary --------------------===//
#include "runtime/driver/Distributed.h"
#include "runtime/driver/Trainer.h"

#include "runtime/abi/mest_abi.h"
#include "runtime/support/Error.h"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {
/// CPUs this process may run on.
int availableCores() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}
} // namespace

int main(int argc, char **argv) {
  const char *name = std::strrchr(argv[0], '/') ? std::strrchr(argv[0], '/') + 1 : argv[0];
  // Every failure ends here with a message and exit code 1, never an abort;
  // under mpirun the message names the rank, and MPI_Abort ends the other
  // ranks rather than leave them waiting in a collective.
  std::string where = name;
  try {
    mest::rt::Replicas &replicas = mest::rt::Replicas::join();
    if (!replicas.alone())
      where = std::string(name) + " (rank " + std::to_string(replicas.rank()) + " of " +
              std::to_string(replicas.size()) + ")";
    const mest_model_desc *desc = mest_model_descriptor();
    const int cores = availableCores(), threads = std::max(1, cores);
    const std::string plan = fmt::format(
        "Memory planned at compile time: {:.2f} MiB (state {:.2f}, arena {:.2f}, scratch "
        "{:.0f} KiB per thread, {} threads); the run's summary gives the measured peak.",
        (desc->state_bytes + desc->arena_bytes + double(threads) * desc->scratch_bytes) / 1048576.0,
        desc->state_bytes / 1048576.0, desc->arena_bytes / 1048576.0, desc->scratch_bytes / 1024.0,
        threads);
    mest::rt::Options options =
        mest::rt::parseOptions(argc, argv, desc->name, desc->batch, cores, plan);
    // A rank that hangs rather than fails: RankWatchdog.h.
    replicas.watch(options.rankTimeout, where);
    int rc = mest::rt::runTrainingBinary(options);
    replicas.finish();
    return rc;
  } catch (const mest::rt::Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", where.c_str(), e.what());
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "%s: error: out of memory\n", where.c_str());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: internal error: %s (please report it)\n", where.c_str(), e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: internal error: unknown exception (please report it)\n",
                 where.c_str());
  }
  mest::rt::Replicas &replicas = mest::rt::Replicas::current();
  if (!replicas.alone()) {
    std::fflush(stderr);
    replicas.abort(1);
  }
  return 1;
}
