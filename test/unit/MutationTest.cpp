// Initialisation, prune and grow on every compressed format: exact counts,
// ranking, uniform growth into empty units, capacity, no reallocation,
// determinism, and equality with the reference's "draw dense, then prune".
#include "TestUtil.h"

#include "runtime/formats/Patterns.h"
#include "runtime/support/Error.h"
#include "runtime/support/Memory.h"

#include <algorithm>
#include <map>
#include <set>

using namespace mest::test;

namespace {

const Scheme kSparseSchemes[] = {Scheme::Unstructured, Scheme::Channel, Scheme::Block,
                                 Scheme::Pattern};

/// Independent model of a unit: which dense weights it covers.
struct Unit {
  int64_t domain, id;
  std::vector<int64_t> positions;
  double score;
};

/// Units of the current mask, read through the densified mask, grouped as the
/// spec defines them (never through the format's own metadata).
std::vector<Unit> unitsFromDense(const CompressedWeights &w, const std::vector<float> &mask,
                                 const std::vector<float> &vals) {
  const WeightShape &s = w.spec.shape;
  const int64_t kk = s.kernelSize(), K = s.I * kk;
  std::vector<Unit> units;
  auto add = [&](int64_t domain, int64_t id, std::vector<int64_t> pos) {
    bool any = false;
    double sum = 0;
    for (int64_t p : pos) any |= mask[p] != 0.0f, sum += double(vals[p]) * vals[p];
    if (any) units.push_back({domain, id, pos, sum});
  };
  switch (w.spec.scheme) {
  case Scheme::Unstructured:
    for (int64_t i = 0; i < s.numel(); ++i) add(0, i, {i});
    break;
  case Scheme::Block:
    for (int64_t g = 0; g < s.O / w.spec.blockRows; ++g)
      for (int64_t col = 0; col < K; ++col) {
        std::vector<int64_t> pos;
        for (int64_t i = 0; i < w.spec.blockRows; ++i) pos.push_back((g * w.spec.blockRows + i) * K + col);
        add(0, g * K + col, pos);
      }
    break;
  case Scheme::Channel:
    for (int64_t c = 0; c < s.I; ++c) {
      std::vector<int64_t> pos;
      for (int64_t o = 0; o < s.O; ++o)
        for (int64_t k = 0; k < kk; ++k) pos.push_back((o * s.I + c) * kk + k);
      add(0, c, pos);
    }
    break;
  case Scheme::Pattern:
    for (int64_t o = 0; o < s.O; ++o)
      for (int64_t c = 0; c < s.I; ++c) {
        std::vector<int64_t> pos;
        for (int64_t k = 0; k < kk; ++k)
          if (mask[(o * s.I + c) * kk + k] != 0.0f) pos.push_back((o * s.I + c) * kk + k);
        if (!pos.empty()) add(o, c, pos);
      }
    break;
  case Scheme::Dense: break;
  }
  return units;
}

std::vector<float> maskOf(const CompressedWeights &w) {
  std::vector<float> ones(w.capacityWeights(), 1.0f), mask(w.spec.shape.numel());
  w.densify(ones.data(), mask.data());
  return mask;
}

std::vector<float> densified(const CompressedWeights &w, const float *packed) {
  std::vector<float> d(w.spec.shape.numel());
  w.densify(packed, d.data());
  return d;
}

/// The reference's initialisation: draw the dense tensor unit by unit in the
/// order the runtime streams it, apply the scheme's prune at the target, keep.
/// `value(pos)` gives the weight at a dense position, called in streaming order.
template <typename Value>
std::vector<float> pruneReference(const WeightSpec &spec, Value &&value) {
  const WeightShape &s = spec.shape;
  const int64_t kk = s.kernelSize(), K = s.I * kk;
  std::vector<float> dense(s.numel(), 0.0f);
  struct Cand { int64_t domain, id; double score; std::vector<std::pair<int64_t, float>> vals; };
  std::vector<Cand> cands;
  switch (spec.scheme) {
  case Scheme::Unstructured:
    for (int64_t i = 0; i < s.numel(); ++i) {
      float v = value(i);
      cands.push_back({0, i, std::fabs(v), {{i, v}}});
    }
    break;
  case Scheme::Block:
    for (int64_t g = 0; g < s.O / spec.blockRows; ++g)
      for (int64_t col = 0; col < K; ++col) {
        Cand c{0, g * K + col, 0.0, {}};
        for (int64_t i = 0; i < spec.blockRows; ++i) {
          float v = value((g * spec.blockRows + i) * K + col);
          c.score += double(v) * v;
          c.vals.push_back({(g * spec.blockRows + i) * K + col, v});
        }
        cands.push_back(c);
      }
    break;
  case Scheme::Channel:
    for (int64_t ch = 0; ch < s.I; ++ch) {
      Cand c{0, ch, 0.0, {}};
      for (int64_t o = 0; o < s.O; ++o)
        for (int64_t k = 0; k < kk; ++k) {
          float v = value((o * s.I + ch) * kk + k);
          c.score += double(v) * v;
          c.vals.push_back({(o * s.I + ch) * kk + k, v});
        }
      cands.push_back(c);
    }
    break;
  case Scheme::Pattern:
    for (int64_t o = 0; o < s.O; ++o)
      for (int64_t ch = 0; ch < s.I; ++ch) {
        float k9[9];
        for (int t = 0; t < 9; ++t) k9[t] = value((o * s.I + ch) * kk + t);
        int best = 0;
        double bestE = -1;
        for (int p = 0; p < spec.patterns.count; ++p) {
          double e = 0;
          for (int t = 0; t < 4; ++t) e += double(k9[spec.patterns.taps[p][t]]) * k9[spec.patterns.taps[p][t]];
          if (e > bestE) bestE = e, best = p;
        }
        Cand c{o, ch, 0.0, {}};
        for (int t = 0; t < 4; ++t) {
          int tap = spec.patterns.taps[best][t];
          c.score += double(k9[tap]) * k9[tap];
          c.vals.push_back({(o * s.I + ch) * kk + tap, k9[tap]});
        }
        cands.push_back(c);
      }
    break;
  case Scheme::Dense: break;
  }
  const int64_t keep = activeUnitsPerGroup(spec.scheme, s, spec.target, spec.blockRows);
  std::map<int64_t, std::vector<const Cand *>> byDomain;
  for (const Cand &c : cands) byDomain[c.domain].push_back(&c);
  for (auto &[d, list] : byDomain) {
    std::sort(list.begin(), list.end(), [](const Cand *a, const Cand *b) {
      return a->score != b->score ? a->score < b->score : a->id < b->id;
    });
    for (size_t i = list.size() - keep; i < list.size(); ++i)
      for (auto [pos, v] : list[i]->vals) dense[pos] = v;
  }
  return dense;
}

std::vector<float> drawDenseThenPrune(const WeightSpec &spec, double stddev, Rng &rng) {
  return pruneReference(spec, [&](int64_t) { return static_cast<float>(stddev * rng.normal()); });
}

WeightShape shapeFor(Scheme s) {
  return s == Scheme::Pattern ? WeightShape{12, 10, 3, 3} : WeightShape{12, 7, 3, 3};
}

int64_t liveRuntimeBytes() { return liveBytes(MemCategory::State); }

} // namespace

