//===- ExampleRemoval.cpp - data efficiency as an epoch hook --------------===//
#include "runtime/driver/ExampleRemoval.h"

#include "runtime/driver/Plot.h"
#include "runtime/support/Error.h"

#include <sys/stat.h>

namespace mest::rt {

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

ExampleRemoval::ExampleRemoval(const Options &o, const Dataset &train, int64_t globalBatch,
                               bool lead, Progress &progress)
    : o_(o), train_(train), globalBatch_(globalBatch), lead_(lead), progress_(progress) {
  struct stat statsFile;
  if (!o.forgettingStats.empty() && ::stat(o.forgettingStats.c_str(), &statsFile) == 0) {
    if (o.removeEpoch < 0)
      throw Error(fmt::format("--forgetting-stats {} exists: loading it needs --remove-epoch and "
                              "--remove", o.forgettingStats));
    preloaded_ = Forgetting::load(o.forgettingStats, train.count);
  }
}

void ExampleRemoval::atEpochStart(int epoch, TrainingState &state) {
  if (epoch != o_.removeEpoch || state.run.removed) return;
  const Forgetting *use = preloaded_ ? &*preloaded_ : &state.forgetting;
  if (preloaded_) {
    progress_.line("using forgetting statistics loaded from " + o_.forgettingStats);
  } else if (!o_.forgettingStats.empty()) {
    if (lead_) state.forgetting.save(o_.forgettingStats, train_.name);
    progress_.line("saved forgetting statistics to " + o_.forgettingStats);
  }
  const int64_t examples = train_.count, n = removalCount(o_, examples, globalBatch_);
  std::vector<int64_t> order = use->removalOrder();
  std::vector<uint8_t> drop(examples, 0);
  for (int64_t i = 0; i < n; ++i) drop[order[i]] = 1;
  state.kept.clear();
  for (int64_t i = 0; i < examples; ++i)
    if (!drop[i]) state.kept.push_back(i);
  state.run.removed = 1;
  progress_.line(fmt::format("epoch {}: removed {} of {} training examples ({} unforgettable); "
                             "{} remain",
                             epoch + 1, n, examples, use->unforgettable(), state.kept.size()));
  printHistogram(*use, [&](const std::string &s) { progress_.line(s); }, lead_ ? o_.plot : "");
}

} // namespace mest::rt
