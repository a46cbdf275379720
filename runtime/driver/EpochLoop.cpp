//===- EpochLoop.cpp - a training run, epoch by epoch ----------------------===//
#include "runtime/driver/EpochLoop.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/driver/Checkpointer.h"
#include "runtime/driver/Distributed.h"
#include "runtime/driver/Evaluation.h"
#include "runtime/driver/ExampleRemoval.h"
#include "runtime/driver/GradientExchange.h"
#include "runtime/driver/InitialWeights.h"
#include "runtime/driver/MutationEvents.h"
#include "runtime/driver/Progress.h"
#include "runtime/driver/RunLog.h"
#include "runtime/driver/RunSetup.h"
#include "runtime/driver/StepRunner.h"
#include "runtime/support/Error.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

namespace mest::rt {

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/// The epochs of a run whose state is set up (fresh or resumed).
class EpochLoop {
public:
  EpochLoop(const Options &o, const RunData &data, TrainingState &state, Replicas &replicas,
            MutationEvents &mutation, ExampleRemoval &removal, StepRunner &runner,
            Checkpointer &checkpointer, RunLog &log, Progress &progress)
      : o_(o), data_(data), state_(state), replicas_(replicas), mutation_(mutation),
        removal_(removal), runner_(runner), checkpointer_(checkpointer), log_(log),
        progress_(progress) {}

  /// Runs the epochs from state.run.nextEpoch to the last; returns the last
  /// evaluation (zeros when none is left).
  EvalResult run(const LearningRate &lr);

private:
  /// Where the run is, for the rank watchdog's message (formatted only when watched).
  template <typename... Args> void place(fmt::format_string<Args...> format, Args &&...args) {
    if (replicas_.watched()) replicas_.setPlace(fmt::format(format, std::forward<Args>(args)...));
  }
  /// Trains over the shuffled kept examples at `rate` (the last partial
  /// global batch is dropped) and records each example's result.
  void trainBatches(int epoch, float rate, EpochRecord &r);

