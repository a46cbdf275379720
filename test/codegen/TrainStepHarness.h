// What the train-step tests share: views of a state copy, the reference ops
// of one layer (forward and backward with the SGD update, composed from the
// reference kernels of runtime/kernels/Reference.h), and the test itself:
// the compiled train step against a model's hand-composed reference step for
// 10 steps (per-example loss, correctness and margin; every parameter,
// gradient, momentum and running statistic), then the eval step.
#ifndef MEST_TEST_CODEGEN_TRAINSTEPHARNESS_H
#define MEST_TEST_CODEGEN_TRAINSTEPHARNESS_H

#include "runtime/abi/mest_abi.h"
#include "runtime/formats/CompressedWeights.h"
#include "runtime/kernels/Reference.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mest::test {

using Vec = std::vector<float>;
using Labels = std::vector<int32_t>;

const mest_layer_desc &layer(const char *name);

/// Views of one copy of the model's state.
struct Params {
  Params(uint8_t *state, const std::vector<const char *> &convs);
  uint8_t *state;
  std::map<std::string, std::unique_ptr<rt::CompressedWeights>> conv;
  rt::CompressedWeights &w(const char *n) { return *conv.at(n); }
  float *bn(const char *n, int64_t off) {
    return reinterpret_cast<float *>(state + layer(n).state_offset + off);
  }
  float *bnParams(const char *n) { return bn(n, 0); }
  float *bnGrads(const char *n);
  float *bnMomentum(const char *n);
  float *runMean(const char *n);
  float *runVar(const char *n);
};

/// 3x3 conv with padding 1 (or k x k, padding p) on a batch of N.
rt::ConvGeom conv(int64_t N, int64_t C, int64_t H, int64_t O, int64_t S, int64_t K = 3,
                  int64_t P = 1);
rt::ConvGeom pool(int64_t N, int64_t C, int64_t H);

/// How the compiled step stores its saved activations (mestc
/// --activation-storage; the test binary's MEST_TEST_ACTIVATION_STORAGE).
enum class Storage { F32 = 0, F16 = 1, BF16 = 2 };

/// The reference ops of a training step, in the order a step needs them.
struct Ref {
  Params &p;
  int64_t N;
  float lr, mu, wd;
  Storage storage = Storage::F32;
  /// A saved activation as the compiled step stores it: each element rounded
  /// to nearest even in f16 or bf16 (by the C++ compiler's _Float16 and by
  /// bit arithmetic, not by the code under test); as it is in f32.
  Vec save(Vec v) const;
  Vec conv(const rt::ConvGeom &g, const char *n, const Vec &in);
  /// out, mean, inv_std of the training batch norm (updates running stats).
  void bnTrain(const char *n, int64_t C, int64_t HW, const Vec &in, Vec &out, Vec &mean,
               Vec &inv);
  /// Input gradient, then the scale/shift gradients and their SGD step.
  Vec bnBack(const char *n, int64_t C, int64_t HW, const Vec &in, const Vec &dout,
             const Vec &mean, const Vec &inv);
  /// Batch norm with the running statistics (the eval step's).
  Vec bnEval(const char *n, int64_t C, int64_t HW, const Vec &in);
  Vec relu(const Vec &in);
  Vec reluBack(const Vec &out, const Vec &dout);
  Vec add(const Vec &a, const Vec &b);
  /// Input gradient of a conv (before its update).
  Vec convBackData(const rt::ConvGeom &g, const char *n, const Vec &dout);
  /// Weight and bias gradients of a conv and their SGD step.
  void weightStep(const char *n, const rt::ConvGeom &g, const Vec &in, const Vec &dout);
};

struct ModelReference {
  std::vector<const char *> convs, bns;
  /// One training step from the reference ops; writes the per-example outputs.
  std::function<void(Ref &, const Vec &x, const Labels &y, Vec &loss,
                     std::vector<uint8_t> &correct, Vec &margin)>
      step;
  /// The eval step's per-example loss (running statistics).
  std::function<Vec(Ref &, const Vec &x, const Labels &y)> eval;
};

/// The test: Catch2 checks of the compiled steps against `ref`.
void checkTrainStep(const ModelReference &ref);

} // namespace mest::test

#endif // MEST_TEST_CODEGEN_TRAINSTEPHARNESS_H
