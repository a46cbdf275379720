//===- Dataset.cpp - image classification data sets -----------------------===//
#include "runtime/driver/Dataset.h"

#include "runtime/support/Error.h"

#include <zlib.h>

#include <algorithm>
#include <sys/stat.h>

namespace mest::rt {

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// The path of `base` or `base.gz` in `dir`.
std::string findFile(const std::string &dir, const std::string &base) {
  for (const std::string &p : {dir + "/" + base, dir + "/" + base + ".gz"})
    if (exists(p)) return p;
  throw Error(fmt::format("{}/{}: no such file (nor {}.gz)", dir, base, base));
}

/// A whole file, gunzipped when compressed.
std::vector<uint8_t> readAll(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(fmt::format("{}: cannot open", path));
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) data.insert(data.end(), buf, buf + n);
  int err = 0;
  const char *msg = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    throw Error(fmt::format("{}: corrupt or truncated compressed data ({})", path, msg));
  return data;
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
  std::vector<uint8_t> img = readAll(imagesPath), lab = readAll(labelsPath);
  if (img.size() < 16 || bigEndian(img.data()) != 0x00000803)
    throw Error(fmt::format("{}: not an IDX image file (magic {:#010x}, expected 0x00000803)",
                            imagesPath, img.size() >= 4 ? bigEndian(img.data()) : 0));
  if (lab.size() < 8 || bigEndian(lab.data()) != 0x00000801)
    throw Error(fmt::format("{}: not an IDX label file (magic {:#010x}, expected 0x00000801)",
                            labelsPath, lab.size() >= 4 ? bigEndian(lab.data()) : 0));
  Dataset d;
  d.name = name;
  d.count = bigEndian(img.data() + 4);
  d.channels = 1;
  d.height = bigEndian(img.data() + 8);
  d.width = bigEndian(img.data() + 12);
  d.classes = classes;
  if (d.height <= 0 || d.width <= 0 || d.height > 4096 || d.width > 4096)
    throw Error(fmt::format("{}: implausible image size {}x{}", imagesPath, d.height, d.width));
  if (d.count == 0) throw Error(fmt::format("{}: the file holds no images", imagesPath));
  uint64_t need = 16 + uint64_t(d.count) * d.height * d.width;
  if (img.size() != need)
    throw Error(fmt::format("{}: {} bytes, expected {} for {} images of {}x{} (truncated?)",
                            imagesPath, img.size(), need, d.count, d.height, d.width));
  int64_t labels = bigEndian(lab.data() + 4);
  if (labels != d.count)
    throw Error(fmt::format("{} holds {} labels but {} holds {} images", labelsPath, labels,
                            imagesPath, d.count));
  if (lab.size() != 8 + uint64_t(labels))
    throw Error(fmt::format("{}: {} bytes, expected {} (truncated?)", labelsPath, lab.size(),
                            8 + labels));
  d.images.assign(img.begin() + 16, img.end());
  d.labels.resize(d.count);
  for (int64_t i = 0; i < d.count; ++i) {
    d.labels[i] = lab[8 + i];
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
    std::vector<uint8_t> data = readAll(path);
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
