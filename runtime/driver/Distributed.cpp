//===- Distributed.cpp - the data-parallel replicas over MPI --------------===//
#include "runtime/driver/Distributed.h"

#include "runtime/abi/mest_abi.h"
#include "runtime/driver/RankWatchdog.h"
#include "runtime/support/Error.h"

#include <chrono>
#include <cstdio>
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

/// Tells the watchdog (if any) that this rank waits in `what` while it lasts.
class Watched {
public:
  Watched(RankWatchdog *watchdog, const char *what) : watchdog_(watchdog) {
    if (watchdog_) watchdog_->enter(what);
  }
  ~Watched() {
    if (watchdog_) watchdog_->leave();
  }

private:
  RankWatchdog *watchdog_;
};

/// In place, the sum over every rank when `many` (MPI counts are int: large
/// sums go in pieces); nothing alone.
template <typename T>
void sumOver(bool many, T *data, int64_t n, RankWatchdog *watchdog, const char *what) {
#ifdef MEST_HAVE_MPI
  if (!many) return;
  Watched watched(watchdog, what);
  const MPI_Datatype type = std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
  constexpr int64_t kPiece = int64_t(1) << 30;
  for (int64_t at = 0; at < n; at += kPiece) {
    int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, type, MPI_SUM, MPI_COMM_WORLD);
  }
#else
  (void)many, (void)data, (void)n, (void)watchdog, (void)what;
#endif
}
} // namespace

Replicas::~Replicas() = default;

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
  // The watchdog's thread calls MPI while this one waits in a collective.
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &r.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &r.size_);
  r.mpi_ = true;
  r.threadsMayCall_ = provided >= MPI_THREAD_MULTIPLE;
  r.localSize_ = std::max(1, envInt("OMPI_COMM_WORLD_LOCAL_SIZE", 1));
  return r;
#else
  throw Error(fmt::format("launched by mpirun ({} processes), but this training binary was built "
                          "without MPI: install libopenmpi-dev and rebuild mest "
                          "(scripts/install-deps.sh)",
                          launched));
#endif
}

void Replicas::sum(float *data, int64_t n, const char *what) {
  sumOver(mpi_ && size_ > 1, data, n, watchdog_.get(), what);
}
void Replicas::sum(double *data, int64_t n, const char *what) {
  sumOver(mpi_ && size_ > 1, data, n, watchdog_.get(), what);
}

bool Replicas::agree(uint64_t value, const char *what) {
#ifdef MEST_HAVE_MPI
  if (mpi_ && size_ > 1) {
    Watched watched(watchdog_.get(), what);
    uint64_t range[2] = {value, std::numeric_limits<uint64_t>::max() - value};  // min, -max
    MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    return range[0] == value && std::numeric_limits<uint64_t>::max() - range[1] == value;
  }
#endif
  (void)value, (void)what;
  return true;
}

void Replicas::watch(int timeoutSeconds, const std::string &where) {
  if (!mpi_ || size_ == 1 || timeoutSeconds <= 0 || watchdog_) return;
  if (!threadsMayCall_) {
    if (rank_ == 0)
      std::fprintf(stderr, "%s: warning: this MPI library does not support MPI_THREAD_MULTIPLE; "
                           "--rank-timeout is off\n", where.c_str());
    return;
  }
  watchdog_ = std::make_unique<RankWatchdog>(rank_, size_, timeoutSeconds, where);
}

void Replicas::setPlace(std::string place) {
  if (watchdog_) watchdog_->setPlace(std::move(place));
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
    if (size_ > 1) {
      setPlace("at the end of the run");
      Watched watched(watchdog_.get(), "the final barrier");
      MPI_Barrier(MPI_COMM_WORLD);
    }
    watchdog_.reset();
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
  r->sum(sums, count, "a batch-norm sum");
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
