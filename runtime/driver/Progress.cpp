//===- Progress.cpp - a training run's progress on stderr -----------------===//
#include "runtime/driver/Progress.h"

#include "runtime/support/Error.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace mest::rt {

std::string formatTime(double s) {
  int t = static_cast<int>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

Progress::Progress(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}

void Progress::batch(int epoch, int epochs, int64_t b, int64_t batches, double loss, double acc,
                     double imgPerSec, double etaSec) {
  if (quiet_) return;
  if (tty_) {
    int filled = static_cast<int>(20.0 * (b + 1) / batches);
    std::fprintf(stderr,
                 "\repoch %d/%d [%-20s] %lld/%lld loss %.4f acc %5.1f%% %6.0f img/s left %s   ",
                 epoch + 1, epochs, std::string(filled, '=').c_str(),
                 static_cast<long long>(b + 1), static_cast<long long>(batches), loss, 100 * acc,
                 imgPerSec, formatTime(etaSec).c_str());
  } else if ((b + 1) % std::max<int64_t>(1, batches / 4) == 0 || b + 1 == batches) {
    std::fprintf(stderr, "epoch %d/%d batch %lld/%lld loss %.4f acc %.1f%% %.0f img/s left %s\n",
                 epoch + 1, epochs, static_cast<long long>(b + 1),
                 static_cast<long long>(batches), loss, 100 * acc, imgPerSec,
                 formatTime(etaSec).c_str());
  }
}

void Progress::endLine() {
  if (!quiet_ && tty_) std::fprintf(stderr, "\n");
}

void Progress::line(const std::string &s) {
  if (!quiet_) std::fprintf(stderr, "%s\n", s.c_str());
}

} // namespace mest::rt