TEST_CASE("initialisation equals drawing dense weights and pruning them",
          "[mutation][init]") {
  for (Scheme s : kSparseSchemes) {
    INFO("scheme " << schemeName(s));
    WeightSpec spec = makeSpec(s, shapeFor(s), s == Scheme::Channel ? 0.6 : 0.85, 0.6);
    const double stddev = kaimingStd(spec.shape);
    CompressedWeights w(spec);
    MutationScratch scratch({&w});
    Rng a(914), b(914);
    initialize(w, stddev, a, scratch);
    CHECK(densified(w, w.values) == drawDenseThenPrune(spec, stddev, b));
    CHECK(domainUnitsNow(w) == domainUnitsAt(w, spec.target));
    // Optimizer state starts at zero; gradients were only a staging area.
    CHECK(std::all_of(w.grads, w.grads + w.capacityWeights(), [](float x) { return x == 0; }));
    CHECK(std::all_of(w.momentum, w.momentum + w.capacityWeights(), [](float x) { return x == 0; }));
  }
}

TEST_CASE("imported dense weights are pruned once like a fresh draw (--init)",
          "[mutation][init]") {
  for (Scheme s : kSparseSchemes) {
    INFO("scheme " << schemeName(s));
    WeightSpec spec = makeSpec(s, shapeFor(s), s == Scheme::Channel ? 0.6 : 0.85, 0.6);
    std::vector<float> dense(spec.shape.numel());
    Rng rng(915);
    for (float &v : dense) v = static_cast<float>(rng.normal());
    CompressedWeights w(spec);
    MutationScratch scratch({&w});
    initializeFromDense(w, dense.data(), scratch);
    CHECK(densified(w, w.values) ==
          pruneReference(spec, [&](int64_t pos) { return dense[pos]; }));
    CHECK(domainUnitsNow(w) == domainUnitsAt(w, spec.target));
    CHECK(std::all_of(w.grads, w.grads + w.capacityWeights(), [](float x) { return x == 0; }));
  }
  // A dense layer keeps every weight as given.
  WeightSpec spec = makeSpec(Scheme::Dense, WeightShape{5, 3, 3, 3}, 0.0, 0.0);
  std::vector<float> dense(spec.shape.numel());
  for (size_t i = 0; i < dense.size(); ++i) dense[i] = 0.25f * float(i) - 3.0f;
  CompressedWeights w(spec);
  MutationScratch scratch({&w});
  initializeFromDense(w, dense.data(), scratch);
  CHECK(densified(w, w.values) == dense);
}

