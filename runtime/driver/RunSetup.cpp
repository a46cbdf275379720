//===- RunSetup.cpp - what a run checks and loads before its first epoch --===//
#include "runtime/driver/RunSetup.h"

#include "runtime/driver/ExampleRemoval.h"
#include "runtime/driver/Files.h"
#include "runtime/driver/StepRunner.h"
#include "runtime/support/Error.h"

#include <cstdio>

namespace mest::rt {

void prepareReplicas(const mest_model_desc &desc, const Options &o, Replicas &replicas) {
  if (replicas.alone()) return;
  if (desc.data_parallel < 1 || !StepRunner::hasSplitSteps())
    throw Error(fmt::format("model {} was compiled for one process: data-parallel training "
                            "under mpirun needs mestc --data-parallel",
                            desc.name));
  if (o.syncBatchNorm && desc.data_parallel < 2)
    throw Error(fmt::format("model {} was compiled with --split-updates, whose batch norms "
                            "cannot sum their statistics across ranks: compile with mestc "
                            "--data-parallel, or train with --sync-bn off",
                            desc.name));
  syncBatchNormAcross(o.syncBatchNorm ? &replicas : nullptr);
}

RunOutputs runOutputs(const Options &o, int rank) {
  RunOutputs out;
  out.checkpoint = o.out + "/checkpoint.mest";
  out.metrics = o.out + "/metrics.jsonl";
  out.model = o.exportPath.empty() ? o.out + "/model.mest" : o.exportPath;
  out.everyRankExports = out.model.find("{rank}") != std::string::npos;
  if (out.everyRankExports)
    out.model.replace(out.model.find("{rank}"), 6, std::to_string(rank));
  return out;
}

void checkOutputs(const Options &o, const RunOutputs &out) {
  makeDirs(o.out);
  checkWritableDir(o.out, "--out");
  checkWritableFile(out.metrics, "metrics file");
  checkWritableFile(out.model, "--export");
  if (!o.forgettingStats.empty()) checkWritableFile(o.forgettingStats, "--forgetting-stats");
  if (!o.plot.empty()) checkWritableFile(o.plot, "--plot");
  for (const std::string &target : {out.checkpoint, out.model, o.forgettingStats})
    if (!target.empty())  // said even with --quiet: files disappear
      removeStaleTemporaries(target,
                             [](const std::string &s) { std::fprintf(stderr, "%s\n", s.c_str()); });
}

RunData loadRunData(const Options &o, const mest_model_desc &desc, DataSource src, int replicas) {
  if (o.augment >= 0) src.augment = o.augment == 1;
  if (src.kind == "npy") {  // labels and layout are checked against the model
    src.classes = desc.classes;
    src.shape[0] = desc.in_channels, src.shape[1] = desc.in_height, src.shape[2] = desc.in_width;
  }
  RunData d{src, loadTrainSet(src), loadTestSet(src)};
  const Dataset &train = d.train;
  if (train.channels != desc.in_channels || train.height != desc.in_height ||
      train.width != desc.in_width || train.classes != desc.classes)
    throw Error(fmt::format("model {} takes {}x{}x{} images and {} classes, but {} has {}x{}x{} "
                            "and {} classes; generate the model with mest-model --input {}x{}x{} "
                            "--classes {}",
                            desc.name, desc.in_channels, desc.in_height, desc.in_width,
                            desc.classes, src.kind, train.channels, train.height, train.width,
                            train.classes, train.channels, train.height, train.width,
                            train.classes));
  truncate(d.train, o.trainLimit);
  truncate(d.test, o.testLimit);
  if (o.valSplit > 0) d.test = splitValidation(d.train, o.valSplit);
  const int64_t globalBatch = replicas * desc.batch;
  if (train.count < globalBatch)
    throw Error(fmt::format("{} has {} examples, fewer than one {}batch of {}", train.name,
                            train.count, replicas > 1 ? "global " : "", globalBatch));
  if (o.removeEpoch >= 0) removalCount(o, train.count, globalBatch);
  return d;
}

} // namespace mest::rt
