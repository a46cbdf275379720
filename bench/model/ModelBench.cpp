// Benchmarks of one compiled model (compiled with --export-kernels), printing
// one JSON object per measurement:
//   kernels   every conv kernel (forward, backward-data, backward-weight with
//             fused SGD) on random data at the model's target sparsity;
//   step      the whole compiled training step: median, min and max of
//             --steps steps after --warmup, the planned bytes, the OpenMP
//             parallel regions a step starts and its active FLOP (the conv
//             and linear work on the active weights, every direction);
//   mutation  one mutation event (prune +2 points, grow back) and regrouping,
//             and the same as a fraction of a CIFAR epoch (50000 / batch steps).
// Usage: <bench> kernels|step|mutation [--reps N] [--steps N] [--warmup N]
#include "ParallelRegions.h"
#include "runtime/abi/mest_abi.h"
#include "runtime/driver/Model.h"
#include "runtime/support/Memory.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace mest::rt;

namespace {

using Clock = std::chrono::steady_clock;

std::string symbolName(const char *layer, const char *dir) {
  std::string s = "mest_kernel_";
  for (const char *p = layer; *p; ++p) s += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return s + "_" + dir;
}

struct Stats {
  double median, min, max;
};
template <typename Fn> Stats time(Fn &&fn, int reps, int warmup = 1) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front(), t.back()};
}

/// The process's peak resident memory in MiB (VmHWM). Not getrusage's
/// ru_maxrss: Linux carries that over exec from the parent, so a benchmark
/// started by a large process (bench/pairs.py holds PyTorch) would report the
/// parent's peak.
double peakRssMiB() {
  std::FILE *f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (!std::strncmp(line, "VmHWM:", 6)) kib = std::atof(line + 6);
  std::fclose(f);
  return kib / 1024.0;
}

int argInt(int argc, char **argv, const char *name, int def) {
  for (int i = 2; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], name)) return std::atoi(argv[i + 1]);
  return def;
}

const char *schemeOf(const mest_model_desc &d) {
  static const char *names[] = {"dense", "unstructured", "channel", "block", "pattern"};
  for (int i = 0; i < d.num_layers; ++i)
    if (d.layers[i].kind == MEST_LAYER_CONV2D && d.layers[i].scheme != MEST_SCHEME_DENSE)
      return names[d.layers[i].scheme];
  return "dense";
}

/// Stage-1 channels: the first convolution's filters.
int64_t widthOf(const mest_model_desc &d) {
  for (int i = 0; i < d.num_layers; ++i)
    if (d.layers[i].kind == MEST_LAYER_CONV2D) return d.layers[i].out_channels;
  return 0;
}