TEST_CASE("prune and grow keep exact counts, ranking, emptiness and storage",
          "[mutation]") {
  for (Scheme s : kSparseSchemes) {
    INFO("scheme " << schemeName(s));
    const double target = s == Scheme::Channel ? 0.6 : 0.9;
    const double lower = s == Scheme::Channel ? 0.75 : 0.93;  // prune_to
    const double capacity = s == Scheme::Channel ? 0.45 : 0.8;
    WeightSpec spec = makeSpec(s, shapeFor(s), target, capacity);
    CompressedWeights w(spec);
    MutationScratch scratch({&w});
    Rng rng(1);
    initialize(w, 1.0, rng, scratch);
    // Give the optimizer state recognisable values.
    for (int64_t i = 0; i < w.activeWeights(); ++i) w.momentum[i] = 100.0f + i;
    const int64_t bytes = w.stateBytes(), live = liveRuntimeBytes();
    CHECK(bytes == spec.layout().total);
    CHECK(storageBytes(s, spec.shape, capacity).total() <= bytes);

    auto before = densified(w, w.values), beforeMask = maskOf(w);
    auto beforeMomentum = densified(w, w.momentum);
    auto unitsBefore = unitsFromDense(w, beforeMask, before);

    MutationCounts pc = prune(w, lower, scratch);
    auto afterPrune = densified(w, w.values), prunedMask = maskOf(w);
    CHECK(domainUnitsNow(w) == domainUnitsAt(w, lower));
    CHECK(pc.pruned == static_cast<int64_t>(unitsBefore.size()) -
                           static_cast<int64_t>(unitsFromDense(w, prunedMask, afterPrune).size()));
    // Every removed unit ranks no higher than every kept unit of its domain, and
    // kept units keep their values and momentum.
    std::map<int64_t, double> maxRemoved, minKept;
    for (const Unit &u : unitsBefore) {
      bool kept = prunedMask[u.positions[0]] != 0.0f;
      for (int64_t p : u.positions) REQUIRE((prunedMask[p] != 0.0f) == kept);
      auto &m = kept ? minKept : maxRemoved;
      double cur = m.count(u.domain) ? m[u.domain] : (kept ? 1e300 : -1.0);
      m[u.domain] = kept ? std::min(cur, u.score) : std::max(cur, u.score);
      if (kept)
        for (int64_t p : u.positions) {
          REQUIRE(afterPrune[p] == before[p]);
          REQUIRE(densified(w, w.momentum)[p] == beforeMomentum[p]);
        }
    }
    for (auto [d, r] : maxRemoved) CHECK(r <= minKept[d]);

    MutationCounts gc = grow(w, capacity, rng, scratch);
    auto grownVals = densified(w, w.values), grownMask = maskOf(w);
    auto grownMomentum = densified(w, w.momentum);
    CHECK(domainUnitsNow(w) == domainUnitsAt(w, capacity));
    CHECK(gc.grown == domainUnitsAt(w, capacity) * (s == Scheme::Pattern ? spec.shape.O : 1) -
                          domainUnitsAt(w, lower) * (s == Scheme::Pattern ? spec.shape.O : 1));
    for (int64_t p = 0; p < spec.shape.numel(); ++p) {
      if (prunedMask[p] != 0.0f) {  // survivors untouched
        REQUIRE(grownMask[p] != 0.0f);
        REQUIRE(grownVals[p] == afterPrune[p]);
      } else if (grownMask[p] != 0.0f) {  // grown: was empty, starts at zero
        REQUIRE(grownVals[p] == 0.0f);
        REQUIRE(grownMomentum[p] == 0.0f);
      }
    }
    // Units stay whole: every dense unit is entirely in or out.
    for (const Unit &u : unitsFromDense(w, grownMask, grownVals))
      for (int64_t p : u.positions) REQUIRE(grownMask[p] != 0.0f);
    if (s == Scheme::Pattern)  // filter balance
      for (int64_t o = 0; o < spec.shape.O; ++o) {
        int64_t n = 0;
        for (int64_t p = 0; p < spec.patterns.count; ++p) n += w.patternCount[o * spec.patterns.count + p];
        REQUIRE(n == w.perFilter());
      }

    // Storage never moves or grows; going past the capacity is an error.
    CHECK(w.stateBytes() == bytes);
    CHECK(liveRuntimeBytes() == live);
    CHECK_THROWS_WITH(grow(w, capacity - 0.2, rng, scratch),
                      Catch::Contains("layer test: growing to sparsity") &&
                          Catch::Contains("compiled capacity"));
    CHECK(domainUnitsNow(w) == domainUnitsAt(w, capacity));
  }
}

