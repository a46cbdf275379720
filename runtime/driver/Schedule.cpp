//===- Schedule.cpp - learning-rate and mutation schedules ----------------===//
#include "runtime/driver/Schedule.h"

#include "runtime/support/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mest::rt {

MutationMode parseMutationMode(const std::string &text) {
  if (text == "none") return MutationMode::None;
  if (text == "mest") return MutationMode::Mest;
  if (text == "em") return MutationMode::Em;
  if (text == "ems") return MutationMode::Ems;
  throw Error(fmt::format("--mutation: unknown mode '{}', expected none, mest, em or ems", text));
}

const char *mutationModeName(MutationMode m) {
  switch (m) {
  case MutationMode::None: return "none";
  case MutationMode::Mest: return "mest";
  case MutationMode::Em: return "em";
  case MutationMode::Ems: return "ems";
  }
  return "?";
}

MutationSchedule MutationSchedule::defaults(MutationMode mode, int epochs) {
  MutationSchedule s;
  s.mode = mode;
  switch (mode) {
  case MutationMode::None: s.pruneTo = {0.0}, s.growTo = {0.0}; break;
  case MutationMode::Mest: s.pruneTo = {0.02}, s.growTo = {0.0}; break;
  case MutationMode::Em: s.pruneTo = {0.02, 0.01, 0.0}, s.growTo = {0.0}; break;
  case MutationMode::Ems: s.pruneTo = {0.0}, s.growTo = {-0.05, -0.025, 0.0}; break;
  }
  const int last = std::max(0, epochs - 1);
  for (int ref : {90, 120})
    s.decayEpochs.push_back(std::min(last, static_cast<int>(std::lround(epochs * ref / 160.0))));
  s.every = std::max(1, static_cast<int>(std::lround(epochs * 5 / 160.0)));
  return s;
}

int MutationSchedule::phase(int epoch) const {
  return static_cast<int>(std::count_if(decayEpochs.begin(), decayEpochs.end(),
                                        [&](int d) { return d <= epoch; }));
}

bool MutationSchedule::isEvent(int epoch) const {
  if (mode == MutationMode::None) return false;
  int last = decayEpochs.empty() ? epoch : *std::max_element(decayEpochs.begin(), decayEpochs.end());
  bool onDecay = std::find(decayEpochs.begin(), decayEpochs.end(), epoch) != decayEpochs.end();
  return epoch <= last && (epoch % every == 0 || onDecay);
}

namespace {
double pick(const std::vector<double> &v, int phase) {
  return v.empty() ? 0.0 : v[std::min<size_t>(phase, v.size() - 1)];
}
} // namespace

double MutationSchedule::pruneSparsity(int epoch, double target) const {
  double v = pick(pruneTo, phase(epoch));
  return relative ? target + v : v;
}

double MutationSchedule::growSparsity(int epoch, double target) const {
  double v = pick(growTo, phase(epoch));
  return relative ? target + v : v;
}

double MutationSchedule::densest(int epochs, double target) const {
  double d = target;
  for (int e = 0; e < epochs; ++e)
    if (isEvent(e)) d = std::min(d, growSparsity(e, target));
  return d;
}

std::string MutationSchedule::describe() const {
  std::string s = fmt::format("{}: prune_to {} grow_to {}{} every {} decay [{}]",
                              mutationModeName(mode), fmt::join(pruneTo, "/"),
                              fmt::join(growTo, "/"), relative ? " (relative to target)" : "",
                              every, fmt::join(decayEpochs, ","));
  return s;
}

double LearningRate::at(int epoch) const {
  if (kind == LrSchedule::Step) {
    int k = static_cast<int>(std::count_if(steps.begin(), steps.end(),
                                           [&](int s) { return s <= epoch; }));
    return base * std::pow(gamma, k);
  }
  return min + (base - min) * (1.0 + std::cos(M_PI * epoch / std::max(1, epochs))) / 2.0;
}


} // namespace mest::rt
