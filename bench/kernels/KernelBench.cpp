// Times every generated conv/linear kernel of one compiled model (forward,
// backward-data, backward-weight with fused SGD) on random data at the model's
// target sparsity. Prints one JSON object per layer. Kernels are found by name
// (mest_kernel_<layer>_<dir>, exported by mestc --export-kernels).
#include "runtime/abi/mest_abi.h"
#include "runtime/formats/CompressedWeights.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Memory.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

using namespace mest::rt;

namespace {

std::string symbolName(const char *layer, const char *dir) {
  std::string s = "mest_kernel_";
  for (const char *p = layer; *p; ++p) s += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return s + "_" + dir;
}

template <typename Fn> double medianMs(Fn &&fn, int reps) {
  fn();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  const mest_model_desc *d = mest_model_descriptor();
  auto *state = static_cast<uint8_t *>(allocate(d->state_bytes, MemCategory::State));
  Rng rng(1);
  const int threads = omp_get_max_threads();
  for (int i = 0; i < d->num_layers; ++i) {
    const mest_layer_desc &l = d->layers[i];
    if (l.kind != MEST_LAYER_CONV2D) continue;
    WeightSpec spec;
    spec.name = l.name;
    spec.shape = {l.out_channels, l.in_channels, l.kernel_h, l.kernel_w};
    spec.scheme = static_cast<Scheme>(l.scheme);
    spec.target = l.target, spec.capacity = l.capacity, spec.blockRows = l.block_rows;
    spec.bias = l.has_bias;
    CompressedWeights w(spec, state + l.state_offset);
    MutationScratch scratch({&w});
    initialize(w, kaimingStd(spec.shape), rng, scratch);
    mest_model_after_mutation(state, threads);  // load-balanced order, as after a mutation
    using Fwd = void (*)(uint8_t *, const float *, float *);
    using Bwd = void (*)(uint8_t *, const float *, const float *, float, float, float);
    auto fwd = reinterpret_cast<Fwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "fwd").c_str()));
    auto bwdData = reinterpret_cast<Fwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "bwd_data").c_str()));
    auto bwdWeight = reinterpret_cast<Bwd>(dlsym(RTLD_DEFAULT, symbolName(l.name, "bwd_weight").c_str()));
    if (!fwd || !bwdData || !bwdWeight) {
      fmt::print(stderr, "kernels of {} not found: compile the model with --export-kernels\n", l.name);
      return 1;
    }
    const int64_t N = d->batch, Hin = l.in_h, Win = l.in_w, Hout = l.out_h, Wout = l.out_w;
    std::vector<float> in(N * l.in_channels * Hin * Win), out(N * l.out_channels * Hout * Wout);
    for (float &v : in) v = float(rng.normal());
    for (float &v : out) v = float(rng.normal());
    std::vector<float> din(in.size());
    double fwdMs = medianMs([&] { fwd(state, in.data(), out.data()); }, reps);
    double bdMs = medianMs([&] { bwdData(state, out.data(), din.data()); }, reps);
    double bwMs = medianMs([&] { bwdWeight(state, in.data(), out.data(), 0.0f, 0.0f, 0.0f); }, reps);
    double macs = double(w.activeWeights()) * N * Hout * Wout;
    fmt::print("{{\"model\": \"{}\", \"layer\": \"{}\", \"scheme\": {}, \"O\": {}, \"I\": {}, \"k\": {}, "
               "\"hw\": {}, \"stride\": {}, \"sparsity\": {:.4f}, \"threads\": {}, \"fwd_ms\": {:.4f}, "
               "\"bwd_data_ms\": {:.4f}, \"bwd_weight_ms\": {:.4f}, \"fwd_gflops\": {:.2f}}}\n",
               d->name, l.name, l.scheme, l.out_channels, l.in_channels, l.kernel_h, Hout, l.stride_h,
               w.sparsity(), threads, fwdMs, bdMs, bwMs, 2 * macs / fwdMs / 1e6);
  }
  release(state, d->state_bytes, MemCategory::State);
  return 0;
}
