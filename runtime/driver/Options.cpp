//===- Options.cpp - the training binary's command line -------------------===//
#include "runtime/driver/Options.h"

#include "runtime/driver/Distributed.h"

#include "runtime/support/Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>

namespace mest::rt {

namespace {

struct Flag {
  const char *name, *arg, *help;
  std::function<void(const std::string &)> set;
};

/// An integer in [lo, hi]; anything else (empty, trailing text, overflow) names the option.
int64_t toInt(const std::string &v, const char *name, int64_t lo, int64_t hi) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || v.find_first_of(" \t") != std::string::npos)
    throw Error(fmt::format("--{}: '{}' is not an integer", name, v));
  if (errno == ERANGE || x < lo || x > hi) {
    if (hi == std::numeric_limits<int64_t>::max() || hi == std::numeric_limits<int>::max())
      throw Error(fmt::format("--{}: {} is out of range: at least {}{}", name, v, lo,
                              errno == ERANGE || x > hi ? fmt::format(", at most {}", hi) : ""));
    throw Error(fmt::format("--{}: {} is out of range [{}, {}]", name, v, lo, hi));
  }
  return x;
}

/// A finite number in [lo, hi] (or (lo, hi] when `openLo`).
double toDouble(const std::string &v, const char *name, double lo, double hi, bool openLo = false) {
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) throw Error(fmt::format("--{}: '{}' is not a number", name, v));
  if (!std::isfinite(x)) throw Error(fmt::format("--{}: {} is not a finite number", name, v));
  if (x < lo || x > hi || (openLo && x == lo))
    throw Error(fmt::format("--{}: {} is out of range {}{}, {}", name, v, openLo ? "(" : "[", lo,
                            hi == std::numeric_limits<double>::max() ? "inf)" : fmt::format("{}]", hi)));
  return x;
}

/// "a,b,c": finite numbers in [lo, hi).
std::vector<double> numberList(const std::string &text, const char *name, double lo, double hi) {
  std::vector<double> out;
  size_t at = 0;
  while (true) {
    size_t comma = text.find(',', at);
    std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    char *end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0')
      throw Error(fmt::format("--{}: '{}' is not a comma-separated list of numbers", name, text));
    if (!std::isfinite(v) || v < lo || v >= hi)
      throw Error(fmt::format("--{}: {} is out of range [{}, {})", name, item, lo, hi));
    out.push_back(v);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

/// "e1,e2": whole epochs in [0, epochs).
std::vector<int> epochList(const std::string &text, const char *name, int epochs) {
  std::vector<int> out;
  for (double e : numberList(text, name, 0, epochs)) {
    if (e != std::floor(e)) throw Error(fmt::format("--{}: {} is not a whole epoch", name, e));
    out.push_back(static_cast<int>(e));
  }
  return out;
}

} // namespace

RemoveAmount parseRemoveAmount(const std::string &text) {
  RemoveAmount r;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  bool integral = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (integral) {
    errno = 0;
    long long n = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) throw Error(fmt::format("--remove: {} is out of range", text));
    r.count = n;
    return r;
  }
  if (text.empty() || *end || !std::isfinite(v) || !(v > 0.0 && v < 1.0))
    throw Error(fmt::format("--remove: '{}' is neither a count of examples (a whole number) nor "
                            "a fraction between 0 and 1",
                            text));
  r.isFraction = true, r.fraction = v;
  return r;
}

int64_t RemoveAmount::of(int64_t examples) const {
  return isFraction ? static_cast<int64_t>(std::llround(fraction * double(examples))) : count;
}