  const Options &o_;
  const RunData &data_;
  TrainingState &state_;
  Replicas &replicas_;
  MutationEvents &mutation_;
  ExampleRemoval &removal_;
  StepRunner &runner_;
  Checkpointer &checkpointer_;
  RunLog &log_;
  Progress &progress_;
};

EvalResult EpochLoop::run(const LearningRate &lr) {
  RunState &run = state_.run;
  EvalResult last;
  for (int epoch = run.nextEpoch; epoch < o_.epochs; ++epoch) {
    const auto epochStart = Clock::now();
    EpochRecord r;
    r.epoch = epoch, r.epochs = o_.epochs, r.validation = o_.valSplit > 0;
    // The epoch hooks, before any batch of the epoch.
    place("at the start of epoch {}", epoch + 1);
    r.mutation = mutation_.atEpochStart(epoch, state_);
    removal_.atEpochStart(epoch, state_);
    r.rate = static_cast<float>(lr.at(epoch));
    runner_.resetExchangeSeconds();
    const BatchNormSyncCount bnSyncBefore = batchNormSyncCount();
    trainBatches(epoch, r.rate, r);
    place("after epoch {}", epoch + 1);
    run.examplesProcessed += r.trained;
    // Per-rank batch norm: the replicas' running statistics averaged, so that
    // every rank evaluates and saves the same model.
    if (!replicas_.alone() && !o_.syncBatchNorm)
      averageRunningStatistics(state_.model, replicas_);
    last = r.eval = evaluate(state_.model, data_.test, data_.src);
    if (!std::isfinite(last.loss))
      checkpointer_.diverged(fmt::format("the {} loss after epoch {} is {}",
                                         r.validation ? "validation" : "test", epoch + 1,
                                         std::isnan(last.loss) ? "NaN" : "infinite"));
    if (last.accuracy > run.bestAccuracy || run.bestEpoch < 0)
      run.bestAccuracy = last.accuracy, run.bestEpoch = epoch;
    r.examplesUsed = static_cast<int64_t>(state_.kept.size());
    r.examplesProcessed = run.examplesProcessed;
    if (const GradientExchange *exchange = runner_.exchange()) {
      const BatchNormSyncCount bnSync = batchNormSyncCount();
      r.replicas = replicas_.size();
      r.allreduceSeconds = runner_.exchangeSeconds();
      r.allreduceFloats = exchange->gradientFloats();
      r.denseFloats = exchange->denseFloats();
      r.bnSyncCalls = bnSync.calls - bnSyncBefore.calls;
      r.bnSyncSeconds = bnSync.seconds - bnSyncBefore.seconds;
    }
    r.epochSeconds = seconds(epochStart);
    log_.epoch(r, state_.model);
    if ((o_.checkpointEvery > 0 && (epoch + 1) % o_.checkpointEvery == 0) ||
        epoch + 1 == o_.epochs)
      checkpointer_.save(epoch + 1, state_);
  }
  return last;
}

void EpochLoop::trainBatches(int epoch, float rate, EpochRecord &r) {
  std::vector<int64_t> order = state_.kept;
  for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
    std::swap(order[i], order[state_.dataRng.below(uint64_t(i) + 1)]);
  const int64_t GB = runner_.globalBatch();
  const int64_t batches = static_cast<int64_t>(order.size()) / GB;
  const std::vector<float> &loss = runner_.loss(), &margin = runner_.margin();
  const std::vector<uint8_t> &correct = runner_.correct();
  const int64_t stepsBefore = state_.run.examplesProcessed / GB;
  const auto start = Clock::now();
  for (int64_t b = 0; b < batches; ++b) {
    place("of step {} (epoch {})", stepsBefore + b + 1, epoch + 1);
    makeBatch(data_.train, data_.src, &order[b * GB], GB, data_.src.augment, state_.dataRng,
              runner_.images(), runner_.labels());
    runner_.step(rate);
    double batchLoss = 0;
    for (int64_t i = 0; i < GB; ++i) batchLoss += loss[i];
    if (!std::isfinite(batchLoss))
      checkpointer_.diverged(fmt::format(
          "the loss of batch {}/{} in epoch {} is {} (learning rate {:.4g})", b + 1, batches,
          epoch + 1, std::isnan(batchLoss) ? "NaN" : "infinite", rate));
    for (int64_t i = 0; i < GB; ++i) {
      state_.forgetting.record(order[b * GB + i], correct[i] != 0, loss[i], margin[i]);
      r.correctSum += correct[i];
    }
    r.lossSum += batchLoss;
    double elapsed = seconds(start), perBatch = elapsed / (b + 1);
    progress_.batch(epoch, o_.epochs, b, batches, r.lossSum / ((b + 1) * GB),
                    r.correctSum / ((b + 1) * GB), (b + 1) * GB / elapsed,
                    perBatch * (batches - b - 1) + perBatch * batches * (o_.epochs - epoch - 1));
  }
  progress_.endLine();
  r.trainSeconds = seconds(start);
  r.trained = batches * GB;
}

} // namespace

