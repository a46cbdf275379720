//===- Forgetting.h - per-example forgetting statistics -------------------===//
//
// Data efficiency (spec section 4, Toneva et al.): every presentation of a
// training example records whether the train-mode forward pass (augmented input,
// before that batch's update) classified it correctly. A forgetting event is a
// correct -> incorrect transition between consecutive presentations; an example
// never classified correctly is "most forgotten". 16 bytes per example.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_FORGETTING_H
#define MEST_RUNTIME_DRIVER_FORGETTING_H

#include <cstdint>
#include <string>
#include <vector>

namespace mest::rt {

struct ExampleStats {
  float loss = 0.0f, margin = 0.0f;  // of the latest presentation
  uint16_t forgets = 0, presentations = 0;
  uint8_t lastCorrect = 0, learned = 0;  // learned: classified correctly at least once
  uint8_t reserved[2] = {0, 0};
};
static_assert(sizeof(ExampleStats) == 16, "the statistics file stores this layout");

class Forgetting {
public:
  explicit Forgetting(int64_t examples = 0) : stats_(examples) {}

  void record(int64_t example, bool correct, float loss, float margin);
  const std::vector<ExampleStats> &stats() const { return stats_; }
  std::vector<ExampleStats> &stats() { return stats_; }
  int64_t size() const { return static_cast<int64_t>(stats_.size()); }

  /// Examples in removal order: forgetting count ascending, never-learned last,
  /// ties by index. The first `n` of them are the ones to drop.
  std::vector<int64_t> removalOrder() const;
  /// Learned and never forgotten.
  int64_t unforgettable() const;
  /// histogram[k] = examples forgotten k times (last bin: k or more); never
  /// learned examples are counted apart.
  std::vector<int64_t> histogram(int bins, int64_t *neverLearned) const;

  /// The first example whose record no sequence of presentations can produce,
  /// as a message; "" when all are possible.
  std::string check() const;

  /// A mest file of kind "forgetting statistics" (Checkpoint.h: magic, version,
  /// CRC-32) with the example count, the data set name and the stats. Load checks
  /// all of it against the expected data set size.
  void save(const std::string &path, const std::string &dataset) const;
  /// `expectedExamples` < 0 takes the file's count.
  static Forgetting load(const std::string &path, int64_t expectedExamples,
                         std::string *dataset = nullptr);

private:
  std::vector<ExampleStats> stats_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_FORGETTING_H