TEST_CASE("same seed, same masks; different seed, different masks", "[mutation]") {
  for (Scheme s : kSparseSchemes) {
    INFO("scheme " << schemeName(s));
    auto run = [&](uint64_t seed) {
      WeightSpec spec = makeSpec(s, shapeFor(s), 0.9, 0.8);
      if (s == Scheme::Channel) spec.target = 0.6, spec.capacity = 0.3;
      CompressedWeights w(spec);
      MutationScratch scratch({&w});
      Rng rng(seed);
      initialize(w, 1.0, rng, scratch);
      for (int event = 0; event < 3; ++event) {
        prune(w, spec.target + 0.02, scratch);
        grow(w, spec.capacity, rng, scratch);
      }
      return maskOf(w);
    };
    CHECK(run(5) == run(5));
    CHECK(run(5) != run(6));
  }
}

TEST_CASE("grow chooses uniformly among empty units", "[mutation]") {
  // 1 filter row of 20 weights, 10 active; grow 1 unit: each of the 10 empty
  // units should be chosen ~1/10 of the time.
  WeightSpec spec = makeSpec(Scheme::Unstructured, {1, 20, 1, 1}, 0.5, 0.0);
  CompressedWeights w(spec);
  MutationScratch scratch({&w});
  Rng rng(99);
  std::vector<int> hits(20, 0);
  const int trials = 5000;
  for (int t = 0; t < trials; ++t) {
    initialize(w, 1.0, rng, scratch);
    auto mask = maskOf(w);
    grow(w, 0.45, rng, scratch);
    auto grown = maskOf(w);
    for (int i = 0; i < 20; ++i)
      if (grown[i] != 0.0f && mask[i] == 0.0f) ++hits[i];
  }
  // Each position is empty half the time and then chosen 1/10 of the time.
  for (int i = 0; i < 20; ++i) CHECK(hits[i] == Approx(trials * 0.5 / 10).epsilon(0.2));
}