Options parseOptions(int argc, char **argv, const char *modelName, int64_t batch, int cores,
                     const std::string &plan) {
  Options o;
  constexpr int64_t kMaxInt = std::numeric_limits<int>::max();
  constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
  constexpr double kInf = std::numeric_limits<double>::max();
  auto path = [](const char *name) {
    return [name](const std::string &v) {
      if (v.empty()) throw Error(fmt::format("--{}: needs a path, got an empty one", name));
    };
  };
  std::vector<Flag> flags = {
      {"data", "KIND[:DIR]", "fashion-mnist[:DIR] (default /usr/share/datasets/fashion-mnist), "
                             "mnist:DIR, cifar10:DIR, cifar100:DIR, npy:DIR (x_train.npy, y_train.npy, x_test.npy, "
                             "y_test.npy)",
       [&](auto v) { o.data = v, o.dataGiven = true; }},
      {"val-split", "N", "hold out the last N training examples and evaluate on them",
       [&](auto v) { o.valSplit = toInt(v, "val-split", 1, kMaxI64); }},
      {"train-limit", "N", "use only the first N training examples",
       [&](auto v) { o.trainLimit = toInt(v, "train-limit", 1, kMaxI64); }},
      {"test-limit", "N", "use only the first N test examples",
       [&](auto v) { o.testLimit = toInt(v, "test-limit", 1, kMaxI64); }},
      {"augment", "on|off", "random crop (pad 4) and flip; default on for CIFAR, off otherwise",
       [&](auto v) {
         if (v != "on" && v != "off") throw Error("--augment: expected on or off, got '" + v + "'");
         o.augment = v == "on";
       }},
      {"epochs", "N", "training epochs (default 10)",
       [&](auto v) { o.epochs = int(toInt(v, "epochs", 1, kMaxEpochs)); }},
      {"batch-size", "N", "must equal the batch compiled into the model",
       [&](auto v) { o.batchSize = toInt(v, "batch-size", 1, kMaxI64); }},
      {"lr", "X", "initial learning rate (default 0.1)",
       [&](auto v) { o.lr = toDouble(v, "lr", 0, kInf, true); }},
      {"momentum", "X", "SGD momentum in [0, 1) (default 0.9)",
       [&](auto v) {
         o.momentum = toDouble(v, "momentum", 0, 1);
         if (o.momentum == 1) throw Error("--momentum: 1 is out of range [0, 1)");
       }},
      {"weight-decay", "X", "weight decay (default 1e-4)",
       [&](auto v) { o.weightDecay = toDouble(v, "weight-decay", 0, kInf); }},
      {"lr-schedule", "cosine|step", "cosine annealing per epoch (default) or steps",
       [&](auto v) {
         if (v != "cosine" && v != "step")
           throw Error(fmt::format("--lr-schedule: expected cosine or step, got '{}'", v));
         o.lrSchedule = v;
       }},
      {"lr-steps", "E1,E2,...", "epochs where the step schedule multiplies by --lr-gamma", [&](auto v) { o.lrSteps = v; }},
      {"lr-gamma", "X", "step schedule factor (default 0.1)",
       [&](auto v) { o.lrGamma = toDouble(v, "lr-gamma", 0, kInf, true); }},
      {"seed", "N", "seed of every random choice (default 914)",
       [&](auto v) { o.seed = uint64_t(toInt(v, "seed", 0, kMaxI64)); }},
      {"mutation", "MODE", "none, mest, em, ems, or auto (default: ems if the compiled capacity "
                           "holds it, else em)",
       [&](auto v) {
         if (v != "none" && v != "mest" && v != "em" && v != "ems" && v != "auto")
           throw Error(fmt::format("--mutation: unknown mode '{}', expected none, mest, em, ems "
                                   "or auto", v));
         o.mutation = v;
       }},
      {"prune-to", "S1,S2,...", "prune_to sparsity per phase (absolute), overrides the mode's",
       [&](auto v) { o.pruneTo = v, o.pruneToList = numberList(v, "prune-to", 0, 1); }},
      {"grow-to", "S1,S2,...", "grow_to sparsity per phase (absolute), overrides the mode's",
       [&](auto v) { o.growTo = v, o.growToList = numberList(v, "grow-to", 0, 1); }},
      {"mutate-every", "N", "epochs between mutation events (default 5 per 160 epochs)",
       [&](auto v) { o.mutateEvery = int(toInt(v, "mutate-every", 1, kMaxEpochs)); }},
      {"decay-epochs", "E1,E2,...", "phase boundaries (default 90,120 per 160 epochs)", [&](auto v) { o.decayEpochs = v; }},
      {"remove-epoch", "E", "data efficiency: at the start of epoch E drop the least-forgotten examples",
       [&](auto v) { o.removeEpoch = int(toInt(v, "remove-epoch", 0, kMaxEpochs)); }},
      {"remove", "N|FRACTION", "how many examples to drop (e.g. 12000 or 0.24)",
       [&](auto v) { o.remove = v, o.removeAmount = parseRemoveAmount(v); }},
      {"forgetting-stats", "FILE", "save the statistics at the removal point; if FILE exists, load it "
                                   "and remove at --remove-epoch without phase 1 counts",
       [&](auto v) { path("forgetting-stats")(v), o.forgettingStats = v; }},
      {"report", "FILE", "print the forgetting histogram of a statistics file and exit",
       [&](auto v) { path("report")(v), o.report = v; }},
      {"plot", "FILE.svg", "with --report (or at the removal point): write an SVG histogram",
       [&](auto v) { path("plot")(v), o.plot = v; }},
      {"sync-bn", "on|off", "under mpirun: batch statistics over the global batch (on, the "
                            "default: the same step as one process with it) or per rank",
       [&](auto v) {
         if (v != "on" && v != "off")
           throw Error(fmt::format("--sync-bn: '{}', expected on or off", v));
         o.syncBatchNorm = v == "on";
       }},
      {"rank-timeout", "SECONDS", "under mpirun: end the job when a rank has waited this long "
                                  "in a collective for another (default 300; 0: wait for ever)",
       [&](auto v) { o.rankTimeout = int(toInt(v, "rank-timeout", 0, kMaxRankTimeout)); }},
      {"threads", "N", "OpenMP threads (default: all cores; under mpirun, the cores divided "
                       "among the ranks of a machine)",
       [&](auto v) { o.threads = int(toInt(v, "threads", 1, kMaxInt)); }},
      {"out", "DIR", "output directory (default runs/latest)", [&](auto v) { path("out")(v), o.out = v; }},
      {"checkpoint-every", "N", "epochs between checkpoints (default 1; 0: only at the end)",
       [&](auto v) { o.checkpointEvery = int(toInt(v, "checkpoint-every", 0, kMaxEpochs)); }},
      {"resume", "", "continue from OUT/checkpoint.mest", [&](auto) { o.resume = true; }},
      {"resume-from", "FILE", "continue from this checkpoint",
       [&](auto v) { path("resume-from")(v), o.resume = true, o.resumeFrom = v; }},
      {"eval-only", "FILE", "evaluate an exported model (or checkpoint) on the test set and exit",
       [&](auto v) { path("eval-only")(v), o.evalOnly = v; }},
      {"predict", "IMAGES.npy", "write the logits of --model for these images (.npy, the "
                                "layouts of --data npy; uint8 normalised as --data's set) to "
                                "--logits and exit",
       [&](auto v) { path("predict")(v), o.predict = v; }},
      {"export-onnx", "FILE", "write --model (or --init) as an ONNX file (inference graph, "
                              "weights, running statistics) and exit",
       [&](auto v) { path("export-onnx")(v), o.exportOnnx = v; }},
      {"sparse-initializers", "", "with --export-onnx: sparse layers as ONNX sparse_initializer "
                                  "(active weights and their indices) instead of dense zeros",
       [&](auto) { o.sparseInitializers = true; }},
      {"init", "DIR", "start from these weights (.npy per tensor, as mest-import --weights "
                      "onnx writes them), each sparse layer pruned once to its target",
       [&](auto v) { path("init")(v), o.init = v; }},
      {"model", "FILE", "the trained model (or checkpoint) --predict runs",
       [&](auto v) { path("model")(v), o.modelFile = v; }},
      {"logits", "FILE", "where --predict writes the logits, float32 [N, classes] .npy "
                         "(default OUT/logits.npy)",
       [&](auto v) { path("logits")(v), o.logits = v; }},
      {"export", "FILE", "where to write the trained sparse model (default OUT/model.mest; "
                         "under mpirun rank 0 writes it, every rank when FILE has {rank})",
       [&](auto v) { path("export")(v), o.exportPath = v; }},
      {"quiet", "", "no progress bar or per-epoch lines", [&](auto) { o.quiet = true; }},
  };
  auto help = [&] {
    std::printf("%s: train the compiled model '%s' (batch %lld) with MEST dynamic sparse "
                "training\n%s\nUSAGE: %s [options]\n\nOPTIONS:\n",
                argv[0], modelName, static_cast<long long>(batch),
                plan.empty() ? "" : ("\n" + plan + "\n").c_str(), argv[0]);
    for (const Flag &f : flags) {
      std::string left = fmt::format("--{}{}{}", f.name, *f.arg ? " " : "", f.arg);
      std::printf("  %-28s %s\n", left.c_str(), f.help);
    }
    std::printf("  %-28s %s\n", "--help", "this text");
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help();
      Replicas::current().finish();  // under mpirun, a clean MPI exit
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) throw Error(fmt::format("unexpected argument '{}' (see --help)", a));
    std::string name = a.substr(2), value;
    bool inlineValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1), name = name.substr(0, eq), inlineValue = true;
    }
    auto it = std::find_if(flags.begin(), flags.end(), [&](const Flag &f) { return name == f.name; });
    if (it == flags.end()) throw Error(fmt::format("unknown option --{} (see --help)", name));
    if (!*it->arg && inlineValue) throw Error(fmt::format("--{} takes no value", name));
    if (*it->arg && !inlineValue) {
      if (i + 1 >= argc) throw Error(fmt::format("--{} needs a value: {}", name, it->arg));
      value = argv[++i];
    }
    it->set(value);
  }
  // Checks that relate options to each other or to the compiled model.
  if (o.batchSize != 0 && o.batchSize != batch)
    throw Error(fmt::format("--batch-size {}: this binary was compiled for batch {}; regenerate "
                            "the model with mest-model --batch {} and rebuild",
                            o.batchSize, batch, o.batchSize));
  // Some oversubscription is allowed (a test's --threads 2 on a 1-CPU machine);
  // thousands of threads on a few CPUs are refused.
  if (cores > 0 && o.threads > 4 * cores)
    throw Error(fmt::format("--threads {}: this machine runs {} threads at once; at most {} "
                            "are accepted, and more than {} only slows training down",
                            o.threads, cores, 4 * cores, cores));
  if (!o.exportOnnx.empty() && o.modelFile.empty() == o.init.empty())
    throw Error("--export-onnx needs one of --model FILE (a trained model or checkpoint) and "
                "--init DIR");
  if (!o.exportOnnx.empty() && !o.predict.empty())
    throw Error("--export-onnx and --predict: one at a time");
  if (o.sparseInitializers && o.exportOnnx.empty())
    throw Error("--sparse-initializers goes with --export-onnx FILE");
  if (!o.predict.empty() && o.modelFile.empty() == o.init.empty())
    throw Error("--predict needs one of --model FILE (a trained model or checkpoint) and "
                "--init DIR (initial weights)");
  if (!o.init.empty() && o.resume)
    throw Error("--init starts a run from given weights and --resume continues one: give one");
  if (!o.init.empty() && !o.evalOnly.empty())
    throw Error("--init and --eval-only: --eval-only evaluates a trained model");
  if (o.predict.empty() && (!o.logits.empty() || (!o.modelFile.empty() && o.exportOnnx.empty())))
    throw Error(fmt::format("--{} goes with --predict IMAGES.npy",
                            o.modelFile.empty() ? "logits" : "model"));
  if (!o.predict.empty() && !o.evalOnly.empty())
    throw Error("--predict and --eval-only: one at a time");
  if (!o.lrSteps.empty()) o.lrStepList = epochList(o.lrSteps, "lr-steps", o.epochs);
  if (!o.decayEpochs.empty()) o.decayEpochList = epochList(o.decayEpochs, "decay-epochs", o.epochs);
  if (o.pruneTo.empty() != o.growTo.empty()) throw Error("--prune-to and --grow-to go together");
  if (o.removeEpoch >= o.epochs)
    throw Error(fmt::format("--remove-epoch {} is not before the last epoch ({} epochs)", o.removeEpoch, o.epochs));
  if (o.report.empty() && (o.removeEpoch >= 0) != !o.remove.empty())
    throw Error("--remove-epoch and --remove go together");
  if (!o.plot.empty() && o.report.empty() && o.removeEpoch < 0)
    throw Error("--plot draws the forgetting histogram: it needs --report or --remove-epoch");
  return o;
}

} // namespace mest::rt
