//===- RunLog.cpp - what a training run reports -----------------------------===//
#include "runtime/driver/RunLog.h"

#include "runtime/driver/Files.h"
#include "runtime/support/Error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/resource.h>

namespace mest::rt {

namespace {

double peakRssMb() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

/// A JSON string literal.
std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += char(c);
  }
  return out + "\"";
}

/// A number for JSON: non-finite values have no JSON spelling and become null.
std::string json(double v, const char *spec = "{:.5f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : "null";
}

double sparsity(Model &model) {
  return 1 - double(model.activeWeights()) / model.totalWeights();
}

} // namespace

void RunLog::start() {
  if (lead_) writeWholeFile(path_, "");
}

void RunLog::keepEpochsBefore(int epoch) {
  if (!lead_) return;
  std::ifstream in(path_);
  std::string line, kept;
  while (in && std::getline(in, line)) {
    auto at = line.find("\"epoch\": ");
    if (at != std::string::npos && std::atoi(line.c_str() + at + 9) < epoch) kept += line + "\n";
  }
  writeWholeFile(path_, kept);
}

void RunLog::epoch(const EpochRecord &r, Model &model) {
  const double trainLoss = r.lossSum / r.trained, trainAccuracy = r.correctSum / r.trained;
  std::string layers;
  for (auto &w : model.weights())
    layers += fmt::format("{}{}: {}", layers.empty() ? "" : ", ", jsonString(w->spec.name),
                          json(w->sparsity(), "{:.4f}"));
  const std::string distributed =
      r.replicas > 1 ? fmt::format(", \"replicas\": {}, \"allreduce_seconds\": {}, "
                                   "\"allreduce_floats_per_step\": {}, \"dense_floats_per_step\": "
                                   "{}, \"bn_sync_calls\": {}, \"bn_sync_seconds\": {}",
                                   r.replicas, json(r.allreduceSeconds, "{:.3f}"),
                                   r.allreduceFloats, r.denseFloats, r.bnSyncCalls,
                                   json(r.bnSyncSeconds, "{:.3f}"))
                     : "";
  if (lead_) appendToFile(path_, fmt::format(
      "{{\"epoch\": {}, \"lr\": {}, \"train_loss\": {}, \"train_accuracy\": {}, "
      "\"test_loss\": {}, \"test_accuracy\": {}, \"examples_used\": {}, "
      "\"examples_processed\": {}, \"active_weights\": {}, \"sparsity\": {}, "
      "\"mutation\": {{\"event\": {}, \"pruned\": {}, \"grown\": {}, \"mutate_ms\": {}, "
      "\"regroup_ms\": {}}}, \"epoch_seconds\": {}, \"train_seconds\": {}, "
      "\"images_per_second\": {}, \"peak_rss_mb\": {}, \"layer_sparsity\": {{{}}}{}}}\n",
      r.epoch, json(r.rate, "{:.6g}"), json(trainLoss), json(trainAccuracy), json(r.eval.loss),
      json(r.eval.accuracy), r.examplesUsed, r.examplesProcessed, model.activeWeights(),
      json(sparsity(model)), r.mutation.happened, r.mutation.pruned, r.mutation.grown,
      json(r.mutation.mutateMs, "{:.2f}"), json(r.mutation.regroupMs, "{:.3f}"),
      json(r.epochSeconds, "{:.2f}"), json(r.trainSeconds, "{:.2f}"),
      json(r.trained / r.trainSeconds, "{:.1f}"), json(peakRssMb(), "{:.1f}"), layers,
      distributed));
  progress_.line(fmt::format("epoch {}/{}: train loss {:.4f} acc {:.2f}% | {} acc {:.2f}% | "
                             "lr {:.4g} | {:.1f} s",
                             r.epoch + 1, r.epochs, trainLoss, 100 * r.correctSum / r.trained,
                             r.validation ? "val" : "test", 100 * r.eval.accuracy, r.rate,
                             r.epochSeconds));
}

void RunLog::summary(const RunSummary &s, Model &model) const {
  std::printf("\nsummary: %s on %s, %d epochs, mutation %s\n", model.desc().name, s.data.c_str(),
              s.epochs, s.mutation.c_str());
  std::printf("  final %s accuracy %.2f%%, best %.2f%% (epoch %d)\n",
              s.validation ? "validation" : "test", 100 * s.finalAccuracy, 100 * s.bestAccuracy,
              s.bestEpoch + 1);
  std::printf("  sparsity %.4f overall (%lld of %lld conv/linear weights stored)\n",
              sparsity(model), static_cast<long long>(model.activeWeights()),
              static_cast<long long>(model.totalWeights()));
  for (auto &w : model.weights())
    if (model.isSparse(*w))
      std::printf("    %-24s %-12s %.4f\n", w->spec.name.c_str(), schemeName(w->spec.scheme),
                  w->sparsity());
  std::printf("  examples processed %lld; time %s this run; peak resident memory %.1f MiB "
              "(the compiled plan: %.1f MiB for %d threads, the rest is the program and data)\n",
              static_cast<long long>(s.examplesProcessed), formatTime(s.seconds).c_str(),
              peakRssMb(), s.plannedBytes / 1048576.0, s.threads);
  std::printf("  model: %s; metrics: %s; checkpoint: %s\n", s.model.c_str(), s.metrics.c_str(),
              s.checkpoint.c_str());
}

} // namespace mest::rt
