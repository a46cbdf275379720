//===- Distributed.cpp - the data-parallel replicas over MPI --------------===//
#include "runtime/driver/Distributed.h"

#include "runtime/abi/mest_abi.h"
#include "runtime/support/Error.h"

#include <chrono>
#include <cstdlib>
#include <limits>
#include <type_traits>

#ifdef MEST_HAVE_MPI
#include <mpi.h>
#endif

namespace mest::rt {

namespace {
Replicas *joined = nullptr;

int envInt(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

/// In place, the sum over every rank when `many` (MPI counts are int: large
/// sums go in pieces); nothing alone.
template <typename T>
void sumOver(bool many, T *data, int64_t n) {
#ifdef MEST_HAVE_MPI
  if (!many) return;
  const MPI_Datatype type = std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
  constexpr int64_t kPiece = int64_t(1) << 30;
  for (int64_t at = 0; at < n; at += kPiece) {
    int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, type, MPI_SUM, MPI_COMM_WORLD);
  }
#else
  (void)many, (void)data, (void)n;
#endif
}
} // namespace

Replicas &Replicas::current() {
  static Replicas alone;
  return joined ? *joined : alone;
}

Replicas &Replicas::join() {
  if (joined) return *joined;
  static Replicas r;
  joined = &r;
  const int launched = envInt("OMPI_COMM_WORLD_SIZE", 0);
  if (launched <= 0) return r;
#ifdef MEST_HAVE_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &r.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &r.size_);
  r.mpi_ = true;
  r.localSize_ = std::max(1, envInt("OMPI_COMM_WORLD_LOCAL_SIZE", 1));
  return r;
#else
  throw Error(fmt::format("launched by mpirun ({} processes), but this training binary was built "
                          "without MPI: install libopenmpi-dev and rebuild mest "
                          "(scripts/install-deps.sh)",
                          launched));
#endif
}

void Replicas::sum(float *data, int64_t n) { sumOver(mpi_ && size_ > 1, data, n); }
void Replicas::sum(double *data, int64_t n) { sumOver(mpi_ && size_ > 1, data, n); }

bool Replicas::agree(uint64_t value) {
#ifdef MEST_HAVE_MPI
  if (mpi_ && size_ > 1) {
    uint64_t range[2] = {value, std::numeric_limits<uint64_t>::max() - value};  // min, -max
    MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    return range[0] == value && std::numeric_limits<uint64_t>::max() - range[1] == value;
  }
#endif
  (void)value;
  return true;
}

void Replicas::abort(int code) {
#ifdef MEST_HAVE_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

void Replicas::finish() {
#ifdef MEST_HAVE_MPI
  if (mpi_) {
    MPI_Finalize();
    mpi_ = false;
  }
#endif
}

namespace {
BatchNormSyncCount syncCount;

int64_t sumStatistics(double *sums, int64_t count, void *context) {
  auto *r = static_cast<Replicas *>(context);
  const auto start = std::chrono::steady_clock::now();
  r->sum(sums, count);
  syncCount.calls += 1;
  syncCount.seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r->size();
}
} // namespace

BatchNormSyncCount batchNormSyncCount() { return syncCount; }

void syncBatchNormAcross(Replicas *replicas) {
  if (replicas) mest_rt_set_replica_sum(sumStatistics, replicas);
  else mest_rt_set_replica_sum(nullptr, nullptr);
}

} // namespace mest::rt
