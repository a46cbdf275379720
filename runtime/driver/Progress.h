//===- Progress.h - a training run's progress on stderr -------------------===//
//
// One rewritten line on a terminal, a few plain lines per epoch otherwise (a
// log file). Rank 0 alone prints; --quiet silences it.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_PROGRESS_H
#define MEST_RUNTIME_DRIVER_PROGRESS_H

#include <cstdint>
#include <string>

namespace mest::rt {

/// "m:ss", or "h:mm:ss" from an hour on.
std::string formatTime(double seconds);

class Progress {
public:
  explicit Progress(bool quiet);
  /// After batch `b` of `batches` in `epoch` (from 0) of `epochs`.
  void batch(int epoch, int epochs, int64_t b, int64_t batches, double loss, double acc,
             double imgPerSec, double etaSec);
  /// Ends the terminal's progress line after an epoch's last batch.
  void endLine();
  void line(const std::string &s);

private:
  bool quiet_, tty_;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_PROGRESS_H
