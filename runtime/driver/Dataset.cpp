//===- Dataset.cpp - image classification data sets -----------------------===//
#include "runtime/driver/Dataset.h"

#include "runtime/driver/Files.h"
#include "runtime/support/Error.h"

#include <zlib.h>

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

namespace mest::rt {

namespace {

/// The path of `base` or `base.gz` in `dir`.
std::string findFile(const std::string &dir, const std::string &base) {
  struct stat st;
  for (const std::string &p : {dir + "/" + base, dir + "/" + base + ".gz"})
    if (::stat(p.c_str(), &st) == 0) return p;  // what it is, openRegularFile checks
  throw Error(fmt::format("{}/{}: no such file (nor {}.gz)", dir, base, base));
}

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

uint32_t bigEndian(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

} // namespace

DataSource parseDataSource(const std::string &text) {
  DataSource s;
  auto colon = text.find(':');
  s.kind = text.substr(0, colon);
  if (colon != std::string::npos) s.dir = text.substr(colon + 1);
  if (s.kind == "fashion-mnist") {
    if (s.dir.empty()) s.dir = "/usr/share/datasets/fashion-mnist";
    s.mean[0] = 0.2860f, s.stddev[0] = 0.3530f;
  } else if (s.kind == "mnist") {
    s.mean[0] = 0.1307f, s.stddev[0] = 0.3081f;
  } else if (s.kind == "cifar10") {
    const float m[3] = {0.4914f, 0.4822f, 0.4465f}, d[3] = {0.2023f, 0.1994f, 0.2010f};
    std::copy(m, m + 3, s.mean), std::copy(d, d + 3, s.stddev);
    s.augment = true;
  } else if (s.kind == "cifar100") {
    const float m[3] = {0.5071f, 0.4865f, 0.4409f}, d[3] = {0.2673f, 0.2564f, 0.2762f};
    std::copy(m, m + 3, s.mean), std::copy(d, d + 3, s.stddev);
    s.augment = true;
  } else {
    throw Error(fmt::format("--data: unknown data set '{}', expected fashion-mnist[:DIR], "
                            "mnist:DIR, cifar10:DIR or cifar100:DIR", s.kind));
  }
  if (s.dir.empty())
    throw Error(fmt::format("--data {}: give the directory, e.g. --data {}:/path/to/files",
                            s.kind, s.kind));
  return s;
}

Dataset loadIdx(const std::string &imagesPath, const std::string &labelsPath, int64_t classes,
                const std::string &name) {
  // The headers first: they give the sizes, so nothing beyond them is read.
  constexpr uint64_t kMaxImageBytes = uint64_t(16) << 30;
  DataReader img(imagesPath, kMaxImageBytes), lab(labelsPath, kMaxImageBytes);
  uint8_t ih[16], lh[8];
  size_t ihn = img.read(ih, 16), lhn = lab.read(lh, 8);
  if (ihn < 16)
    throw Error(fmt::format("{}: not an IDX image file: {} bytes, shorter than the 16-byte "
                            "header", imagesPath, ihn));
  if (bigEndian(ih) != 0x00000803)
    throw Error(fmt::format("{}: not an IDX image file (magic {:#010x}, expected 0x00000803)",
                            imagesPath, bigEndian(ih)));
  if (lhn < 8)
    throw Error(fmt::format("{}: not an IDX label file: {} bytes, shorter than the 8-byte "
                            "header", labelsPath, lhn));
  if (bigEndian(lh) != 0x00000801)
    throw Error(fmt::format("{}: not an IDX label file (magic {:#010x}, expected 0x00000801)",
                            labelsPath, bigEndian(lh)));
  Dataset d;
  d.name = name;
  d.count = bigEndian(ih + 4);
  d.channels = 1;
  d.height = bigEndian(ih + 8);
  d.width = bigEndian(ih + 12);
  d.classes = classes;
  if (d.height <= 0 || d.width <= 0 || d.height > 4096 || d.width > 4096)
    throw Error(fmt::format("{}: implausible image size {}x{}", imagesPath, d.height, d.width));
  if (d.count == 0) throw Error(fmt::format("{}: the file holds no images", imagesPath));
  const uint64_t pixels = uint64_t(d.count) * d.height * d.width, need = 16 + pixels;
  if (pixels > kMaxImageBytes)
    throw Error(fmt::format("{}: the header claims {} images of {}x{} ({} bytes), more than "
                            "this loader takes ({} bytes)",
                            imagesPath, d.count, d.height, d.width, pixels, kMaxImageBytes));
  d.images = img.readUpTo(pixels);
  if (d.images.size() != pixels)
    throw Error(fmt::format("{}: {} bytes, expected {} for {} images of {}x{} (truncated?)",
                            imagesPath, d.images.size() > pixels ? fmt::format("more than {}", need)
                                                                 : fmt::format("{}", 16 + d.images.size()),
                            need, d.count, d.height, d.width));
  int64_t labels = bigEndian(lh + 4);
  if (labels != d.count)
    throw Error(fmt::format("{} holds {} labels but {} holds {} images", labelsPath, labels,
                            imagesPath, d.count));
  std::vector<uint8_t> lab8 = lab.readUpTo(uint64_t(labels));
  if (lab8.size() != uint64_t(labels))
    throw Error(fmt::format("{}: {} bytes, expected {} (truncated?)", labelsPath,
                            lab8.size() > uint64_t(labels) ? fmt::format("more than {}", 8 + labels)
                                                           : fmt::format("{}", 8 + lab8.size()),
                            8 + labels));
  d.labels.resize(d.count);
  for (int64_t i = 0; i < d.count; ++i) {
    d.labels[i] = lab8[i];
    if (d.labels[i] >= classes)
      throw Error(fmt::format("{}: label {} of example {} is out of range [0, {})", labelsPath,
                              d.labels[i], i, classes));
  }
  return d;
}

Dataset loadCifar(const std::vector<std::string> &files, bool hundred, const std::string &name) {
  Dataset d;
  d.name = name;
  d.channels = 3, d.height = 32, d.width = 32;
  d.classes = hundred ? 100 : 10;
  const int64_t header = hundred ? 2 : 1, record = header + 3072;
  for (const std::string &path : files) {
    // CIFAR-100's train.bin, the largest file of either set, is 154 MB.
    constexpr uint64_t kMax = uint64_t(1) << 30;
    std::vector<uint8_t> data = DataReader(path, kMax).readUpTo(kMax);
    if (data.empty() || data.size() % record != 0)
      throw Error(fmt::format("{}: {} bytes is not a whole number of {}-byte CIFAR records",
                              path, data.size(), record));
    for (size_t at = 0; at < data.size(); at += record) {
      int32_t label = data[at + header - 1];  // CIFAR-100: the fine label
      if (label >= d.classes)
        throw Error(fmt::format("{}: label {} of record {} is out of range [0, {})", path, label,
                                at / record, d.classes));
      d.labels.push_back(label);
      d.images.insert(d.images.end(), data.begin() + at + header, data.begin() + at + record);
    }
  }
  d.count = static_cast<int64_t>(d.labels.size());
  if (d.count == 0) throw Error(fmt::format("{}: no examples", name));
  return d;
}

namespace {
Dataset load(const DataSource &s, bool train) {
  const std::string part = train ? "train" : "test";
  if (s.kind == "fashion-mnist" || s.kind == "mnist") {
    std::string prefix = train ? "train" : "t10k";
    return loadIdx(findFile(s.dir, prefix + "-images-idx3-ubyte"),
                   findFile(s.dir, prefix + "-labels-idx1-ubyte"), 10, s.kind + " " + part);
  }
  std::vector<std::string> files;
  if (s.kind == "cifar10") {
    if (train)
      for (int i = 1; i <= 5; ++i) files.push_back(findFile(s.dir, fmt::format("data_batch_{}.bin", i)));
    else
      files.push_back(findFile(s.dir, "test_batch.bin"));
  } else {
    files.push_back(findFile(s.dir, train ? "train.bin" : "test.bin"));
  }
  return loadCifar(files, s.kind == "cifar100", s.kind + " " + part);
}
} // namespace

Dataset loadTrainSet(const DataSource &src) { return load(src, true); }
Dataset loadTestSet(const DataSource &src) { return load(src, false); }

void truncate(Dataset &d, int64_t n) {
  if (n < 0 || n >= d.count) return;
  d.count = n;
  d.images.resize(n * d.imageBytes());
  d.labels.resize(n);
}

Dataset splitValidation(Dataset &train, int64_t n) {
  if (n <= 0 || n >= train.count)
    throw Error(fmt::format("--val-split {}: must be between 1 and {} (the training examples)",
                            n, train.count - 1));
  Dataset v = train;
  v.name = train.name + " (validation)";
  v.count = n;
  v.images.assign(train.images.end() - n * train.imageBytes(), train.images.end());
  v.labels.assign(train.labels.end() - n, train.labels.end());
  truncate(train, train.count - n);
  return v;
}

void makeBatch(const Dataset &d, const DataSource &src, const int64_t *index, int64_t n,
               bool augment, Rng &rng, float *x, int32_t *y) {
  const int64_t C = d.channels, H = d.height, W = d.width, pad = 4;
  for (int64_t b = 0; b < n; ++b) {
    const uint8_t *img = d.images.data() + index[b] * d.imageBytes();
    y[b] = d.labels[index[b]];
    int64_t dy = 0, dx = 0;
    bool flip = false;
    if (augment) {
      dy = int64_t(rng.below(2 * pad + 1)) - pad;
      dx = int64_t(rng.below(2 * pad + 1)) - pad;
      flip = rng.below(2) == 1;
    }
    for (int64_t c = 0; c < C; ++c) {
      const float scale = 1.0f / (255.0f * src.stddev[c]), shift = src.mean[c] / src.stddev[c];
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) {
          int64_t si = i + dy, sj = (flip ? W - 1 - j : j) + dx;
          float v = (si < 0 || si >= H || sj < 0 || sj >= W)
                        ? -shift  // zero padding before normalisation
                        : img[(c * H + si) * W + sj] * scale - shift;
          x[((b * C + c) * H + i) * W + j] = v;
        }
    }
  }
}

} // namespace mest::rt
