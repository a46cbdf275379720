//===- RankWatchdog.h - a rank that stops making progress ends the job ----===//
//
// Under mpirun a rank that stops (SIGSTOP, a deadlock, a hung file system)
// leaves every other rank waiting in its next collective for ever: mpirun
// notices ranks that die, not ranks that hang. Each rank runs a watchdog
// thread that knows which collective the rank waits in and since when; when a
// wait exceeds --rank-timeout it prints which ranks it waits for and where,
// and ends the job with MPI_Abort.
//
// Which ranks: a rank that has waited half the timeout in a collective tells
// every other rank so (the collective's sequence number, point to point from
// the watchdog thread; every rank calls the same collectives in the same
// order). At the timeout, the ranks that sent no such word for this
// collective are the ones named: they had not reached it. Healthy runs, whose
// collectives take milliseconds, send nothing. docs/distributed.md.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_RANKWATCHDOG_H
#define MEST_RUNTIME_DRIVER_RANKWATCHDOG_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace mest::rt {

class RankWatchdog {
public:
  /// Starts watching this rank (`rank` of `size`, MPI_COMM_WORLD, initialised
  /// with MPI_THREAD_MULTIPLE). `where` starts the message ("train (rank 0 of 2)").
  RankWatchdog(int rank, int size, int timeoutSeconds, std::string where);
  /// Stops the thread; every rank must have left its last collective.
  ~RankWatchdog();
  RankWatchdog(const RankWatchdog &) = delete;
  RankWatchdog &operator=(const RankWatchdog &) = delete;

  /// Around every collective: `what` names it ("the gradient allreduce").
  void enter(const char *what);
  void leave();
  /// Where the run is, after the collective's name: "of step 12 (epoch 1)".
  void setPlace(std::string place);

private:
  void run();
  [[noreturn]] void endTheJob(uint64_t collective, const uint64_t *waiting, double waited);

  const int rank_, size_, timeout_;
  const std::string where_;
  // The heartbeat, written by the rank's thread and read by the watchdog.
  std::atomic<uint64_t> entered_{0};  // collectives entered so far
  std::atomic<int64_t> since_{0};     // steady-clock ns when the current one was entered; 0: none
  std::atomic<const char *> what_{""};
  std::mutex placeMutex_;
  std::string place_;
  // Stopping.
  std::mutex stopMutex_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_RANKWATCHDOG_H
