//===- Evaluation.h - accuracy and loss of a model on a data set ----------===//
#ifndef MEST_RUNTIME_DRIVER_EVALUATION_H
#define MEST_RUNTIME_DRIVER_EVALUATION_H

#include "runtime/driver/Dataset.h"
#include "runtime/driver/Distributed.h"
#include "runtime/driver/Model.h"

namespace mest::rt {

struct EvalResult {
  double accuracy = 0.0, loss = 0.0;
};

/// Accuracy and loss on `data` through the eval step; data-parallel replicas
/// each take every K-th batch and sum their results (the running statistics
/// are equal on all).
EvalResult evaluate(Model &model, const Dataset &data, const DataSource &src,
                    Replicas &replicas = Replicas::current());

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_EVALUATION_H
