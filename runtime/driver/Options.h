//===- Options.h - the training binary's command line ---------------------===//
#ifndef MEST_RUNTIME_DRIVER_OPTIONS_H
#define MEST_RUNTIME_DRIVER_OPTIONS_H

#include <cstdint>
#include <string>

namespace mest::rt {

struct Options {
  // Data.
  std::string data = "fashion-mnist";
  int64_t valSplit = 0, trainLimit = -1, testLimit = -1;
  int augment = -1;  // -1: as the data set calls for
  // Schedule.
  int epochs = 10;
  int64_t batchSize = 0;  // 0: the compiled batch
  double lr = 0.1, momentum = 0.9, weightDecay = 1e-4, lrGamma = 0.1;
  std::string lrSchedule = "cosine", lrSteps;
  uint64_t seed = 914;
  // Mutation.
  std::string mutation = "auto";  // auto: ems when the capacity allows it, else em
  std::string pruneTo, growTo, decayEpochs;
  int mutateEvery = 0;
  // Data efficiency.
  int removeEpoch = -1;
  std::string remove;  // N or a fraction like 0.2
  std::string forgettingStats;
  std::string report;  // print the statistics of a file, and plot
  std::string plot;
  // Run.
  int threads = 0;
  std::string out = "runs/latest";
  int checkpointEvery = 1;
  bool resume = false;
  std::string resumeFrom, evalOnly, exportPath;
  bool quiet = false;
};

/// Parses argv; prints --help and exits 0 when asked. Throws Error on bad input.
Options parseOptions(int argc, char **argv, const char *modelName, int64_t batch);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_OPTIONS_H
