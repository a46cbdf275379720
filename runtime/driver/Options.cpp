//===- Options.cpp - the training binary's command line -------------------===//
#include "runtime/driver/Options.h"

#include "runtime/support/Error.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace mest::rt {

namespace {

struct Flag {
  const char *name, *arg, *help;
  std::function<void(const std::string &)> set;
};

int64_t toInt(const std::string &v, const char *name) {
  char *end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end) throw Error(fmt::format("--{}: '{}' is not an integer", name, v));
  return x;
}
double toDouble(const std::string &v, const char *name) {
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) throw Error(fmt::format("--{}: '{}' is not a number", name, v));
  return x;
}

} // namespace

Options parseOptions(int argc, char **argv, const char *modelName, int64_t batch) {
  Options o;
  std::vector<Flag> flags = {
      {"data", "KIND[:DIR]", "fashion-mnist[:DIR] (default /usr/share/datasets/fashion-mnist), "
                             "mnist:DIR, cifar10:DIR, cifar100:DIR",
       [&](auto v) { o.data = v; }},
      {"val-split", "N", "hold out the last N training examples and evaluate on them",
       [&](auto v) { o.valSplit = toInt(v, "val-split"); }},
      {"train-limit", "N", "use only the first N training examples", [&](auto v) { o.trainLimit = toInt(v, "train-limit"); }},
      {"test-limit", "N", "use only the first N test examples", [&](auto v) { o.testLimit = toInt(v, "test-limit"); }},
      {"augment", "on|off", "random crop (pad 4) and flip; default on for CIFAR, off otherwise",
       [&](auto v) {
         if (v != "on" && v != "off") throw Error("--augment: expected on or off, got '" + v + "'");
         o.augment = v == "on";
       }},
      {"epochs", "N", "training epochs (default 10)", [&](auto v) { o.epochs = int(toInt(v, "epochs")); }},
      {"batch-size", "N", "must equal the batch compiled into the model", [&](auto v) { o.batchSize = toInt(v, "batch-size"); }},
      {"lr", "X", "initial learning rate (default 0.1)", [&](auto v) { o.lr = toDouble(v, "lr"); }},
      {"momentum", "X", "SGD momentum (default 0.9)", [&](auto v) { o.momentum = toDouble(v, "momentum"); }},
      {"weight-decay", "X", "weight decay (default 1e-4)", [&](auto v) { o.weightDecay = toDouble(v, "weight-decay"); }},
      {"lr-schedule", "cosine|step", "cosine annealing per epoch (default) or steps", [&](auto v) { o.lrSchedule = v; }},
      {"lr-steps", "E1,E2,...", "epochs where the step schedule multiplies by --lr-gamma", [&](auto v) { o.lrSteps = v; }},
      {"lr-gamma", "X", "step schedule factor (default 0.1)", [&](auto v) { o.lrGamma = toDouble(v, "lr-gamma"); }},
      {"seed", "N", "seed of every random choice (default 914)", [&](auto v) { o.seed = uint64_t(toInt(v, "seed")); }},
      {"mutation", "MODE", "none, mest, em, ems, or auto (default: ems if the compiled capacity "
                           "holds it, else em)",
       [&](auto v) { o.mutation = v; }},
      {"prune-to", "S1,S2,...", "prune_to sparsity per phase (absolute), overrides the mode's", [&](auto v) { o.pruneTo = v; }},
      {"grow-to", "S1,S2,...", "grow_to sparsity per phase (absolute), overrides the mode's", [&](auto v) { o.growTo = v; }},
      {"mutate-every", "N", "epochs between mutation events (default 5 per 160 epochs)", [&](auto v) { o.mutateEvery = int(toInt(v, "mutate-every")); }},
      {"decay-epochs", "E1,E2,...", "phase boundaries (default 90,120 per 160 epochs)", [&](auto v) { o.decayEpochs = v; }},
      {"remove-epoch", "E", "data efficiency: at the start of epoch E drop the least-forgotten examples", [&](auto v) { o.removeEpoch = int(toInt(v, "remove-epoch")); }},
      {"remove", "N|FRACTION", "how many examples to drop (e.g. 12000 or 0.24)", [&](auto v) { o.remove = v; }},
      {"forgetting-stats", "FILE", "save the statistics at the removal point; if FILE exists, load it "
                                   "and remove at --remove-epoch without phase 1 counts",
       [&](auto v) { o.forgettingStats = v; }},
      {"report", "FILE", "print the forgetting histogram of a statistics file and exit", [&](auto v) { o.report = v; }},
      {"plot", "FILE.svg", "with --report (or at the removal point): write an SVG histogram", [&](auto v) { o.plot = v; }},
      {"threads", "N", "OpenMP threads (default: all cores)", [&](auto v) { o.threads = int(toInt(v, "threads")); }},
      {"out", "DIR", "output directory (default runs/latest)", [&](auto v) { o.out = v; }},
      {"checkpoint-every", "N", "epochs between checkpoints (default 1; 0: only at the end)", [&](auto v) { o.checkpointEvery = int(toInt(v, "checkpoint-every")); }},
      {"resume", "", "continue from OUT/checkpoint.mest", [&](auto) { o.resume = true; }},
      {"resume-from", "FILE", "continue from this checkpoint", [&](auto v) { o.resume = true, o.resumeFrom = v; }},
      {"eval-only", "FILE", "evaluate an exported model (or checkpoint) on the test set and exit", [&](auto v) { o.evalOnly = v; }},
      {"export", "FILE", "where to write the trained sparse model (default OUT/model.mest)", [&](auto v) { o.exportPath = v; }},
      {"quiet", "", "no progress bar or per-epoch lines", [&](auto) { o.quiet = true; }},
  };
  auto help = [&] {
    std::printf("%s: train the compiled model '%s' (batch %lld) with MEST dynamic sparse "
                "training\n\nUSAGE: %s [options]\n\nOPTIONS:\n",
                argv[0], modelName, static_cast<long long>(batch), argv[0]);
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
    if (*it->arg && !inlineValue) {
      if (i + 1 >= argc) throw Error(fmt::format("--{} needs a value: {}", name, it->arg));
      value = argv[++i];
    }
    it->set(value);
  }
  if (o.epochs <= 0) throw Error(fmt::format("--epochs must be positive, got {}", o.epochs));
  if (o.batchSize != 0 && o.batchSize != batch)
    throw Error(fmt::format("--batch-size {}: this binary was compiled for batch {}; regenerate "
                            "the model with mest-model --batch {} and rebuild",
                            o.batchSize, batch, o.batchSize));
  if (o.lrSchedule != "cosine" && o.lrSchedule != "step")
    throw Error(fmt::format("--lr-schedule: expected cosine or step, got '{}'", o.lrSchedule));
  if (o.lr <= 0) throw Error("--lr must be positive");
  if (o.threads < 0) throw Error("--threads must be positive");
  if (o.checkpointEvery < 0) throw Error("--checkpoint-every must be >= 0");
  if (o.removeEpoch >= o.epochs)
    throw Error(fmt::format("--remove-epoch {} is not before the last epoch ({} epochs)", o.removeEpoch, o.epochs));
  if (o.report.empty() && (o.removeEpoch >= 0) != !o.remove.empty())
    throw Error("--remove-epoch and --remove go together");
  return o;
}

} // namespace mest::rt
