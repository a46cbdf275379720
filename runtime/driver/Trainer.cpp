//===- Trainer.cpp - MEST dynamic sparse training of a compiled model -----===//
#include "runtime/driver/Trainer.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/driver/Dataset.h"
#include "runtime/driver/Distributed.h"
#include "runtime/driver/Files.h"
#include "runtime/driver/Forgetting.h"
#include "runtime/driver/GradientExchange.h"
#include "runtime/driver/InitialWeights.h"
#include "runtime/driver/OnnxExport.h"
#include "runtime/driver/Model.h"
#include "runtime/driver/Npy.h"
#include "runtime/driver/Plot.h"
#include "runtime/driver/Schedule.h"
#include "runtime/support/Error.h"
#include "runtime/support/Memory.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <numeric>
#include <optional>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

// The split entries exist only in objects compiled with mestc --split-updates
// or --data-parallel: weak, so that other objects link (null, checked first).
#pragma weak mest_model_grad_step
#pragma weak mest_model_update_step

namespace mest::rt {

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double peakRssMb() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

std::string formatTime(double s) {
  int t = static_cast<int>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
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

/// Progress on a terminal (one rewritten line) or plain lines when not a TTY.
class Progress {
public:
  explicit Progress(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}
  void batch(int epoch, int epochs, int64_t b, int64_t batches, double loss, double acc,
             double imgPerSec, double etaSec) {
    if (quiet_) return;
    if (tty_) {
      int filled = static_cast<int>(20.0 * (b + 1) / batches);
      std::fprintf(stderr,
                   "\repoch %d/%d [%-20s] %lld/%lld loss %.4f acc %5.1f%% %6.0f img/s left %s   ",
                   epoch + 1, epochs, std::string(filled, '=').c_str(),
                   static_cast<long long>(b + 1), static_cast<long long>(batches), loss,
                   100 * acc, imgPerSec, formatTime(etaSec).c_str());
    } else if ((b + 1) % std::max<int64_t>(1, batches / 4) == 0 || b + 1 == batches) {
      std::fprintf(stderr, "epoch %d/%d batch %lld/%lld loss %.4f acc %.1f%% %.0f img/s left %s\n",
                   epoch + 1, epochs, static_cast<long long>(b + 1),
                   static_cast<long long>(batches), loss, 100 * acc, imgPerSec,
                   formatTime(etaSec).c_str());
    }
  }
  void endLine() {
    if (!quiet_ && tty_) std::fprintf(stderr, "\n");
  }
  void line(const std::string &s) {
    if (!quiet_) std::fprintf(stderr, "%s\n", s.c_str());
  }

private:
  bool quiet_, tty_;
};

/// What a checkpoint stores besides the state block.
struct RunState {
  int32_t nextEpoch = 0, bestEpoch = -1;
  double bestAccuracy = 0.0;
  int64_t examplesProcessed = 0;
  Rng::State dataRng{}, mutationRng{};
  int32_t removed = 0, reserved = 0;
};

struct EvalResult {
  double accuracy = 0.0, loss = 0.0;
};

/// Accuracy and loss on `data`; data-parallel replicas each take every K-th
/// batch and sum their results (the running statistics are equal on all).
EvalResult evaluate(Model &model, const Dataset &data, const DataSource &src,
                    Replicas &replicas = Replicas::current()) {
  const mest_model_desc &d = model.desc();
  const int64_t B = d.batch;
  std::vector<float> x(B * d.in_channels * d.in_height * d.in_width), loss(B), margin(B);
  std::vector<int32_t> y(B);
  std::vector<uint8_t> correct(B);
  std::vector<int64_t> index(B);
  Rng unused(0);
  EvalResult r;
  const int64_t stride = B * replicas.size();
  for (int64_t at = B * replicas.rank(); at < data.count; at += stride) {
    const int64_t n = std::min(B, data.count - at);
    for (int64_t i = 0; i < B; ++i) index[i] = at + (i < n ? i : 0);  // pad the last batch
    makeBatch(data, src, index.data(), B, false, unused, x.data(), y.data());
    mest_model_eval_step(model.state(), model.arena(), x.data(), y.data(), loss.data(),
                         correct.data(), margin.data());
    for (int64_t i = 0; i < n; ++i) r.accuracy += correct[i], r.loss += loss[i];
  }
  if (!replicas.alone()) {
    double sums[2] = {r.accuracy, r.loss};
    replicas.sum(sums, 2);
    r.accuracy = sums[0], r.loss = sums[1];
  }
  r.accuracy /= double(data.count);
  r.loss /= double(data.count);
  return r;
}

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

std::string configKey(const Options &o, const MutationSchedule &s) {
  return fmt::format("data={} val={} train-limit={} test-limit={} augment={} epochs={} lr={} "
                     "momentum={} wd={} lr-schedule={} steps={} gamma={} seed={} mutation=[{}] "
                     "remove-epoch={} remove={}",
                     o.data, o.valSplit, o.trainLimit, o.testLimit, o.augment, o.epochs, o.lr,
                     o.momentum, o.weightDecay, o.lrSchedule, o.lrSteps, o.lrGamma, o.seed,
                     s.describe(), o.removeEpoch, o.remove);
}

/// How many examples --remove drops from `examples`; refused when that is all of
/// them or leaves less than one batch of `batch` (0: no batch check).
int64_t removalCount(const Options &o, int64_t examples, int64_t batch) {
  int64_t n = o.removeAmount.of(examples);
  if (n >= examples)
    throw Error(fmt::format("--remove {}: would drop all {} training examples", o.remove, examples));
  if (batch > 0 && examples - n < batch)
    throw Error(fmt::format("--remove {}: would leave {} of {} training examples, fewer than one "
                            "batch of {}",
                            o.remove, examples - n, examples, batch));
  return n;
}

/// Logs the forgetting histogram (and plots it) through `print`.
void printHistogram(const Forgetting &f, const std::function<void(const std::string &)> &print,
                    const std::string &plot) {
  int64_t never = 0;
  std::vector<int64_t> h = f.histogram(11, &never);
  std::string line = "forgetting events:";
  std::vector<std::string> labels;
  for (size_t k = 0; k < h.size(); ++k) {
    line += fmt::format(" {}{}:{}", k, k + 1 == h.size() ? "+" : "", h[k]);
    labels.push_back(fmt::format("{}{}", k, k + 1 == h.size() ? "+" : ""));
  }
  line += fmt::format(" never-learned:{}", never);
  print(line);
  if (!plot.empty()) {
    labels.push_back("never");
    h.push_back(never);
    writeBarChartSvg(plot, "Forgetting events per training example", labels, h,
                     "forgetting events", "examples");
    print("wrote " + plot);
  }
}

/// Rewrites the metrics file keeping only epochs before `epoch` (resume).
void truncateMetrics(const std::string &path, int epoch) {
  std::ifstream in(path);
  std::string line, kept;
  while (in && std::getline(in, line)) {
    auto at = line.find("\"epoch\": ");
    if (at != std::string::npos && std::atoi(line.c_str() + at + 9) < epoch) kept += line + "\n";
  }
  writeWholeFile(path, kept);
}

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

/// The state of a trained model from an exported model file or a checkpoint.
void loadTrained(const std::string &path, Model &model) {
  CheckpointFile f;
  try {
    f = readCheckpoint(path, FileKind::Model, model.desc().fingerprint);
  } catch (const Error &e) {
    if (std::string(e.what()).find("expected a model") == std::string::npos) throw;
    f = readCheckpoint(path, FileKind::Checkpoint, model.desc().fingerprint);
  }
  model.loadState(f.get("STAT", model.desc().state_bytes, path), path);
  model.afterMutation(omp_get_max_threads());
}

int evalOnly(const Options &o, Model &model, const Dataset &test, const DataSource &src) {
  loadTrained(o.evalOnly, model);
  EvalResult r = evaluate(model, test, src);
  std::printf("%s: %s accuracy %.2f%% loss %.4f on %lld examples; sparsity %.4f\n",
              o.evalOnly.c_str(), test.name.c_str(), 100 * r.accuracy, r.loss,
              static_cast<long long>(test.count),
              1.0 - double(model.activeWeights()) / model.totalWeights());
  return 0;
}

/// --export-onnx: the trained (or initial) model as an ONNX file.
int exportOnnx(const Options &o) {
  checkWritableFile(o.exportOnnx, "--export-onnx");
  Model model(mest_model_descriptor());
  if (o.init.empty()) loadTrained(o.modelFile, model);
  else loadInitialWeights(model, o.init, 1);
  writeFileAtomically(o.exportOnnx, {onnxModel(model, o.sparseInitializers)});
  std::printf("%s: ONNX model written to %s%s\n", (o.init.empty() ? o.modelFile : o.init).c_str(),
              o.exportOnnx.c_str(), o.sparseInitializers ? " (sparse initializers)" : "");
  return 0;
}

/// --predict: the logits of the trained model for every image of a .npy file,
/// a batch at a time through mest_model_infer (the last batch padded with
/// zeros, its padding not written).
int predict(const Options &o) {
  const mest_model_desc *desc = mest_model_descriptor();
  const int64_t expect[3] = {desc->in_channels, desc->in_height, desc->in_width};
  Dataset images = loadNpyImages(o.predict, expect);
  if (images.channels != desc->in_channels || images.height != desc->in_height ||
      images.width != desc->in_width)
    throw Error(fmt::format("{}: images of {}x{}x{}, but model {} takes {}x{}x{}", o.predict,
                            images.channels, images.height, images.width, desc->name,
                            desc->in_channels, desc->in_height, desc->in_width));
  const std::string out = o.logits.empty() ? o.out + "/logits.npy" : o.logits;
  if (o.logits.empty()) makeDirs(o.out);
  checkWritableFile(out, "--logits");
  Model model(desc);
  if (o.init.empty()) loadTrained(o.modelFile, model);
  else loadInitialWeights(model, o.init, 1);
  // uint8 images are normalised as --data's set is (the one the model was
  // trained on: fashion-mnist by default; npy: to [0, 1]); floats as given.
  DataSource src = parseDataSource(o.data);
  const int64_t B = desc->batch, K = desc->classes, N = images.count;
  const int64_t imageFloats = desc->in_channels * desc->in_height * desc->in_width;
  std::vector<float> x(B * imageFloats), batchLogits(B * K), logits(N * K);
  std::vector<int32_t> y(B);
  std::vector<int64_t> index(B);
  Rng unused(0);
  for (int64_t at = 0; at < N; at += B) {
    const int64_t n = std::min(B, N - at);
    for (int64_t i = 0; i < n; ++i) index[i] = at + i;
    std::fill(x.begin(), x.end(), 0.0f);
    makeBatch(images, src, index.data(), n, false, unused, x.data(), y.data());
    mest_model_infer(model.state(), model.arena(), x.data(), batchLogits.data());
    std::copy(batchLogits.begin(), batchLogits.begin() + n * K, logits.begin() + at * K);
  }
  for (float v : logits)
    if (!std::isfinite(v))
      throw Error(fmt::format("--predict: the model gives non-finite logits for {}", o.predict));
  writeFileAtomically(out, {npyFloat32({N, K}, logits.data())});
  std::printf("%s: logits of %lld images ([%lld, %lld] float32) written to %s\n",
              (o.init.empty() ? o.modelFile : o.init).c_str(), static_cast<long long>(N), static_cast<long long>(N),
              static_cast<long long>(K), out.c_str());
  return 0;
}

int reportOnly(const Options &o) {
  std::string dataset;
  Forgetting f = Forgetting::load(o.report, -1, &dataset);
  const int64_t n = f.size();
  if (!o.plot.empty()) checkWritableFile(o.plot, "--plot");
  auto print = [](const std::string &s) { std::printf("%s\n", s.c_str()); };
  std::printf("%s: %lld examples of %s; unforgettable (learned, never forgotten): %lld\n",
              o.report.c_str(), static_cast<long long>(n), dataset.c_str(),
              static_cast<long long>(f.unforgettable()));
  printHistogram(f, print, o.plot);
  if (!o.remove.empty()) {
    int64_t k = removalCount(o, n, 0);
    std::vector<int64_t> order = f.removalOrder();
    std::printf("--remove %s drops %lld examples; the first: %s\n", o.remove.c_str(),
                static_cast<long long>(k),
                fmt::format("{}", fmt::join(order.begin(), order.begin() + std::min<int64_t>(k, 20), " ")).c_str());
  }
  return 0;
}

} // namespace

int runTrainingBinary(const Options &o) {
  Replicas &replicas = Replicas::current();
  const int K = replicas.size();
  const bool lead = replicas.rank() == 0;  // writes every file and prints
  if (K > 1 && (!o.report.empty() || !o.predict.empty() || !o.exportOnnx.empty() ||
                !o.evalOnly.empty()))
    throw Error("--report, --predict, --export-onnx and --eval-only run in one process: "
                "without mpirun");
  if (!o.report.empty()) return reportOnly(o);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  if (!o.predict.empty()) return predict(o);
  if (!o.exportOnnx.empty()) return exportOnnx(o);
  const mest_model_desc *desc = mest_model_descriptor();
  if (o.threads > 0) omp_set_num_threads(o.threads);
  else if (replicas.localSize() > 1)  // the ranks of a machine share its cores
    omp_set_num_threads(std::max(1, omp_get_num_procs() / replicas.localSize()));
  const int threads = omp_get_max_threads();
  if (K > 1) {
    if (desc->data_parallel < 1 || !mest_model_grad_step || !mest_model_update_step)
      throw Error(fmt::format("model {} was compiled for one process: data-parallel training "
                              "under mpirun needs mestc --data-parallel",
                              desc->name));
    if (o.syncBatchNorm && desc->data_parallel < 2)
      throw Error(fmt::format("model {} was compiled with --split-updates, whose batch norms "
                              "cannot sum their statistics across ranks: compile with mestc "
                              "--data-parallel, or train with --sync-bn off",
                              desc->name));
    syncBatchNormAcross(o.syncBatchNorm ? &replicas : nullptr);
  }
  Progress progress(o.quiet || !lead);
  const std::string ckptPath = o.out + "/checkpoint.mest", metricsPath = o.out + "/metrics.jsonl";
  // --export with "{rank}": every data-parallel rank exports its own model
  // (to compare them); else rank 0 alone.
  std::string exportPath = o.exportPath.empty() ? o.out + "/model.mest" : o.exportPath;
  const bool everyRankExports = exportPath.find("{rank}") != std::string::npos;
  if (everyRankExports)
    exportPath.replace(exportPath.find("{rank}"), 6, std::to_string(replicas.rank()));

  // Every place this run writes is checked before any work, so that nothing
  // fails only at the end of training or at the removal epoch.
  DataSource src = parseDataSource(o.data);
  if (o.evalOnly.empty() && lead) {
    makeDirs(o.out);
    checkWritableDir(o.out, "--out");
    checkWritableFile(metricsPath, "metrics file");
    checkWritableFile(exportPath, "--export");
    if (!o.forgettingStats.empty()) checkWritableFile(o.forgettingStats, "--forgetting-stats");
    if (!o.plot.empty()) checkWritableFile(o.plot, "--plot");
    for (const std::string &target : {ckptPath, exportPath, o.forgettingStats})
      if (!target.empty())  // said even with --quiet: files disappear
        removeStaleTemporaries(target, [](const std::string &s) { std::fprintf(stderr, "%s\n", s.c_str()); });
  }
  if (o.augment >= 0) src.augment = o.augment == 1;
  if (src.kind == "npy") {  // labels and layout are checked against the model
    src.classes = desc->classes;
    src.shape[0] = desc->in_channels, src.shape[1] = desc->in_height, src.shape[2] = desc->in_width;
  }
  Dataset train = loadTrainSet(src), test = loadTestSet(src);
  if (train.channels != desc->in_channels || train.height != desc->in_height ||
      train.width != desc->in_width || train.classes != desc->classes)
    throw Error(fmt::format("model {} takes {}x{}x{} images and {} classes, but {} has {}x{}x{} "
                            "and {} classes; generate the model with mest-model --input {}x{}x{} "
                            "--classes {}",
                            desc->name, desc->in_channels, desc->in_height, desc->in_width,
                            desc->classes, src.kind, train.channels, train.height, train.width,
                            train.classes, train.channels, train.height, train.width,
                            train.classes));
  truncate(train, o.trainLimit);
  truncate(test, o.testLimit);
  if (o.valSplit > 0) test = splitValidation(train, o.valSplit);
  const int64_t B = desc->batch, GB = K * B;  // the global batch of K replicas
  if (train.count < GB)
    throw Error(fmt::format("{} has {} examples, fewer than one {}batch of {}", train.name,
                            train.count, K > 1 ? "global " : "", GB));
  if (o.removeEpoch >= 0) removalCount(o, train.count, GB);

  Model model(desc);
  if (!o.evalOnly.empty()) return evalOnly(o, model, test, src);

  MutationSchedule schedule = buildSchedule(o, model, progress);
  LearningRate lr;
  lr.kind = o.lrSchedule == "step" ? LrSchedule::Step : LrSchedule::Cosine;
  lr.base = o.lr, lr.gamma = o.lrGamma, lr.epochs = o.epochs;
  lr.steps = o.lrStepList;
  // A run of K replicas continues only with K replicas (each global batch,
  // and so every step, depends on K).
  const std::string config =
      configKey(o, schedule) +
      (K > 1 ? fmt::format(" replicas={} sync-bn={}", K, o.syncBatchNorm ? "on" : "off") : "");
  if (K > 1 && !replicas.agree(std::hash<std::string>{}(config)))
    throw Error(fmt::format("the ranks were started with different options; every rank must "
                            "train the same run. This rank's: {}",
                            config));

  RunState run;
  Rng dataRng(o.seed), mutationRng(o.seed ^ 0x6d757461746f6eull);
  Forgetting forgetting(train.count);
  // An existing statistics file is loaded (phase 1 of an earlier run) and never
  // overwritten; otherwise the run's own statistics are saved at the removal.
  std::optional<Forgetting> preloaded;
  struct stat statsFile;
  if (!o.forgettingStats.empty() && ::stat(o.forgettingStats.c_str(), &statsFile) == 0) {
    if (o.removeEpoch < 0)
      throw Error(fmt::format("--forgetting-stats {} exists: loading it needs --remove-epoch and "
                              "--remove", o.forgettingStats));
    preloaded = Forgetting::load(o.forgettingStats, train.count);
  }
  std::vector<int64_t> kept(train.count);
  std::iota(kept.begin(), kept.end(), 0);
  if (o.resume) {
    std::string path = o.resumeFrom.empty() ? ckptPath : o.resumeFrom;
    CheckpointFile f = readCheckpoint(path, FileKind::Checkpoint, desc->fingerprint);
    const auto &cfg = f.sections.count("CONF") ? f.sections.at("CONF") : std::vector<uint8_t>{};
    if (std::string(cfg.begin(), cfg.end()) != config)
      throw Error(fmt::format("{}: made with other options; resume with the same ones.\n  "
                              "checkpoint: {}\n  now:        {}",
                              path, std::string(cfg.begin(), cfg.end()), config));
    model.loadState(f.get("STAT", desc->state_bytes, path), path);
    std::memcpy(&run, f.get("RUN", sizeof run, path).data(), sizeof run);
    const auto &fg = f.get("FGT", train.count * sizeof(ExampleStats), path);
    std::memcpy(forgetting.stats().data(), fg.data(), fg.size());
    if (run.removed == 1) {
      if (!f.has("KEEP"))
        throw Error(fmt::format("{}: section 'KEEP' is missing, but examples were removed", path));
      const auto &k = f.sections.at("KEEP");
      if (k.size() % sizeof(int64_t) != 0)
        throw Error(fmt::format("{}: section 'KEEP' has {} bytes, not a whole number of "
                                "example indices", path, k.size()));
      kept.resize(k.size() / sizeof(int64_t));
      std::memcpy(kept.data(), k.data(), k.size());
    }
    checkResumed(path, run, o, kept, train.count, GB, forgetting);
    dataRng.restore(run.dataRng);
    mutationRng.restore(run.mutationRng);
    model.afterMutation(threads);
    if (lead) truncateMetrics(metricsPath, run.nextEpoch);
    progress.line(fmt::format("resumed from {} at epoch {}", path, run.nextEpoch + 1));
  } else {
    Rng init(o.seed ^ 0x696e6974ull);
    if (o.init.empty()) model.initialize(init, threads);
    else loadInitialWeights(model, o.init, threads);
    if (lead) writeWholeFile(metricsPath, "");
  }
  progress.line(fmt::format(
      "model {}: {} weights in conv/linear layers, {} stored ({:.2f}% sparse); state {:.2f} "
      "MiB, arena {:.2f} MiB, scratch {:.0f} KiB per thread: {:.2f} MiB planned for {} threads",
      desc->name, model.totalWeights(), model.activeWeights(),
      100.0 * (1 - double(model.activeWeights()) / model.totalWeights()),
      desc->state_bytes / 1048576.0, desc->arena_bytes / 1048576.0,
      desc->scratch_bytes / 1024.0,
      (desc->state_bytes + desc->arena_bytes + double(threads) * desc->scratch_bytes) / 1048576.0,
      threads));
  progress.line(fmt::format("data {}: {} train, {} {}; mutation {}", src.kind, train.count,
                            test.count, o.valSplit > 0 ? "validation" : "test", schedule.describe()));
  if (K > 1)
    progress.line(fmt::format("data-parallel: {} ranks x batch {} = global batch {}, {} thread{} "
                              "each; batch norm {}",
                              K, B, GB, threads, threads == 1 ? "" : "s",
                              o.syncBatchNorm ? "over the global batch" : "per rank"));

  int savedEpochs = run.nextEpoch;  // what the checkpoint on disk holds
  // A run whose loss or state stops being finite stops: nothing after the last
  // good checkpoint is saved, and the message says where it happened.
  auto diverged = [&](const std::string &what) {
    throw Error(fmt::format("training diverged: {}; {}. Try a smaller --lr", what,
                            savedEpochs > 0
                                ? fmt::format("{} holds the last good state (after epoch {}): "
                                              "--resume continues from it",
                                              ckptPath, savedEpochs)
                                : std::string("no checkpoint was written")));
  };
  // Replicas that stop agreeing on their state stop every rank.
  auto checkAgreement = [&](const std::string &when) {
    if (!replicas.agree(model.stateChecksum()))
      throw Error(fmt::format("{}, the ranks' model states differ (rank {} checksum {:016x}): "
                              "the replicas diverged",
                              when, replicas.rank(), model.stateChecksum()));
  };
  auto save = [&](int nextEpoch) {
    if (std::string problem = model.checkState(); !problem.empty())
      diverged(fmt::format("after epoch {}, {}", nextEpoch, problem));
    if (K > 1) checkAgreement(fmt::format("after epoch {}", nextEpoch));
    run.nextEpoch = nextEpoch;
    if (!lead) {  // rank 0 writes the checkpoint
      savedEpochs = nextEpoch;
      return;
    }
    run.dataRng = dataRng.save();
    run.mutationRng = mutationRng.save();
    CheckpointFile f;
    f.kind = FileKind::Checkpoint;
    f.fingerprint = desc->fingerprint;
    f.put("STAT", model.state(), desc->state_bytes);
    f.putValue("RUN", run);
    f.put("CONF", config.data(), config.size());
    f.put("FGT", forgetting.stats().data(), forgetting.stats().size() * sizeof(ExampleStats));
    if (run.removed) f.put("KEEP", kept.data(), kept.size() * sizeof(int64_t));
    writeCheckpoint(ckptPath, f);
    savedEpochs = nextEpoch;
  };

  // Every replica makes the whole global batch (the same random draws as one
  // process with batch GB) and trains on its slice.
  const int64_t imageFloats = desc->in_channels * desc->in_height * desc->in_width;
  std::vector<float> x(GB * imageFloats), loss(GB), margin(GB);
  std::vector<int32_t> y(GB);
  std::vector<uint8_t> correct(GB);
  std::optional<GradientExchange> exchange;
  if (K > 1) exchange.emplace(model, 3 * GB);
  double exchangeSeconds = 0;
  // One step on the global batch in x, y: alone the fused train step; as a
  // replica the grad step on its slice, one all-reduce of the gradients and
  // of everyone's per-example results, then the update.
  auto step = [&](float rate) {
    const float mom = static_cast<float>(o.momentum), wd = static_cast<float>(o.weightDecay);
    if (K == 1) {
      mest_model_train_step(model.state(), model.arena(), x.data(), y.data(), rate, mom, wd,
                            loss.data(), correct.data(), margin.data());
      return;
    }
    const int64_t me = replicas.rank() * B;
    mest_model_grad_step(model.state(), model.arena(), x.data() + me * imageFloats,
                         y.data() + me, loss.data() + me, correct.data() + me,
                         margin.data() + me);
    exchange->clearRecords();
    float *rec = exchange->records();
    for (int64_t i = me; i < me + B; ++i)
      rec[3 * i] = loss[i], rec[3 * i + 1] = correct[i], rec[3 * i + 2] = margin[i];
    const auto t = Clock::now();
    exchange->exchange(replicas);  // x + 0 is exact: every slot is its owner's value
    exchangeSeconds += seconds(t);
    for (int64_t i = 0; i < GB; ++i)
      loss[i] = rec[3 * i], correct[i] = rec[3 * i + 1] != 0.0f, margin[i] = rec[3 * i + 2];
    mest_model_update_step(model.state(), rate, mom, wd);
  };
  const auto runStart = Clock::now();
  EvalResult last;
  for (int epoch = run.nextEpoch; epoch < o.epochs; ++epoch) {
    const auto epochStart = Clock::now();
    // 1. Mutation event, before any batch of the epoch.
    int64_t pruned = 0, grown = 0;
    double regroupMs = 0, mutateMs = 0;
    if (schedule.isEvent(epoch)) {
      auto t = Clock::now();
      for (auto &w : model.weights()) {
        if (!model.isSparse(*w)) continue;
        pruned += prune(*w, schedule.pruneSparsity(epoch, w->spec.target), model.scratch()).pruned *
                  w->unitSize;
        grown += grow(*w, schedule.growSparsity(epoch, w->spec.target), mutationRng,
                      model.scratch()).grown * w->unitSize;
      }
      mutateMs = seconds(t) * 1000;
      regroupMs = model.afterMutation(threads);
      if (K > 1 && !replicas.agree(model.maskChecksum()))
        throw Error(fmt::format("epoch {}: after the mutation the ranks' masks differ (rank {} "
                                "checksum {:016x}); every rank must prune and grow the same "
                                "weights",
                                epoch + 1, replicas.rank(), model.maskChecksum()));
      progress.line(fmt::format("epoch {}: mutation (phase {}) pruned {} and grew {} weights in "
                                "{:.1f} ms, regrouped in {:.2f} ms; sparsity {:.4f}",
                                epoch + 1, schedule.phase(epoch), pruned, grown, mutateMs,
                                regroupMs, 1 - double(model.activeWeights()) / model.totalWeights()));
    }
    // 2. Data efficiency: drop the least-forgotten examples, once.
    if (epoch == o.removeEpoch && !run.removed) {
      Forgetting *use = preloaded ? &*preloaded : &forgetting;
      if (preloaded) {
        progress.line("using forgetting statistics loaded from " + o.forgettingStats);
      } else if (!o.forgettingStats.empty()) {
        if (lead) forgetting.save(o.forgettingStats, train.name);
        progress.line("saved forgetting statistics to " + o.forgettingStats);
      }
      int64_t n = removalCount(o, train.count, GB);
      std::vector<int64_t> order = use->removalOrder();
      std::vector<uint8_t> drop(train.count, 0);
      for (int64_t i = 0; i < n; ++i) drop[order[i]] = 1;
      kept.clear();
      for (int64_t i = 0; i < train.count; ++i)
        if (!drop[i]) kept.push_back(i);
      run.removed = 1;
      progress.line(fmt::format("epoch {}: removed {} of {} training examples ({} unforgettable); "
                                "{} remain",
                                epoch + 1, n, train.count, use->unforgettable(), kept.size()));
      printHistogram(*use, [&](const std::string &s) { progress.line(s); }, lead ? o.plot : "");
    }
    // 3. Train over the shuffled (kept) examples; the last partial batch is dropped.
    std::vector<int64_t> order = kept;
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
      std::swap(order[i], order[dataRng.below(uint64_t(i) + 1)]);
    const int64_t batches = static_cast<int64_t>(order.size()) / GB;
    const float rate = static_cast<float>(lr.at(epoch));
    double lossSum = 0, correctSum = 0;
    exchangeSeconds = 0;
    const BatchNormSyncCount bnSyncBefore = batchNormSyncCount();
    const auto trainStart = Clock::now();
    for (int64_t b = 0; b < batches; ++b) {
      makeBatch(train, src, &order[b * GB], GB, src.augment, dataRng, x.data(), y.data());
      step(rate);
      double batchLoss = 0;
      for (int64_t i = 0; i < GB; ++i) batchLoss += loss[i];
      if (!std::isfinite(batchLoss))
        diverged(fmt::format("the loss of batch {}/{} in epoch {} is {} (learning rate {:.4g})",
                             b + 1, batches, epoch + 1, std::isnan(batchLoss) ? "NaN" : "infinite",
                             rate));
      for (int64_t i = 0; i < GB; ++i) {
        forgetting.record(order[b * GB + i], correct[i] != 0, loss[i], margin[i]);
        correctSum += correct[i];
      }
      lossSum += batchLoss;
      double elapsed = seconds(trainStart), perBatch = elapsed / (b + 1);
      progress.batch(epoch, o.epochs, b, batches, lossSum / ((b + 1) * GB),
                     correctSum / ((b + 1) * GB), (b + 1) * GB / elapsed,
                     perBatch * (batches - b - 1) + perBatch * batches * (o.epochs - epoch - 1));
    }
    progress.endLine();
    const double trainSeconds = seconds(trainStart);
    run.examplesProcessed += batches * GB;
    // Per-rank batch norm: the replicas' running statistics averaged, so that
    // every rank evaluates and saves the same model.
    if (K > 1 && !o.syncBatchNorm) averageRunningStatistics(model, replicas);
    // 4. Evaluate and log.
    last = evaluate(model, test, src);
    if (!std::isfinite(last.loss))
      diverged(fmt::format("the {} loss after epoch {} is {}", o.valSplit > 0 ? "validation" : "test",
                           epoch + 1, std::isnan(last.loss) ? "NaN" : "infinite"));
    if (last.accuracy > run.bestAccuracy || run.bestEpoch < 0)
      run.bestAccuracy = last.accuracy, run.bestEpoch = epoch;
    std::string layers;
    for (auto &w : model.weights())
      layers += fmt::format("{}{}: {}", layers.empty() ? "" : ", ", jsonString(w->spec.name),
                            json(w->sparsity(), "{:.4f}"));
    const BatchNormSyncCount bnSync = batchNormSyncCount();
    const std::string distributed =
        K > 1 ? fmt::format(", \"replicas\": {}, \"allreduce_seconds\": {}, "
                            "\"allreduce_floats_per_step\": {}, \"dense_floats_per_step\": {}, "
                            "\"bn_sync_calls\": {}, \"bn_sync_seconds\": {}",
                            K, json(exchangeSeconds, "{:.3f}"), exchange->gradientFloats(),
                            exchange->denseFloats(), bnSync.calls - bnSyncBefore.calls,
                            json(bnSync.seconds - bnSyncBefore.seconds, "{:.3f}"))
              : "";
    if (lead) appendToFile(metricsPath, fmt::format(
        "{{\"epoch\": {}, \"lr\": {}, \"train_loss\": {}, \"train_accuracy\": {}, "
        "\"test_loss\": {}, \"test_accuracy\": {}, \"examples_used\": {}, "
        "\"examples_processed\": {}, \"active_weights\": {}, \"sparsity\": {}, "
        "\"mutation\": {{\"event\": {}, \"pruned\": {}, \"grown\": {}, \"mutate_ms\": {}, "
        "\"regroup_ms\": {}}}, \"epoch_seconds\": {}, \"train_seconds\": {}, "
        "\"images_per_second\": {}, \"peak_rss_mb\": {}, \"layer_sparsity\": {{{}}}{}}}\n",
        epoch, json(rate, "{:.6g}"), json(lossSum / (batches * GB)),
        json(correctSum / (batches * GB)),
        json(last.loss), json(last.accuracy), kept.size(), run.examplesProcessed,
        model.activeWeights(), json(1 - double(model.activeWeights()) / model.totalWeights()),
        schedule.isEvent(epoch), pruned, grown, json(mutateMs, "{:.2f}"),
        json(regroupMs, "{:.3f}"), json(seconds(epochStart), "{:.2f}"), json(trainSeconds, "{:.2f}"),
        json(batches * GB / trainSeconds, "{:.1f}"), json(peakRssMb(), "{:.1f}"), layers,
        distributed));
    progress.line(fmt::format("epoch {}/{}: train loss {:.4f} acc {:.2f}% | {} acc {:.2f}% | "
                              "lr {:.4g} | {:.1f} s",
                              epoch + 1, o.epochs, lossSum / (batches * GB),
                              100 * correctSum / (batches * GB), o.valSplit > 0 ? "val" : "test",
                              100 * last.accuracy, rate, seconds(epochStart)));
    if ((o.checkpointEvery > 0 && (epoch + 1) % o.checkpointEvery == 0) || epoch + 1 == o.epochs)
      save(epoch + 1);
  }
  // 5. Export the trained sparse model and summarise.
  if (std::string problem = model.checkState(); !problem.empty())
    diverged(fmt::format("at the end, {}", problem));
  CheckpointFile exported;
  exported.kind = FileKind::Model;
  exported.fingerprint = desc->fingerprint;
  exported.put("STAT", model.state(), desc->state_bytes);
  if (lead || everyRankExports) writeCheckpoint(exportPath, exported);
  if (!lead) return 0;  // rank 0 summarises
  std::printf("\nsummary: %s on %s, %d epochs, mutation %s\n", desc->name, src.kind.c_str(),
              o.epochs, mutationModeName(schedule.mode));
  std::printf("  final %s accuracy %.2f%%, best %.2f%% (epoch %d)\n",
              o.valSplit > 0 ? "validation" : "test", 100 * last.accuracy,
              100 * run.bestAccuracy, run.bestEpoch + 1);
  std::printf("  sparsity %.4f overall (%lld of %lld conv/linear weights stored)\n",
              1 - double(model.activeWeights()) / model.totalWeights(),
              static_cast<long long>(model.activeWeights()),
              static_cast<long long>(model.totalWeights()));
  for (auto &w : model.weights())
    if (model.isSparse(*w))
      std::printf("    %-24s %-12s %.4f\n", w->spec.name.c_str(), schemeName(w->spec.scheme),
                  w->sparsity());
  std::printf("  examples processed %lld; time %s this run; peak resident memory %.1f MiB\n",
              static_cast<long long>(run.examplesProcessed), formatTime(seconds(runStart)).c_str(),
              peakRssMb());
  std::printf("  model: %s; metrics: %s; checkpoint: %s\n", exportPath.c_str(),
              metricsPath.c_str(), ckptPath.c_str());
  return 0;
}

} // namespace mest::rt
