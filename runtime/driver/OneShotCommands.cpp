//===- OneShotCommands.cpp - what a training binary does besides training -===//
#include "runtime/driver/OneShotCommands.h"

#include "runtime/driver/Checkpoint.h"
#include "runtime/driver/Dataset.h"
#include "runtime/driver/Evaluation.h"
#include "runtime/driver/ExampleRemoval.h"
#include "runtime/driver/Files.h"
#include "runtime/driver/Forgetting.h"
#include "runtime/driver/InitialWeights.h"
#include "runtime/driver/Model.h"
#include "runtime/driver/Npy.h"
#include "runtime/driver/OnnxExport.h"
#include "runtime/driver/RunSetup.h"
#include "runtime/support/Error.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mest::rt {

namespace {

/// The state of a trained model from an exported model file or a checkpoint.
/// Loads --model's state; returns the data set kind the model file records
/// (its training data's normalisation), "" for a checkpoint or an older file.
std::string loadTrained(const std::string &path, Model &model) {
  CheckpointFile f;
  try {
    f = readCheckpoint(path, FileKind::Model, model.desc().fingerprint);
  } catch (const Error &e) {
    if (std::string(e.what()).find("expected a model") == std::string::npos) throw;
    f = readCheckpoint(path, FileKind::Checkpoint, model.desc().fingerprint);
  }
  model.loadState(f.get("STAT", model.desc().state_bytes, path), path);
  model.afterMutation(omp_get_max_threads());
  if (!f.has("DATA")) return "";
  const std::vector<uint8_t> &bytes = f.sections.at("DATA");
  std::string kind(bytes.begin(), bytes.end());
  try {
    parseDataSource(kind + ":.");
  } catch (const Error &) {
    throw Error(fmt::format("{}: the model file names an unknown training data set '{}' (its "
                            "DATA section is damaged)",
                            path, kind.substr(0, 40)));
  }
  return kind;
}

/// --model's trained state, or --init's weights.
void loadGiven(const Options &o, Model &model) {
  if (o.init.empty()) loadTrained(o.modelFile, model);
  else loadInitialWeights(model, o.init, 1);
}

} // namespace

bool isOneShotCommand(const Options &o) {
  return !o.report.empty() || !o.predict.empty() || !o.exportOnnx.empty() || !o.evalOnly.empty();
}

int reportForgetting(const Options &o) {
  std::string dataset;
  Forgetting f = Forgetting::load(o.report, -1, &dataset);
  const int64_t n = f.size();
  if (!o.plot.empty()) checkWritableFile(o.plot, "--plot");
  auto print = [](const std::string &s) { std::printf("%s\n", s.c_str()); };
  std::printf("%s: %lld examples of %s; unforgettable (learned, never forgotten): %lld\n",
              o.report.c_str(), static_cast<long long>(n), dataset.c_str(),
              static_cast<long long>(f.unforgettable()));
  printHistogram(f, print, o.plot);
  if (!o.remove.empty()) {
    int64_t k = removalCount(o, n, 0);
    std::vector<int64_t> order = f.removalOrder();
    std::printf("--remove %s drops %lld examples; the first: %s\n", o.remove.c_str(),
                static_cast<long long>(k),
                fmt::format("{}", fmt::join(order.begin(),
                                            order.begin() + std::min<int64_t>(k, 20), " "))
                    .c_str());
  }
  return 0;
}

