//===- Distributed.h - the data-parallel replicas of a training run -------===//
//
// Under `mpirun -np K` every rank is one replica: the same model, the same
// shuffled order, its own slice of each global batch of K x the compiled
// batch. Alone (no mpirun) there is one replica and no MPI call is made, so a
// training binary runs exactly as without this file. docs/distributed.md.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_DISTRIBUTED_H
#define MEST_RUNTIME_DRIVER_DISTRIBUTED_H

#include <cstdint>
#include <memory>
#include <string>

namespace mest::rt {

class RankWatchdog;

class Replicas {
public:
  /// Joins mpirun's job when this process was launched by it (OpenMPI's
  /// OMPI_COMM_WORLD_SIZE), else one replica. Throws Error when launched by
  /// mpirun but built without MPI.
  static Replicas &join();
  /// The replicas joined so far (one until join()).
  static Replicas &current();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool alone() const { return size_ == 1; }
  /// Replicas on this machine (OMPI_COMM_WORLD_LOCAL_SIZE), for the default
  /// thread count.
  int localSize() const { return localSize_; }

  /// In place, the element-wise sum over every replica (MPI_Allreduce).
  /// `what` names the collective in the watchdog's message ("the gradient
  /// allreduce").
  void sum(float *data, int64_t n, const char *what);
  void sum(double *data, int64_t n, const char *what);
  /// Whether every replica passed the same value.
  bool agree(uint64_t value, const char *what);

  /// From now on a collective waited in for longer than `timeoutSeconds` ends
  /// the job, naming the ranks waited for (RankWatchdog.h); `where` starts the
  /// message. 0, or alone: no watchdog.
  void watch(int timeoutSeconds, const std::string &where);
  bool watched() const { return watchdog_ != nullptr; }
  /// Where the run is, for that message: "of step 12 (epoch 1)".
  void setPlace(std::string place);

  /// Ends every replica's process with `code` (MPI_Abort): an error on one
  /// rank must not leave the others waiting in a collective.
  [[noreturn]] void abort(int code);
  /// A watched barrier (a rank that hangs before the end is named, not
  /// waited for in MPI_Finalize), then MPI_Finalize; after the last collective.
  void finish();

  ~Replicas();

private:
  Replicas() = default;
  int rank_ = 0, size_ = 1, localSize_ = 1;
  bool mpi_ = false, threadsMayCall_ = false;  // MPI_THREAD_MULTIPLE: the watchdog may call MPI
  std::unique_ptr<RankWatchdog> watchdog_;
};

/// Makes the batch norms of a grad step compiled with mestc --data-parallel
/// sum their statistics over `replicas` (mest_rt_set_replica_sum); null: alone.
void syncBatchNormAcross(Replicas *replicas);

/// The batch-norm sums made so far: calls and their wall time.
struct BatchNormSyncCount {
  int64_t calls = 0;
  double seconds = 0.0;
};
BatchNormSyncCount batchNormSyncCount();

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_DISTRIBUTED_H
