// Forgetting statistics: exact counts on hand-made sequences, the removal order
// and its tie rule, and the statistics file.
#include "runtime/driver/Forgetting.h"
#include "runtime/support/Error.h"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace mest::rt;

TEST_CASE("forgetting events are correct -> incorrect transitions", "[forgetting]") {
  Forgetting f(4);
  // Example 0: 1 0 1 0 0 1 -> 2 events. Example 1: 0 0 1 1 -> 0 events, learned.
  // Example 2: 0 0 0 -> never learned. Example 3: 1 1 0 1 0 -> 2 events.
  const std::vector<std::vector<int>> seq = {{1, 0, 1, 0, 0, 1}, {0, 0, 1, 1}, {0, 0, 0}, {1, 1, 0, 1, 0}};
  for (int e = 0; e < 4; ++e)
    for (int c : seq[e]) f.record(e, c == 1, 0.5f, 0.1f);
  CHECK(f.stats()[0].forgets == 2);
  CHECK(f.stats()[1].forgets == 0);
  CHECK(f.stats()[2].forgets == 0);
  CHECK(f.stats()[3].forgets == 2);
  CHECK(f.stats()[0].presentations == 6);
  CHECK(f.stats()[1].learned == 1);
  CHECK(f.stats()[2].learned == 0);
  CHECK(f.stats()[3].lastCorrect == 0);
  CHECK(f.unforgettable() == 1);
  // Removal: count ascending, never-learned last, ties by index: 1, 0, 3, 2.
  CHECK(f.removalOrder() == std::vector<int64_t>{1, 0, 3, 2});
  int64_t never = 0;
  std::vector<int64_t> h = f.histogram(4, &never);
  CHECK(h == std::vector<int64_t>{1, 0, 2, 0});
  CHECK(never == 1);
}

TEST_CASE("statistics file round-trips and is checked on load", "[forgetting]") {
  Forgetting f(3);
  f.record(0, true, 1.5f, 2.0f);
  f.record(0, false, 2.5f, -1.0f);
  f.record(2, true, 0.1f, 3.0f);
  std::string path = "/tmp/mest-fgt-" + std::to_string(getpid()) + ".mest";
  f.save(path, "fashion-mnist train");
  std::string name;
  Forgetting g = Forgetting::load(path, 3, &name);
  CHECK(name == "fashion-mnist train");
  CHECK(g.removalOrder() == f.removalOrder());
  CHECK(g.stats()[0].forgets == 1);
  CHECK(g.stats()[0].loss == 2.5f);
  CHECK_THROWS_WITH(Forgetting::load(path, 4), Catch::Contains("statistics of 3 examples, but the training set has 4"));
  unlink(path.c_str());
}
