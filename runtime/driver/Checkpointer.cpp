//===- Checkpointer.cpp - a training run's checkpoints and --resume -------===//
#include "runtime/driver/Checkpointer.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/driver/ExampleRemoval.h"
#include "runtime/support/Error.h"

#include <cstring>

namespace mest::rt {

namespace {

/// What a checkpoint's run record, kept-example list and statistics must be to
/// continue this run; throws naming the file and the field.
void checkResumed(const std::string &path, const RunState &run, const Options &o,
                  const std::vector<int64_t> &kept, int64_t examples, int64_t batch,
                  const Forgetting &forgetting) {
  auto bad = [&](const std::string &what) {
    throw Error(fmt::format("{}: {}: not a checkpoint of this run; refused", path, what));
  };
  if (run.nextEpoch < 1 || run.nextEpoch > o.epochs)
    bad(fmt::format("next epoch {} is outside the run's epochs 1 to {}", run.nextEpoch, o.epochs));
  if (run.bestEpoch < -1 || run.bestEpoch >= run.nextEpoch)
    bad(fmt::format("best epoch {} is not before the next epoch {}", run.bestEpoch, run.nextEpoch));
  if (!(run.bestAccuracy >= 0.0 && run.bestAccuracy <= 1.0))
    bad(fmt::format("best accuracy {} is not in [0, 1]", run.bestAccuracy));
  if (run.examplesProcessed < 0 || run.examplesProcessed > int64_t(run.nextEpoch) * examples)
    bad(fmt::format("{} examples processed in {} epochs of at most {}", run.examplesProcessed,
                    run.nextEpoch, examples));
  if (run.removed != 0 && run.removed != 1) bad(fmt::format("removal flag {}", run.removed));
  if (run.removed && (o.removeEpoch < 0 || run.nextEpoch <= o.removeEpoch))
    bad(fmt::format("examples were removed before epoch {}, the run removes at epoch {}",
                    run.nextEpoch, o.removeEpoch + 1));
  if (!run.removed && o.removeEpoch >= 0 && run.nextEpoch > o.removeEpoch)
    bad(fmt::format("epoch {} is past the removal epoch {}, but nothing was removed",
                    run.nextEpoch, o.removeEpoch + 1));
  if (run.removed) {
    int64_t expect = examples - removalCount(o, examples, batch);
    if (int64_t(kept.size()) != expect)
      bad(fmt::format("{} kept examples, --remove {} keeps {}", kept.size(), o.remove, expect));
    for (size_t i = 0; i < kept.size(); ++i)
      if (kept[i] < 0 || kept[i] >= examples || (i > 0 && kept[i] <= kept[i - 1]))
        bad(fmt::format("kept example {} is {}: not an ascending index below {}", i, kept[i],
                        examples));
  }
  if (std::string problem = forgetting.check(); !problem.empty()) bad(problem);
}

} // namespace

std::string runConfig(const Options &o, const MutationSchedule &s, int replicas) {
  // A run of K replicas continues only with K replicas (each global batch,
  // and so every step, depends on K).
  return fmt::format("data={} val={} train-limit={} test-limit={} augment={} epochs={} lr={} "
                     "momentum={} wd={} lr-schedule={} steps={} gamma={} seed={} mutation=[{}] "
                     "remove-epoch={} remove={}",
                     o.data, o.valSplit, o.trainLimit, o.testLimit, o.augment, o.epochs, o.lr,
                     o.momentum, o.weightDecay, o.lrSchedule, o.lrSteps, o.lrGamma, o.seed,
                     s.describe(), o.removeEpoch, o.remove) +
         (replicas > 1 ? fmt::format(" replicas={} sync-bn={}", replicas,
                                     o.syncBatchNorm ? "on" : "off")
                       : "");
}

void Checkpointer::resume(const std::string &path, TrainingState &state, const Options &o,
                          int64_t globalBatch, int threads) {
  Model &model = state.model;
  RunState &run = state.run;
  const mest_model_desc &desc = model.desc();
  const int64_t examples = state.forgetting.size();
  CheckpointFile f = readCheckpoint(path, FileKind::Checkpoint, desc.fingerprint);
  const auto &cfg = f.sections.count("CONF") ? f.sections.at("CONF") : std::vector<uint8_t>{};
  if (std::string(cfg.begin(), cfg.end()) != config_)
    throw Error(fmt::format("{}: made with other options; resume with the same ones.\n  "
                            "checkpoint: {}\n  now:        {}",
                            path, std::string(cfg.begin(), cfg.end()), config_));
  model.loadState(f.get("STAT", desc.state_bytes, path), path);
  std::memcpy(&run, f.get("RUN", sizeof run, path).data(), sizeof run);
  const auto &fg = f.get("FGT", examples * sizeof(ExampleStats), path);
  std::memcpy(state.forgetting.stats().data(), fg.data(), fg.size());
  if (run.removed == 1) {
    if (!f.has("KEEP"))
      throw Error(fmt::format("{}: section 'KEEP' is missing, but examples were removed", path));
    const auto &k = f.sections.at("KEEP");
    if (k.size() % sizeof(int64_t) != 0)
      throw Error(fmt::format("{}: section 'KEEP' has {} bytes, not a whole number of "
                              "example indices", path, k.size()));
    state.kept.resize(k.size() / sizeof(int64_t));
    std::memcpy(state.kept.data(), k.data(), k.size());
  }
  checkResumed(path, run, o, state.kept, examples, globalBatch, state.forgetting);
  state.dataRng.restore(run.dataRng);
  state.mutationRng.restore(run.mutationRng);
  model.afterMutation(threads);
  savedEpochs_ = run.nextEpoch;
}

void Checkpointer::save(int nextEpoch, TrainingState &state) {
  Model &model = state.model;
  if (std::string problem = model.checkState(); !problem.empty())
    diverged(fmt::format("after epoch {}, {}", nextEpoch, problem));
  // Replicas that stop agreeing on their state stop every rank.
  if (!replicas_.alone() && !replicas_.agree(model.stateChecksum(), "the state check"))
    throw Error(fmt::format("after epoch {}, the ranks' model states differ (rank {} checksum "
                            "{:016x}): the replicas diverged",
                            nextEpoch, replicas_.rank(), model.stateChecksum()));
  state.run.nextEpoch = nextEpoch;
  if (!lead_) {  // rank 0 writes the checkpoint
    savedEpochs_ = nextEpoch;
    return;
  }
  state.run.dataRng = state.dataRng.save();
  state.run.mutationRng = state.mutationRng.save();
  CheckpointFile f;
  f.kind = FileKind::Checkpoint;
  f.fingerprint = model.desc().fingerprint;
  f.put("STAT", model.state(), model.desc().state_bytes);
  f.putValue("RUN", state.run);
  f.put("CONF", config_.data(), config_.size());
  const std::vector<ExampleStats> &stats = state.forgetting.stats();
  f.put("FGT", stats.data(), stats.size() * sizeof(ExampleStats));
  if (state.run.removed) f.put("KEEP", state.kept.data(), state.kept.size() * sizeof(int64_t));
  writeCheckpoint(path_, f);
  savedEpochs_ = nextEpoch;
}

void Checkpointer::diverged(const std::string &what) const {
  throw Error(fmt::format("training diverged: {}; {}. Try a smaller --lr", what,
                          savedEpochs_ > 0
                              ? fmt::format("{} holds the last good state (after epoch {}): "
                                            "--resume continues from it",
                                            path_, savedEpochs_)
                              : std::string("no checkpoint was written")));
}

} // namespace mest::rt
