//===- RankWatchdog.cpp - a rank that stops making progress ends the job --===//
#include "runtime/driver/RankWatchdog.h"

#include "runtime/support/Error.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <vector>

#ifdef MEST_HAVE_MPI
#include <mpi.h>
#endif

namespace mest::rt {

namespace {
using Clock = std::chrono::steady_clock;
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
} // namespace

RankWatchdog::RankWatchdog(int rank, int size, int timeoutSeconds, std::string where)
    : rank_(rank), size_(size), timeout_(timeoutSeconds), where_(std::move(where)),
      thread_([this] { run(); }) {}

RankWatchdog::~RankWatchdog() {
  {
    std::lock_guard<std::mutex> lock(stopMutex_);
    stop_ = true;
  }
  stopped_.notify_one();
  thread_.join();
}

void RankWatchdog::enter(const char *what) {
  what_.store(what);
  entered_.fetch_add(1);
  since_.store(nowNs());
}

void RankWatchdog::leave() { since_.store(0); }

void RankWatchdog::setPlace(std::string place) {
  std::lock_guard<std::mutex> lock(placeMutex_);
  place_ = std::move(place);
}

#ifdef MEST_HAVE_MPI
// The tag of the watchdogs' messages; the driver sends no other point to point.
constexpr int kWaitingTag = 0x6d657374;

void RankWatchdog::run() {
  // Looks often enough that the job ends within about 5% of the timeout.
  const auto tick = std::chrono::milliseconds(std::clamp(timeout_ * 50, 50, 1000));
  const double timeout = timeout_;
  // Per rank: the latest collective it said it had waited half the timeout in.
  std::vector<uint64_t> waiting(size_, 0);
  uint64_t inbox = 0, told = 0;
  MPI_Request receive;
  MPI_Irecv(&inbox, 1, MPI_UINT64_T, MPI_ANY_SOURCE, kWaitingTag, MPI_COMM_WORLD, &receive);
  struct Sent {
    uint64_t collective;
    MPI_Request request;
  };
  std::list<Sent> sent;  // stable addresses: MPI reads each buffer until the send is done
  // Time this process was not running (stopped by SIGSTOP, a suspended VM)
  // does not count as waiting: a rank continued after a stop must not blame
  // the ranks that waited for it.
  const int64_t tickNs = std::chrono::nanoseconds(tick).count();
  int64_t lastTick = nowNs(), suspended = 0;
  uint64_t suspendedIn = 0;  // the collective `suspended` belongs to
  std::unique_lock<std::mutex> lock(stopMutex_);
  while (!stopped_.wait_for(lock, tick, [this] { return stop_; })) {
    const int64_t now = nowNs(), gap = now - lastTick;
    lastTick = now;
    for (int done = 1; done;) {
      MPI_Status status;
      MPI_Test(&receive, &done, &status);
      if (!done) break;
      waiting[status.MPI_SOURCE] = std::max(waiting[status.MPI_SOURCE], inbox);
      MPI_Irecv(&inbox, 1, MPI_UINT64_T, MPI_ANY_SOURCE, kWaitingTag, MPI_COMM_WORLD, &receive);
    }
    sent.remove_if([](Sent &s) {
      int done = 0;
      MPI_Test(&s.request, &done, MPI_STATUS_IGNORE);
      return done != 0;
    });
    // The collective this rank waits in, read consistently (it may just change).
    const uint64_t collective = entered_.load();
    const int64_t since = since_.load();
    if (since == 0 || entered_.load() != collective) continue;
    if (suspendedIn != collective) suspendedIn = collective, suspended = 0;
    if (gap > 2 * tickNs + 1000000000)  // the part of the gap since the collective began
      suspended += std::max<int64_t>(0, std::min(gap, now - since) - tickNs);
    const double waited = double(now - since - suspended) * 1e-9;
    if (waited >= timeout / 2 && told != collective) {
      for (int peer = 0; peer < size_; ++peer) {
        if (peer == rank_) continue;
        Sent &s = sent.emplace_back(Sent{collective, MPI_REQUEST_NULL});
        MPI_Isend(&s.collective, 1, MPI_UINT64_T, peer, kWaitingTag, MPI_COMM_WORLD, &s.request);
      }
      told = collective;
    }
    if (waited >= timeout) endTheJob(collective, waiting.data(), waited);
  }
  MPI_Cancel(&receive);
  MPI_Wait(&receive, MPI_STATUS_IGNORE);
  for (Sent &s : sent) MPI_Request_free(&s.request);  // small: delivered without the peer
}

void RankWatchdog::endTheJob(uint64_t collective, const uint64_t *waiting, double waited) {
  std::vector<int> silent;
  for (int peer = 0; peer < size_; ++peer)
    if (peer != rank_ && waiting[peer] != collective) silent.push_back(peer);
  std::string place;
  {
    std::lock_guard<std::mutex> lock(placeMutex_);
    place = place_;
  }
  const std::string in = fmt::format("in {}{}{}", what_.load(), place.empty() ? "" : " ", place);
  const std::string message =
      silent.empty()
          ? fmt::format("no progress for {:.0f} s {}, though every other rank said it waits in "
                        "it too",
                        waited, in)
          : fmt::format("no progress from rank{} {} for {:.0f} s {}", silent.size() > 1 ? "s" : "",
                        fmt::join(silent, ", "), waited, in);
  std::fprintf(stderr, "%s: error: %s; ending the job (--rank-timeout %d)\n", where_.c_str(),
               message.c_str(), timeout_);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);  // not reached: MPI_Abort ends every rank
}
#else
// Without MPI there is one replica and nothing to watch (Replicas never starts it).
void RankWatchdog::run() { (void)rank_, (void)size_, (void)timeout_; }
void RankWatchdog::endTheJob(uint64_t, const uint64_t *, double) { std::_Exit(1); }
#endif

} // namespace mest::rt