int predict(const Options &o) {
  const mest_model_desc *desc = mest_model_descriptor();
  const int64_t expect[3] = {desc->in_channels, desc->in_height, desc->in_width};
  Dataset images = loadNpyImages(o.predict, expect);
  if (images.channels != desc->in_channels || images.height != desc->in_height ||
      images.width != desc->in_width)
    throw Error(fmt::format("{}: images of {}x{}x{}, but model {} takes {}x{}x{}", o.predict,
                            images.channels, images.height, images.width, desc->name,
                            desc->in_channels, desc->in_height, desc->in_width));
  const std::string out = o.logits.empty() ? o.out + "/logits.npy" : o.logits;
  if (o.logits.empty()) makeDirs(o.out);
  checkWritableFile(out, "--logits");
  Model model(desc);
  const std::string trainedOn = o.init.empty() ? loadTrained(o.modelFile, model) : "";
  if (!o.init.empty()) loadInitialWeights(model, o.init, 1);
  // uint8 images are normalised as the model's training data was (its model
  // file says which: fashion-mnist, npy to [0, 1], ...), or as --data says
  // when given (or for a checkpoint or --init); floats as given.
  std::string data = o.data;
  if (!trainedOn.empty() && !o.dataGiven) data = trainedOn + ":.";
  if (!trainedOn.empty() && o.dataGiven && parseDataSource(o.data).kind != trainedOn)
    std::fprintf(stderr, "note: %s was trained on %s data; uint8 images are normalised as "
                         "--data %s says\n",
                 o.modelFile.c_str(), trainedOn.c_str(), o.data.c_str());
  DataSource src = parseDataSource(data);
  const int64_t B = desc->batch, K = desc->classes, N = images.count;
  const int64_t imageFloats = desc->in_channels * desc->in_height * desc->in_width;
  std::vector<float> x(B * imageFloats), batchLogits(B * K), logits(N * K);
  std::vector<int32_t> y(B);
  std::vector<int64_t> index(B);
  Rng unused(0);
  // A batch at a time through mest_model_infer; the last one is padded with
  // zeros, and its padding is not written.
  for (int64_t at = 0; at < N; at += B) {
    const int64_t n = std::min(B, N - at);
    for (int64_t i = 0; i < n; ++i) index[i] = at + i;
    std::fill(x.begin(), x.end(), 0.0f);
    makeBatch(images, src, index.data(), n, false, unused, x.data(), y.data());
    mest_model_infer(model.state(), model.arena(), x.data(), batchLogits.data());
    std::copy(batchLogits.begin(), batchLogits.begin() + n * K, logits.begin() + at * K);
  }
  for (float v : logits)
    if (!std::isfinite(v))
      throw Error(fmt::format("--predict: the model gives non-finite logits for {}", o.predict));
  writeFileAtomically(out, {npyFloat32({N, K}, logits.data())});
  std::printf("%s: logits of %lld images ([%lld, %lld] float32) written to %s\n",
              (o.init.empty() ? o.modelFile : o.init).c_str(), static_cast<long long>(N),
              static_cast<long long>(N), static_cast<long long>(K), out.c_str());
  return 0;
}

int exportOnnx(const Options &o) {
  checkWritableFile(o.exportOnnx, "--export-onnx");
  Model model(mest_model_descriptor());
  loadGiven(o, model);
  writeFileAtomically(o.exportOnnx, {onnxModel(model, o.sparseInitializers)});
  std::printf("%s: ONNX model written to %s%s\n", (o.init.empty() ? o.modelFile : o.init).c_str(),
              o.exportOnnx.c_str(), o.sparseInitializers ? " (sparse initializers)" : "");
  return 0;
}

int evalOnly(const Options &o) {
  // The data as training would load it: the same checks, the same test set.
  const mest_model_desc *desc = mest_model_descriptor();
  RunData data = loadRunData(o, *desc, parseDataSource(o.data), 1);
  Model model(desc);
  loadTrained(o.evalOnly, model);
  EvalResult r = evaluate(model, data.test, data.src);
  std::printf("%s: %s accuracy %.2f%% loss %.4f on %lld examples; sparsity %.4f\n",
              o.evalOnly.c_str(), data.test.name.c_str(), 100 * r.accuracy, r.loss,
              static_cast<long long>(data.test.count),
              1.0 - double(model.activeWeights()) / model.totalWeights());
  return 0;
}

} // namespace mest::rt
