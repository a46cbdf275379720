//===- MutationEvents.cpp - the mutation schedule as an epoch hook --------===//
#include "runtime/driver/MutationEvents.h"

#include "runtime/support/Error.h"

#include <chrono>

namespace mest::rt {

MutationSchedule buildSchedule(const Options &o, Model &model, Progress &progress) {
  MutationMode mode = o.mutation == "auto" ? MutationMode::Ems : parseMutationMode(o.mutation);
  auto make = [&](MutationMode m) {
    MutationSchedule s = MutationSchedule::defaults(m, o.epochs);
    if (!o.pruneTo.empty()) {
      s.pruneTo = o.pruneToList;
      s.growTo = o.growToList;
      s.relative = false;
      if (m == MutationMode::None) s.mode = MutationMode::Mest;
    }
    if (o.mutateEvery > 0) s.every = o.mutateEvery;
    if (!o.decayEpochs.empty()) s.decayEpochs = o.decayEpochList;
    return s;
  };
  // The schedule must fit every layer's compiled capacity: refuse before training.
  auto check = [&](const MutationSchedule &s) -> std::string {
    for (auto &w : model.weights()) {
      if (!model.isSparse(*w)) continue;
      double target = w->spec.target;
      for (int e = 0; e < o.epochs; ++e) {
        if (!s.isEvent(e)) continue;
        double p = s.pruneSparsity(e, target), g = s.growSparsity(e, target);
        if (!(p >= 0 && p < 1 && g >= 0 && g < 1))
          return fmt::format("layer {}: epoch {} prunes to {} and grows to {}: sparsities must "
                             "be in [0, 1)", w->spec.name, e, p, g);
        if (g > p + 1e-12)
          return fmt::format("layer {}: epoch {} grows to sparsity {} after pruning to {}: "
                             "grow_to must not be sparser than prune_to", w->spec.name, e, g, p);
      }
      double densest = s.densest(o.epochs, target);
      if (domainUnitsAt(*w, densest) > (w->spec.scheme == Scheme::Pattern ? w->capacityPerFilter
                                                                             : w->capacityUnits))
        return fmt::format("mutation schedule '{}' grows layer {} to sparsity {:.4f}, denser "
                           "than its compiled capacity {:.4f}; compile the model with "
                           "--capacity {:.4f} (mest-model) or choose a schedule that stays "
                           "within it (e.g. --mutation em)",
                           mutationModeName(s.mode), w->spec.name, densest, w->spec.capacity,
                           densest);
    }
    return "";
  };
  MutationSchedule s = make(mode);
  std::string problem = check(s);
  if (!problem.empty() && o.mutation == "auto" && o.pruneTo.empty()) {
    s = make(MutationMode::Em);
    std::string second = check(s);
    if (second.empty()) {
      progress.line("mutation: ems needs more capacity than compiled; using em");
      problem.clear();
    }
  }
  if (!problem.empty()) throw Error(problem);
  return s;
}

MutationEvent MutationEvents::atEpochStart(int epoch, TrainingState &state) {
  MutationEvent ev;
  if (!schedule_.isEvent(epoch)) return ev;
  ev.happened = true;
  Model &model = state.model;
  const auto start = std::chrono::steady_clock::now();
  for (auto &w : model.weights()) {
    if (!model.isSparse(*w)) continue;
    ev.pruned += prune(*w, schedule_.pruneSparsity(epoch, w->spec.target), model.scratch()).pruned *
                 w->unitSize;
    ev.grown += grow(*w, schedule_.growSparsity(epoch, w->spec.target), state.mutationRng,
                     model.scratch()).grown * w->unitSize;
  }
  ev.mutateMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ev.regroupMs = model.afterMutation(threads_);
  if (!replicas_.alone() && !replicas_.agree(model.maskChecksum(), "the mask check"))
    throw Error(fmt::format("epoch {}: after the mutation the ranks' masks differ (rank {} "
                            "checksum {:016x}); every rank must prune and grow the same "
                            "weights",
                            epoch + 1, replicas_.rank(), model.maskChecksum()));
  progress_.line(fmt::format("epoch {}: mutation (phase {}) pruned {} and grew {} weights in "
                             "{:.1f} ms, regrouped in {:.2f} ms; sparsity {:.4f}",
                             epoch + 1, schedule_.phase(epoch), ev.pruned, ev.grown, ev.mutateMs,
                             ev.regroupMs,
                             1 - double(model.activeWeights()) / model.totalWeights()));
  return ev;
}

} // namespace mest::rt
