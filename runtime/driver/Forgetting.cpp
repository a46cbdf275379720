//===- Forgetting.cpp - per-example forgetting statistics -----------------===//
#include "runtime/driver/Forgetting.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstring>
#include <numeric>

namespace mest::rt {

void Forgetting::record(int64_t example, bool correct, float loss, float margin) {
  ExampleStats &s = stats_[example];
  if (s.presentations > 0 && s.lastCorrect && !correct && s.forgets < UINT16_MAX) ++s.forgets;
  if (s.presentations < UINT16_MAX) ++s.presentations;
  s.lastCorrect = correct;
  s.learned |= correct;
  s.loss = loss;
  s.margin = margin;
}

std::vector<int64_t> Forgetting::removalOrder() const {
  std::vector<int64_t> order(stats_.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int64_t i) {
    return stats_[i].learned ? int64_t(stats_[i].forgets) : std::numeric_limits<int64_t>::max();
  };
  // Ties in example order: a stable sort, without std::stable_sort's
  // temporary buffer (deprecated in libstdc++ 12 under clang 19).
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::pair(key(a), a) < std::pair(key(b), b);
  });
  return order;
}

int64_t Forgetting::unforgettable() const {
  return std::count_if(stats_.begin(), stats_.end(),
                       [](const ExampleStats &s) { return s.learned && s.forgets == 0; });
}

std::vector<int64_t> Forgetting::histogram(int bins, int64_t *neverLearned) const {
  std::vector<int64_t> h(bins, 0);
  int64_t never = 0;
  for (const ExampleStats &s : stats_) {
    if (!s.learned) {
      ++never;
      continue;
    }
    ++h[std::min<int>(s.forgets, bins - 1)];
  }
  if (neverLearned) *neverLearned = never;
  return h;
}

std::string Forgetting::check() const {
  for (size_t i = 0; i < stats_.size(); ++i) {
    const ExampleStats &s = stats_[i];
    if (s.lastCorrect > 1 || s.learned > 1 || s.lastCorrect > s.learned ||
        s.forgets > s.presentations || (s.learned && s.presentations == 0) ||
        !std::isfinite(s.loss) || !std::isfinite(s.margin))
      return fmt::format("the statistics of example {} are impossible (presentations {}, "
                         "forgetting events {}, last correct {}, learned {}, loss {})",
                         i, s.presentations, s.forgets, s.lastCorrect, s.learned, s.loss);
  }
  return "";
}

void Forgetting::save(const std::string &path, const std::string &dataset) const {
  // The checkpoint container brings atomic writes, the version and the checksum.
  CheckpointFile f;
  f.kind = FileKind::Statistics;
  int64_t n = size();
  f.putValue("NEXM", n);
  f.put("DSET", dataset.data(), dataset.size());
  f.put("STAT", stats_.data(), stats_.size() * sizeof(ExampleStats));
  writeCheckpoint(path, f);
}

Forgetting Forgetting::load(const std::string &path, int64_t expected, std::string *dataset) {
  CheckpointFile f = readCheckpoint(path, FileKind::Statistics, 0);
  int64_t n;
  std::memcpy(&n, f.get("NEXM", sizeof n, path).data(), sizeof n);
  if (n < 0 || (expected >= 0 && n != expected))
    throw Error(fmt::format("{}: statistics of {} examples, but the training set has {}", path,
                            n, expected));
  const auto &bytes = f.get("STAT", f.has("STAT") ? f.sections.at("STAT").size() : 0, path);
  // Divide rather than multiply: a crafted count times 16 wraps around (found by fuzzing).
  if (bytes.size() % sizeof(ExampleStats) != 0 ||
      bytes.size() / sizeof(ExampleStats) != uint64_t(n))
    throw Error(fmt::format("{}: section 'STAT' has {} bytes, not the records of {} examples",
                            path, bytes.size(), n));
  Forgetting out(n);
  std::memcpy(out.stats_.data(), bytes.data(), bytes.size());
  if (std::string problem = out.check(); !problem.empty())
    throw Error(fmt::format("{}: {}; refused", path, problem));
  if (dataset && f.has("DSET"))
    dataset->assign(f.sections.at("DSET").begin(), f.sections.at("DSET").end());
  return out;
}

} // namespace mest::rt
