//===- Options.h - the training binary's command line ---------------------===//
//
// Every option is parsed and range-checked here, before any work starts: a
// value that is not finite, out of range, or would overflow is refused with the
// option's name. Checks that need the data or the file system (how many
// examples --remove leaves, whether --out is writable) run in the trainer, still
// before the first epoch.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_OPTIONS_H
#define MEST_RUNTIME_DRIVER_OPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

namespace mest::rt {

/// --remove N|FRACTION: a count of examples or a fraction in (0, 1).
struct RemoveAmount {
  bool isFraction = false;
  double fraction = 0.0;
  int64_t count = 0;
  /// The number of examples to drop out of `examples`.
  int64_t of(int64_t examples) const;
};

/// Parses --remove's value; throws Error naming the option.
RemoveAmount parseRemoveAmount(const std::string &text);

struct Options {
  // Data.
  std::string data = "fashion-mnist";
  bool dataGiven = false;  // --data on the command line (else --predict takes the model's)
  int64_t valSplit = 0, trainLimit = -1, testLimit = -1;
  int augment = -1;  // -1: as the data set calls for
  // Schedule.
  int epochs = 10;
  int64_t batchSize = 0;  // 0: the compiled batch
  double lr = 0.1, momentum = 0.9, weightDecay = 1e-4, lrGamma = 0.1;
  std::string lrSchedule = "cosine", lrSteps;
  std::vector<int> lrStepList;  // parsed --lr-steps
  uint64_t seed = 914;
  // Mutation.
  std::string mutation = "auto";  // auto: ems when the capacity allows it, else em
  std::string pruneTo, growTo, decayEpochs;  // as given (the checkpoint's config key)
  std::vector<double> pruneToList, growToList;
  std::vector<int> decayEpochList;
  int mutateEvery = 0;
  // Data efficiency.
  int removeEpoch = -1;
  std::string remove;  // N or a fraction like 0.2, as given
  RemoveAmount removeAmount;
  std::string forgettingStats;
  std::string report;  // print the statistics of a file, and plot
  std::string plot;
  // Run.
  int threads = 0;
  std::string out = "runs/latest";
  int checkpointEvery = 1;
  bool resume = false;
  std::string resumeFrom, evalOnly, exportPath;
  // Inference: logits of a trained model (--model) for the images of --predict.
  std::string predict, modelFile, logits;
  // Initial weights (.npy files, runtime/driver/InitialWeights.h) instead of fresh ones.
  std::string init;
  // --export-onnx FILE: the model (--model or --init) as ONNX (runtime/driver/OnnxExport.h).
  std::string exportOnnx;
  bool sparseInitializers = false;
  bool quiet = false;
  // Data-parallel training (mpirun): batch norm over the global batch.
  bool syncBatchNorm = true;
  // Seconds a rank waits in a collective before it ends the job (0: for ever).
  int rankTimeout = 300;
};

/// Longest --rank-timeout: a day.
constexpr int kMaxRankTimeout = 86400;

/// Most epochs a run may ask for (the schedule checks are linear in it).
constexpr int kMaxEpochs = 100000;

/// Parses argv; prints --help and exits 0 when asked. Throws Error on bad input.
/// `cores` bounds --threads to 4 x cores (0: no bound).
/// `plan` (if any) is a line on the compiled model's memory that --help prints.
Options parseOptions(int argc, char **argv, const char *modelName, int64_t batch, int cores = 0,
                     const std::string &plan = "");

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_OPTIONS_H
