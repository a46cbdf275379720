//===- Dataset.cpp - image classification data sets -----------------------===//
#include "runtime/driver/Dataset.h"

#include "runtime/driver/DataReader.h"
#include "runtime/driver/Files.h"
#include "runtime/driver/Npy.h"
#include "runtime/support/Error.h"

#include <zlib.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
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
  } else if (s.kind != "npy") {  // npy: uint8 scaled to [0, 1], floats as given
    throw Error(fmt::format("--data: unknown data set '{}', expected fashion-mnist[:DIR], "
                            "mnist:DIR, cifar10:DIR, cifar100:DIR or npy:DIR", s.kind));
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

Dataset loadNpyImages(const std::string &xPath, const int64_t expect[3]) {
  NpyArray x = readNpy(xPath, uint64_t(16) << 30);
  Dataset d;
  d.name = xPath;
  if (x.shape.size() != 3 && x.shape.size() != 4)
    throw Error(fmt::format("{}: images of shape ({}): expected [N, C, H, W], [N, H, W, C] or "
                            "[N, H, W]",
                            xPath, fmt::join(x.shape, ", ")));
  if (x.kind != 'u' && x.kind != 'f')
    throw Error(fmt::format("{}: images of dtype {}: expected uint8, float32 or float64", xPath,
                            x.dtype()));
  if (x.kind == 'u' && x.itemBytes != 1)
    throw Error(fmt::format("{}: images of dtype {}: expected uint8, float32 or float64", xPath,
                            x.dtype()));
  const int64_t N = x.shape[0];
  if (N == 0) throw Error(fmt::format("{}: no examples", xPath));
  // [N, H, W, C]: what the model takes, in that order; without a model, when
  // the last dimension looks like channels and the second does not.
  const bool known = expect && expect[0] > 0;
  const bool nhwc =
      x.shape.size() == 4 &&
      (known ? x.shape[1] == expect[1] && x.shape[2] == expect[2] && x.shape[3] == expect[0] &&
                   !(x.shape[1] == expect[0] && x.shape[2] == expect[1] && x.shape[3] == expect[2])
             : x.shape[3] <= 4 && x.shape[1] > 4);
  d.count = N;
  d.channels = x.shape.size() == 3 ? 1 : nhwc ? x.shape[3] : x.shape[1];
  d.height = x.shape.size() == 3 ? x.shape[1] : nhwc ? x.shape[1] : x.shape[2];
  d.width = x.shape.size() == 3 ? x.shape[2] : nhwc ? x.shape[2] : x.shape[3];
  const int64_t C = d.channels, H = d.height, W = d.width, plane = H * W;
  // Element of image n, channel c, position p in the file's layout.
  auto source = [&](int64_t n, int64_t c, int64_t p) {
    return n * C * plane + (nhwc ? p * C + c : c * plane + p);
  };
  if (x.kind == 'u')
    d.images.resize(N * C * plane);
  else
    d.values.resize(N * C * plane);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        const int64_t to = (n * C + c) * plane + p, from = source(n, c, p);
        if (x.kind == 'u') {
          d.images[to] = x.data[from];
        } else {
          double v = x.real(from);
          if (!std::isfinite(v))
            throw Error(fmt::format("{}: image {} holds a non-finite value ({})", xPath, n, v));
          d.values[to] = float(v);
        }
      }
  d.labels.assign(N, 0);
  return d;
}

Dataset loadNpy(const std::string &dir, const std::string &part, int64_t classes,
                const int64_t expect[3]) {
  const std::string xPath = findFile(dir, "x_" + part + ".npy"),
                    yPath = findFile(dir, "y_" + part + ".npy");
  Dataset d = loadNpyImages(xPath, expect);
  d.name = "npy " + part;
  d.classes = classes;
  NpyArray y = readNpy(yPath, uint64_t(1) << 32);
  const int64_t N = d.count;
  if (y.shape.size() != 1 || (y.kind != 'u' && y.kind != 'i'))
    throw Error(fmt::format("{}: labels must be integers of shape [N], got {} of shape ({})",
                            yPath, y.dtype(), fmt::join(y.shape, ", ")));
  if (y.shape[0] != N)
    throw Error(fmt::format("{} holds {} images but {} holds {} labels", xPath, N, yPath,
                            y.shape[0]));
  d.labels.resize(N);
  for (int64_t n = 0; n < N; ++n) {
    int64_t label = y.integer(n);
    if (label < 0 || (classes > 0 && label >= classes))
      throw Error(fmt::format("{}: label {} of example {} is outside [0, {})", yPath, label, n,
                              classes));
    d.labels[n] = static_cast<int32_t>(label);
  }
  return d;
}

namespace {
Dataset load(const DataSource &s, bool train) {
  const std::string part = train ? "train" : "test";
  if (s.kind == "npy") return loadNpy(s.dir, part, s.classes, s.shape);
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
  (d.isFloat() ? d.values.resize(n * d.imageBytes()) : d.images.resize(n * d.imageBytes()));
  d.labels.resize(n);
}

Dataset splitValidation(Dataset &train, int64_t n) {
  if (n <= 0 || n >= train.count)
    throw Error(fmt::format("--val-split {}: must be between 1 and {} (the training examples)",
                            n, train.count - 1));
  Dataset v = train;
  v.name = train.name + " (validation)";
  v.count = n;
  if (train.isFloat())
    v.values.assign(train.values.end() - n * train.imageBytes(), train.values.end());
  else
    v.images.assign(train.images.end() - n * train.imageBytes(), train.images.end());
  v.labels.assign(train.labels.end() - n, train.labels.end());
  truncate(train, train.count - n);
  return v;
}

void makeBatch(const Dataset &d, const DataSource &src, const int64_t *index, int64_t n,
               bool augment, Rng &rng, float *x, int32_t *y) {
  const int64_t C = d.channels, H = d.height, W = d.width, pad = 4;
  for (int64_t b = 0; b < n; ++b) {
    const int64_t at = index[b] * d.imageBytes();
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
      // Float data is used as given (normalised by the user); padding is 0.
      auto pixel = [&](int64_t k) {
        return d.isFloat() ? d.values[at + k] : d.images[at + k] * scale - shift;
      };
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) {
          int64_t si = i + dy, sj = (flip ? W - 1 - j : j) + dx;
          float v = (si < 0 || si >= H || sj < 0 || sj >= W)
                        ? (d.isFloat() ? 0.0f : -shift)  // zero padding before normalisation
                        : pixel((c * H + si) * W + sj);
          x[((b * C + c) * H + i) * W + j] = v;
        }
    }
  }
}

} // namespace mest::rt
