//===- Evaluation.cpp - accuracy and loss of a model on a data set --------===//
#include "runtime/driver/Evaluation.h"

#include <algorithm>
#include <vector>

namespace mest::rt {

EvalResult evaluate(Model &model, const Dataset &data, const DataSource &src,
                    Replicas &replicas) {
  const mest_model_desc &d = model.desc();
  const int64_t B = d.batch;
  std::vector<float> x(B * d.in_channels * d.in_height * d.in_width), loss(B), margin(B);
  std::vector<int32_t> y(B);
  std::vector<uint8_t> correct(B);
  std::vector<int64_t> index(B);
  Rng unused(0);
  EvalResult r;
  const int64_t stride = B * replicas.size();
  for (int64_t at = B * replicas.rank(); at < data.count; at += stride) {
    const int64_t n = std::min(B, data.count - at);
    for (int64_t i = 0; i < B; ++i) index[i] = at + (i < n ? i : 0);  // pad the last batch
    makeBatch(data, src, index.data(), B, false, unused, x.data(), y.data());
    mest_model_eval_step(model.state(), model.arena(), x.data(), y.data(), loss.data(),
                         correct.data(), margin.data());
    for (int64_t i = 0; i < n; ++i) r.accuracy += correct[i], r.loss += loss[i];
  }
  if (!replicas.alone()) {
    double sums[2] = {r.accuracy, r.loss};
    replicas.sum(sums, 2, "the evaluation sums");
    r.accuracy = sums[0], r.loss = sums[1];
  }
  r.accuracy /= double(data.count);
  r.loss /= double(data.count);
  return r;
}

} // namespace mest::rt