TEST_CASE("pattern kernels keep whole patterns from the library", "[mutation][pattern]") {
  WeightSpec spec = makeSpec(Scheme::Pattern, {8, 6, 3, 3}, 0.8, 0.6);
  CompressedWeights w(spec);
  MutationScratch scratch({&w});
  Rng rng(2);
  initialize(w, 1.0, rng, scratch);
  prune(w, 0.85, scratch);
  grow(w, 0.6, rng, scratch);
  auto mask = maskOf(w);
  std::set<unsigned> library;
  for (const auto &p : kDefaultPatterns) {
    unsigned m = 0;
    for (int t : p) m |= 1u << t;
    library.insert(m);
  }
  for (int64_t k = 0; k < 8 * 6; ++k) {
    unsigned m = 0;
    for (int t = 0; t < 9; ++t) m |= unsigned(mask[k * 9 + t] != 0.0f) << t;
    if (m) CHECK(library.count(m) == 1);
  }
  // Within a filter, kernels are sorted by pattern, then channel.
  for (int64_t o = 0; o < 8; ++o)
    for (int64_t j = 1; j < w.perFilter(); ++j) {
      int64_t a = o * w.perFilter() + j - 1, b = a + 1;
      CHECK(std::make_pair(w.patternId[a], w.index[a]) < std::make_pair(w.patternId[b], w.index[b]));
    }
}

TEST_CASE("ResNet-32 layers at 90% sparsity allocate close to capacity and far below dense",
          "[mutation][memory]") {
  // The 30 sparse 3x3 convs of ResNet-32 (16/32/64): five blocks per stage, two
  // convs per block; the first conv of stages 2 and 3 takes the previous width.
  std::vector<WeightShape> shapes;
  for (int stage = 0; stage < 3; ++stage) {
    int64_t width = 16 << stage;
    for (int b = 0; b < 5; ++b) {
      int64_t in = (stage > 0 && b == 0) ? width / 2 : width;
      shapes.push_back({width, in, 3, 3});
      shapes.push_back({width, width, 3, 3});
    }
  }
  for (Scheme s : kSparseSchemes) {
    INFO("scheme " << schemeName(s));
    const int64_t live0 = liveRuntimeBytes();
    std::vector<CompressedWeights> layers;
    double budget = 0, dense = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
      layers.emplace_back(makeSpec(s, shapes[i], 0.9, 0.9));
      const CompressedWeights &w = layers.back();
      // Bytes per active weight: value, gradient, momentum and the unit's index
      // metadata (pattern: int32 channel + uint8 pattern id per 4 weights).
      double perUnitIndex = s == Scheme::Pattern ? 5.0 : 4.0;
      budget += w.capacityWeights() * (12.0 + perUnitIndex / w.unitSize);
      dense += 12.0 * shapes[i].numel();
    }
    const double allocated = double(liveRuntimeBytes() - live0);
    INFO("allocated " << allocated << " budget " << budget << " dense " << dense);
    CHECK(allocated <= 1.15 * budget);
    CHECK(allocated < 0.25 * dense);
    layers.clear();
    CHECK(liveRuntimeBytes() == live0);
  }
}
