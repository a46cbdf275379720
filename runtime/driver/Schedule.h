//===- Schedule.h - learning-rate and mutation schedules ------------------===//
//
// The MEST mutation schedule of spec section 2: per phase p a prune_to and a
// grow_to sparsity; the phase at epoch e is the number of decay epochs <= e;
// a mutation event opens epoch e when e is a multiple of `every` (or a decay
// epoch), up to the last decay epoch, after which the mask is frozen.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_SCHEDULE_H
#define MEST_RUNTIME_DRIVER_SCHEDULE_H

#include <string>
#include <vector>

namespace mest::rt {

enum class MutationMode { None, Mest, Em, Ems };
MutationMode parseMutationMode(const std::string &text);
const char *mutationModeName(MutationMode m);

struct MutationSchedule {
  MutationMode mode = MutationMode::None;
  /// Per phase; the last value repeats. When `relative`, values are offsets from
  /// each layer's own target (the defaults); otherwise absolute sparsities.
  std::vector<double> pruneTo, growTo;
  bool relative = true;
  std::vector<int> decayEpochs;
  int every = 1;

  /// The spec's defaults for `mode`, with the reference's 160-epoch timing
  /// (decay at 90 and 120, every 5) scaled to `epochs`.
  static MutationSchedule defaults(MutationMode mode, int epochs);

  int phase(int epoch) const;
  bool isEvent(int epoch) const;
  double pruneSparsity(int epoch, double target) const;
  double growSparsity(int epoch, double target) const;
  /// The densest sparsity any event of an `epochs`-long run grows a layer of
  /// this target to (what its capacity must hold).
  double densest(int epochs, double target) const;
  std::string describe() const;
};

enum class LrSchedule { Cosine, Step };

struct LearningRate {
  LrSchedule kind = LrSchedule::Cosine;
  double base = 0.1, min = 4e-8, gamma = 0.1;
  std::vector<int> steps;  // step schedule: multiply by gamma at each
  int epochs = 1;
  /// Cosine annealing over all epochs, stepped per epoch (as the reference).
  double at(int epoch) const;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_SCHEDULE_H
