//===- InitialWeights.cpp - start training from given weights -------------===//
#include "runtime/driver/InitialWeights.h"

#include "runtime/driver/Npy.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <dirent.h>
#include <set>

namespace mest::rt {

namespace {

std::string shapeText(const std::vector<int64_t> &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return "[" + out + "]";
}

/// Reads DIR/FILE.npy as `shape` floats; throws naming the file.
std::vector<float> readTensor(const std::string &dir, const std::string &file,
                              const std::vector<int64_t> &shape, std::set<std::string> &used) {
  const std::string path = dir + "/" + file + ".npy";
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  NpyArray a = readNpy(path, uint64_t(n) * 8 + 1024);
  if (a.kind != 'f')
    throw Error(fmt::format("{}: dtype {}; initial weights are float32 or float64", path,
                            a.dtype()));
  if (a.shape != shape)
    throw Error(fmt::format("{}: shape {}, but layer {} has {}", path, shapeText(a.shape), file,
                            shapeText(shape)));
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) {
    double x = a.real(i);
    if (!std::isfinite(x) || std::fabs(x) > 3.0e38)
      throw Error(fmt::format("{}: element {} is {}; initial weights must be finite floats",
                              path, i, x));
    v[i] = static_cast<float>(x);
  }
  used.insert(file + ".npy");
  return v;
}

} // namespace

void loadInitialWeights(Model &model, const std::string &dir, int threads) {
  DIR *d = opendir(dir.c_str());
  if (!d) throw Error(fmt::format("--init {}: {}", dir, std::strerror(errno)));
  std::set<std::string> present, used;
  while (dirent *e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".npy") == 0) present.insert(f);
  }
  closedir(d);
  const mest_model_desc &desc = model.desc();
  uint8_t *state = model.state();
  std::fill(state, state + desc.state_bytes, 0);
  for (int i = 0, w = 0; i < desc.num_layers; ++i) {
    const mest_layer_desc &l = desc.layers[i];
    const std::string name = l.name;
    auto need = [&](const std::string &file) {
      if (!present.count(file + ".npy"))
        throw Error(fmt::format("--init {}: no {}.npy for layer {} of model {}", dir, file, name,
                                desc.name));
    };
    if (l.kind == MEST_LAYER_BATCH_NORM) {
      const int64_t C = l.out_channels;
      auto layout = batchNormStateLayout(C);
      float *params = reinterpret_cast<float *>(state + l.state_offset + layout.params);
      float *mean = reinterpret_cast<float *>(state + l.state_offset + layout.runMean);
      float *var = reinterpret_cast<float *>(state + l.state_offset + layout.runVar);
      const char *parts[] = {"scale", "shift", "mean", "var"};
      float *to[] = {params, params + C, mean, var};
      for (int p = 0; p < 4; ++p) {
        need(name + "." + parts[p]);
        std::vector<float> v = readTensor(dir, name + "." + parts[p], {C}, used);
        if (p == 3 && std::any_of(v.begin(), v.end(), [](float x) { return x < 0; }))
          throw Error(fmt::format("{}/{}.var.npy: a negative running variance", dir, name));
        std::copy(v.begin(), v.end(), to[p]);
      }
      continue;
    }
    CompressedWeights &cw = *model.weights()[w++];
    const WeightShape &s = cw.spec.shape;
    std::vector<int64_t> shape = l.kind == MEST_LAYER_LINEAR
                                     ? std::vector<int64_t>{s.O, s.I}
                                     : std::vector<int64_t>{s.O, s.I, s.KH, s.KW};
    need(name + ".weight");
    std::vector<float> dense = readTensor(dir, name + ".weight", shape, used);
    initializeFromDense(cw, dense.data(), model.scratch());
    const bool hasBiasFile = present.count(name + ".bias.npy") != 0;
    if (cw.spec.bias) {
      need(name + ".bias");
      std::vector<float> b = readTensor(dir, name + ".bias", {s.O}, used);
      std::copy(b.begin(), b.end(), cw.bias);
    } else if (hasBiasFile) {
      throw Error(fmt::format("--init {}: {}.bias.npy, but layer {} has no bias (it would be "
                              "dropped)",
                              dir, name, name));
    }
  }
  for (const std::string &f : present)
    if (!used.count(f))
      throw Error(fmt::format("--init {}: {} belongs to no layer of model {} (a layer of "
                              "another model, or a renamed one?)",
                              dir, f, desc.name));
  std::string problem = model.checkState();
  if (!problem.empty()) throw Error(fmt::format("--init {}: {}", dir, problem));
  model.afterMutation(threads);
}

} // namespace mest::rt