double targetOf(const mest_model_desc &d) {
  for (int i = 0; i < d.num_layers; ++i)
    if (d.layers[i].scheme != MEST_SCHEME_DENSE) return d.layers[i].target;
  return 0.0;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "kernels";
  const mest_model_desc *d = mest_model_descriptor();
  const int threads = omp_get_max_threads();
  const double baselineRss = peakRssMiB();  // the process before the model's memory exists
  Model model(d);
  Rng rng(1);
  model.initialize(rng, threads);
  // --label names how the model was compiled (e.g. "direct" for --conv-kernels direct).
  // --storage how its saved activations are stored (--activation-storage).
  std::string label = "auto", storage = "f32";
  for (int i = 2; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--label")) label = argv[i + 1];
    if (!std::strcmp(argv[i], "--storage")) storage = argv[i + 1];
  }
  const std::string head = fmt::format("\"model\": \"{}\", \"scheme\": \"{}\", \"target\": {}, "
                                       "\"width\": {}, \"threads\": {}, \"batch\": {}, "
                                       "\"kernels\": \"{}\", \"storage\": \"{}\"",
                                       d->name, schemeOf(*d), targetOf(*d), widthOf(*d), threads,
                                       d->batch, label, storage);
  const int64_t B = d->batch;
  std::vector<float> x(B * d->in_channels * d->in_height * d->in_width), loss(B), margin(B);
  std::vector<int32_t> y(B);
  std::vector<uint8_t> correct(B);
  for (float &v : x) v = float(rng.normal());
  for (int32_t &v : y) v = int32_t(rng.below(d->classes));
  auto step = [&] {
    mest_model_train_step(model.state(), model.arena(), x.data(), y.data(), 0.01f, 0.9f, 1e-4f,
                          loss.data(), correct.data(), margin.data());
  };
  if (mode == "kernels") {
    const int reps = argInt(argc, argv, "--reps", 20);
    // Two steps first: the arena and state paged in, the thread pool started,
    // so the first kernel timed does not pay for the process's start.
    step();
    step();
    for (int i = 0, w = 0; i < d->num_layers; ++i) {
      const mest_layer_desc &l = d->layers[i];
      if (l.kind == MEST_LAYER_BATCH_NORM) continue;
      CompressedWeights &cw = *model.weights()[w++];
      if (l.kind != MEST_LAYER_CONV2D) continue;
      using Fwd = void (*)(uint8_t *, const float *, float *);
      using Bwd = void (*)(uint8_t *, const float *, const float *, float, float, float);
      auto fwd = reinterpret_cast<Fwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "fwd").c_str()));
      auto bwdData = reinterpret_cast<Fwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "bwd_data").c_str()));
      auto bwdWeight = reinterpret_cast<Bwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "bwd_weight").c_str()));
      if (!fwd || !bwdData || !bwdWeight) {
        fmt::print(stderr, "kernels of {} not found: compile with --export-kernels\n", l.name);
        return 1;
      }
      const int64_t N = d->batch;
      std::vector<float> in(N * l.in_channels * l.in_h * l.in_w), out(N * l.out_channels * l.out_h * l.out_w);
      for (float &v : in) v = float(rng.normal());
      for (float &v : out) v = float(rng.normal());
      std::vector<float> din(in.size());
      Stats f = time([&] { fwd(model.state(), in.data(), out.data()); }, reps, 3);
      Stats bd = time([&] { bwdData(model.state(), out.data(), din.data()); }, reps, 3);
      Stats bw = time([&] { bwdWeight(model.state(), in.data(), out.data(), 0.0f, 0.0f, 0.0f); },
                      reps, 3);
      // GFLOP/s on the active weights' multiply-adds, the same count in every direction.
      double mflop = 2e-6 * double(cw.activeWeights()) * N * l.out_h * l.out_w;
      fmt::print("{{\"kind\": \"kernel\", {}, \"layer\": \"{}\", \"O\": {}, \"I\": {}, \"k\": {}, "
                 "\"hw\": {}, \"stride\": {}, \"sparsity\": {:.4f}, \"fwd_ms\": {:.4f}, "
                 "\"bwd_data_ms\": {:.4f}, \"bwd_weight_ms\": {:.4f}, \"fwd_gflops\": {:.2f}, "
                 "\"bwd_data_gflops\": {:.2f}, \"bwd_weight_gflops\": {:.2f}}}\n",
                 head, l.name, l.out_channels, l.in_channels, l.kernel_h, l.out_h, l.stride_h,
                 cw.sparsity(), f.median, bd.median, bw.median, mflop / f.median,
                 mflop / bd.median, mflop / bw.median);
    }
  } else if (mode == "step") {
    const int steps = argInt(argc, argv, "--steps", 20), warmup = argInt(argc, argv, "--warmup", 3);
    Stats s = time(step, steps, warmup);
    // One more step, counted: the step is straight-line code, so every step
    // starts the same regions.
    const int64_t regionsBefore = mest::bench::parallelRegions();
    step();
    const int64_t regionsAfter = mest::bench::parallelRegions();
    // Active FLOP of a step: forward, backward-data (not for the first layer,
    // whose input needs no gradient) and backward-weight of every conv and
    // linear layer, 2 FLOP per multiply-add on an active weight.
    double activeFlop = 0;
    for (int i = 0, w = 0, first = 1; i < d->num_layers; ++i) {
      const mest_layer_desc &l = d->layers[i];
      if (l.kind == MEST_LAYER_BATCH_NORM) continue;
      double macs = double(model.weights()[w++]->activeWeights()) * B * l.out_h * l.out_w;
      activeFlop += 2 * macs * (first ? 2 : 3);
      first = 0;
    }
    int64_t params = 0, values = 0, metadata = 0;
    for (auto &w : model.weights()) {
      ConvStateLayout l = w->spec.layout();
      params += 4 * l.capacityValues;
      values += 4 * l.capacityValues;
      metadata += l.total - 12 * l.capacityValues;
    }
    int64_t bnBytes = d->state_bytes - (3 * values + metadata);
    fmt::print("{{\"kind\": \"step\", {}, \"median_ms\": {:.3f}, \"min_ms\": {:.3f}, "
               "\"max_ms\": {:.3f}, \"steps\": {}, \"peak_rss_mb\": {:.1f}, \"state_bytes\": {}, "
               "\"arena_bytes\": {}, \"weights_bytes\": {}, \"gradients_bytes\": {}, "
               "\"momentum_bytes\": {}, \"metadata_bytes\": {}, \"other_state_bytes\": {}, "
               "\"active_weights\": {}, \"total_weights\": {}, \"scratch_bytes\": {}, "
               "\"planned_bytes\": {}, \"baseline_rss_mb\": {:.1f}, "
               "\"parallel_regions\": {}, \"active_gflop\": {:.4f}}}\n",
               head, s.median, s.min, s.max, steps, peakRssMiB(), d->state_bytes,
               d->arena_bytes, params, values, values, metadata, bnBytes, model.activeWeights(),
               model.totalWeights(), d->scratch_bytes,
               d->state_bytes + d->arena_bytes + int64_t(threads) * d->scratch_bytes,
               baselineRss,
               regionsBefore < 0 ? -1 : regionsAfter - regionsBefore, activeFlop / 1e9);
  } else if (mode == "mutation") {
    const int reps = argInt(argc, argv, "--reps", 5);
    double target = targetOf(*d);
    Stats m = time([&] {
      for (auto &w : model.weights()) {
        if (!model.isSparse(*w)) continue;
        prune(*w, target + 0.02, model.scratch());
        grow(*w, target, rng, model.scratch());
      }
    }, reps);
    Stats r = time([&] { model.afterMutation(threads); }, reps);
    fmt::print("{{\"kind\": \"mutation\", {}, \"mutate_ms\": {:.3f}, \"regroup_ms\": {:.3f}}}\n",
               head, m.median, r.median);
  } else {
    fmt::print(stderr,
               "usage: {} kernels|step|mutation [--reps N] [--steps N] [--warmup N] [--label L] "
               "[--storage f32|f16|bf16]\n",
               argv[0]);
    return 2;
  }
  return 0;
}
