//===- Model.cpp - a compiled model's state, as the driver sees it --------===//
#include "runtime/driver/Model.h"

#include "runtime/formats/DropoutStream.h"
#include "runtime/formats/StateCheck.h"
#include "runtime/support/Error.h"
#include "runtime/support/Memory.h"

#include <chrono>
#include <cstring>

namespace mest::rt {

WeightSpec weightSpecOf(const mest_layer_desc &l) {
  WeightSpec s;
  s.name = l.name;
  s.shape = {l.out_channels, l.in_channels, l.kernel_h, l.kernel_w};
  s.scheme = static_cast<Scheme>(l.scheme);
  s.target = l.target;
  s.capacity = l.capacity;
  s.blockRows = l.block_rows;
  s.bias = l.has_bias != 0;
  if (l.num_patterns > 0) {
    s.patterns.count = l.num_patterns;
    for (int p = 0; p < l.num_patterns; ++p)
      for (int t = 0; t < kPatternTaps; ++t) s.patterns.taps[p][t] = l.pattern_taps[p * 4 + t];
  }
  return s;
}

Model::Model(const mest_model_desc *desc) : desc_(desc) {
  if (desc->abi_version != MEST_ABI_VERSION)
    throw Error(fmt::format("model {} was compiled for ABI version {}, this runtime has {}",
                            desc->name, desc->abi_version, MEST_ABI_VERSION));
  state_ = static_cast<uint8_t *>(allocate(desc->state_bytes, MemCategory::State));
  arena_ = static_cast<uint8_t *>(allocate(desc->arena_bytes, MemCategory::Arena));
  std::vector<const CompressedWeights *> views;
  for (int i = 0; i < desc->num_layers; ++i) {
    const mest_layer_desc &l = desc->layers[i];
    if (l.kind == MEST_LAYER_BATCH_NORM) continue;
    weights_.push_back(std::make_unique<CompressedWeights>(weightSpecOf(l), state_ + l.state_offset));
    views.push_back(weights_.back().get());
  }
  scratch_ = std::make_unique<MutationScratch>(views);
}

Model::~Model() {
  scratch_.reset();
  weights_.clear();
  release(state_, desc_->state_bytes, MemCategory::State);
  release(arena_, desc_->arena_bytes, MemCategory::Arena);
}

void Model::initialize(Rng &rng, int threads) {
  std::fill(state_, state_ + desc_->state_bytes, 0);
  for (int i = 0, w = 0; i < desc_->num_layers; ++i) {
    const mest_layer_desc &l = desc_->layers[i];
    if (l.kind == MEST_LAYER_BATCH_NORM) {
      auto layout = batchNormStateLayout(l.out_channels);
      float *p = reinterpret_cast<float *>(state_ + l.state_offset);
      float *var = reinterpret_cast<float *>(state_ + l.state_offset + layout.runVar);
      for (int64_t c = 0; c < l.out_channels; ++c) p[c] = 1.0f, var[c] = 1.0f;
      continue;
    }
    CompressedWeights &cw = *weights_[w++];
    double stddev = l.kind == MEST_LAYER_CONV2D ? kaimingStd(cw.spec.shape) : 0.01;
    mest::rt::initialize(cw, stddev, rng, *scratch_);
  }
  afterMutation(threads);
}

double Model::afterMutation(int threads) {
  auto start = std::chrono::steady_clock::now();
  mest_model_after_mutation(state_, threads);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string Model::checkState() {
  for (int i = 0, w = 0; i < desc_->num_layers; ++i) {
    const mest_layer_desc &l = desc_->layers[i];
    std::string problem = l.kind == MEST_LAYER_BATCH_NORM
                              ? checkBatchNormState(state_ + l.state_offset, l.out_channels)
                              : checkLayerState(*weights_[w++]);
    if (!problem.empty()) return fmt::format("layer {}: {}", l.name, problem);
  }
  return "";
}

void Model::loadState(const std::vector<uint8_t> &bytes, const std::string &path) {
  if (int64_t(bytes.size()) != desc_->state_bytes)
    throw Error(fmt::format("{}: state of {} bytes, this model's is {}", path, bytes.size(),
                            desc_->state_bytes));
  std::copy(bytes.begin(), bytes.end(), state_);
  std::string problem = checkState();
  if (!problem.empty())
    throw Error(fmt::format("{}: {}: not a state training this model can produce; refused",
                            path, problem));
}

int64_t Model::totalWeights() const {
  int64_t n = 0;
  for (const auto &w : weights_) n += w->spec.shape.numel();
  return n;
}

int64_t Model::activeWeights() const {
  int64_t n = 0;
  for (const auto &w : weights_) n += w->activeWeights();
  return n;
}

namespace {
uint64_t fnv1a(uint64_t h, const void *data, size_t bytes) {
  const auto *p = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull;
} // namespace

uint64_t Model::maskChecksum() const {
  uint64_t h = kFnvBasis;
  for (const auto &w : weights_) {
    if (w->spec.scheme == Scheme::Dense) continue;
    h = fnv1a(h, w->header, 2 * sizeof(int64_t));
    if (w->index) h = fnv1a(h, w->index, w->numActive() * sizeof(int32_t));
    if (w->groupPtr) h = fnv1a(h, w->groupPtr, (w->numGroups + 1) * sizeof(int32_t));
    if (w->patternId) h = fnv1a(h, w->patternId, w->numActive());
  }
  return h;
}

uint64_t Model::stateChecksum() const {
  const int64_t d = desc_->dropout_state_offset;
  if (d < 0) return fnv1a(kFnvBasis, state_, desc_->state_bytes);
  // The dropout seed differs between replicas by design: everything but it.
  return fnv1a(fnv1a(kFnvBasis, state_, d), state_ + d + 8, desc_->state_bytes - d - 8);
}

void Model::seedDropout(uint64_t seed, int64_t rank, bool fresh) {
  const int64_t d = desc_->dropout_state_offset;
  if (d < 0) return;
  uint64_t stream[2];
  std::memcpy(stream, state_ + d, sizeof stream);
  stream[0] = dropoutSeed(seed, rank);
  if (fresh) stream[1] = 0;
  std::memcpy(state_ + d, stream, sizeof stream);
}

} // namespace mest::rt
