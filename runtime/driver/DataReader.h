//===- DataReader.h - bounded reads of (gzipped) data files ----*- C++ -*-===//
#ifndef MEST_RUNTIME_DRIVER_DATAREADER_H
#define MEST_RUNTIME_DRIVER_DATAREADER_H

#include "runtime/driver/Files.h"
#include "runtime/support/Error.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unistd.h>
#include <vector>

namespace mest::rt {

/// Reads a data file, gunzipping it when compressed; refuses what is not a
/// regular file and stops at `maxBytes` of (uncompressed) data.
class DataReader {
public:
  DataReader(const std::string &path, uint64_t maxBytes) : path_(path), max_(maxBytes) {
    uint64_t size = 0;
    int fd = openRegularFile(path, "data file", kMaxCompressedBytes, &size);
    f_ = gzdopen(fd, "rb");
    if (!f_) {
      ::close(fd);
      throw Error(fmt::format("{}: cannot open: out of memory", path));
    }
  }
  ~DataReader() { gzclose(f_); }
  DataReader(const DataReader &) = delete;
  DataReader &operator=(const DataReader &) = delete;

  /// Up to `n` bytes; fewer only at the end of the data.
  size_t read(uint8_t *to, size_t n) {
    size_t got = 0;
    while (got < n) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
      int r = gzread(f_, to + got, chunk);
      if (r < 0) {
        int err = 0;
        std::string msg = gzerror(f_, &err);  // copied: gzclose frees it
        throw Error(fmt::format("{}: corrupt or truncated compressed data ({})", path_, msg));
      }
      if (r == 0) break;
      got += size_t(r);
    }
    return got;
  }
  /// The rest of the data, growing as it arrives (a header's claim allocates
  /// nothing): at most `limit` + 1 bytes, so that a caller sees data beyond an
  /// expected size; more than maxBytes is refused.
  std::vector<uint8_t> readUpTo(uint64_t limit) {
    std::vector<uint8_t> data;
    uint8_t buf[1 << 16];
    while (data.size() <= limit) {
      size_t n = read(buf, std::min<uint64_t>(sizeof buf, limit + 1 - data.size()));
      if (n == 0) break;
      data.insert(data.end(), buf, buf + n);
      if (data.size() > max_)
        throw Error(fmt::format("{}: more than {} bytes of data: not a data set file of this "
                                "kind", path_, max_));
    }
    return data;
  }

private:
  static constexpr uint64_t kMaxCompressedBytes = uint64_t(16) << 30;
  std::string path_;
  uint64_t max_;
  gzFile f_ = nullptr;
};

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_DATAREADER_H