int train(const Options &o, int threads) {
  Replicas &replicas = Replicas::current();
  const int K = replicas.size();
  const bool lead = replicas.rank() == 0;  // writes every file and prints
  const mest_model_desc *desc = mest_model_descriptor();
  prepareReplicas(*desc, o, replicas);
  Progress progress(o.quiet || !lead);
  const RunOutputs out = runOutputs(o, replicas.rank());
  DataSource src = parseDataSource(o.data);
  if (lead) checkOutputs(o, out);
  const RunData data = loadRunData(o, *desc, src, K);
  const int64_t B = desc->batch, GB = K * B;  // the global batch of K replicas

  Model model(desc);
  MutationSchedule schedule = buildSchedule(o, model, progress);
  LearningRate lr;
  lr.kind = o.lrSchedule == "step" ? LrSchedule::Step : LrSchedule::Cosine;
  lr.base = o.lr, lr.gamma = o.lrGamma, lr.epochs = o.epochs;
  lr.steps = o.lrStepList;
  const std::string config = runConfig(o, schedule, K);
  replicas.setPlace("before training");
  if (K > 1 && !replicas.agree(std::hash<std::string>{}(config), "the options check"))
    throw Error(fmt::format("the ranks were started with different options; every rank must "
                            "train the same run. This rank's: {}",
                            config));

  TrainingState state(model, o.seed, data.train.count);
  ExampleRemoval removal(o, data.train, GB, lead, progress);
  Checkpointer checkpointer(out.checkpoint, config, replicas, lead);
  RunLog log(out.metrics, lead, progress);
  if (o.resume) {
    const std::string from = o.resumeFrom.empty() ? out.checkpoint : o.resumeFrom;
    checkpointer.resume(from, state, o, GB, threads);
    log.keepEpochsBefore(state.run.nextEpoch);
    progress.line(fmt::format("resumed from {} at epoch {}", from, state.run.nextEpoch + 1));
  } else {
    Rng init(o.seed ^ 0x696e6974ull);
    if (o.init.empty()) model.initialize(init, threads);
    else loadInitialWeights(model, o.init, threads);
    log.start();
  }
  model.seedDropout(o.seed, replicas.rank(), /*fresh=*/!o.resume);
  progress.line(fmt::format(
      "model {}: {} weights in conv/linear layers, {} stored ({:.2f}% sparse); state {:.2f} "
      "MiB, arena {:.2f} MiB, scratch {:.0f} KiB per thread: {:.2f} MiB planned for {} threads",
      desc->name, model.totalWeights(), model.activeWeights(),
      100.0 * (1 - double(model.activeWeights()) / model.totalWeights()),
      desc->state_bytes / 1048576.0, desc->arena_bytes / 1048576.0,
      desc->scratch_bytes / 1024.0,
      (desc->state_bytes + desc->arena_bytes + double(threads) * desc->scratch_bytes) / 1048576.0,
      threads));
  progress.line(fmt::format("data {}: {} train, {} {}; mutation {}", src.kind, data.train.count,
                            data.test.count, o.valSplit > 0 ? "validation" : "test",
                            schedule.describe()));
  if (K > 1)
    progress.line(fmt::format("data-parallel: {} ranks x batch {} = global batch {}, {} thread{} "
                              "each; batch norm {}",
                              K, B, GB, threads, threads == 1 ? "" : "s",
                              o.syncBatchNorm ? "over the global batch" : "per rank"));

  MutationEvents mutation(schedule, replicas, threads, progress);
  StepRunner runner(model, replicas, o.momentum, o.weightDecay);
  EpochLoop loop(o, data, state, replicas, mutation, removal, runner, checkpointer, log, progress);
  const auto runStart = Clock::now();
  const EvalResult last = loop.run(lr);

  // The trained sparse model, checked once more.
  if (std::string problem = model.checkState(); !problem.empty())
    checkpointer.diverged(fmt::format("at the end, {}", problem));
  CheckpointFile exported;
  exported.kind = FileKind::Model;
  exported.fingerprint = desc->fingerprint;
  exported.put("STAT", model.state(), desc->state_bytes);
  exported.put("DATA", src.kind.data(), src.kind.size());  // how --predict normalises
  if (lead || out.everyRankExports) writeCheckpoint(out.model, exported);
  if (!lead) return 0;  // rank 0 summarises
  RunSummary s;
  s.data = src.kind, s.mutation = mutationModeName(schedule.mode), s.epochs = o.epochs;
  s.validation = o.valSplit > 0;
  s.finalAccuracy = last.accuracy;
  s.bestAccuracy = state.run.bestAccuracy, s.bestEpoch = state.run.bestEpoch;
  s.examplesProcessed = state.run.examplesProcessed;
  s.seconds = seconds(runStart);
  s.model = out.model, s.metrics = out.metrics, s.checkpoint = out.checkpoint;
  s.plannedBytes = desc->state_bytes + desc->arena_bytes + double(threads) * desc->scratch_bytes;
  s.threads = threads;
  log.summary(s, model);
  return 0;
}

} // namespace mest::rt
