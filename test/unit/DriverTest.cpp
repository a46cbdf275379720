// The training driver's parts: data loaders on files the tests write (good and
// corrupt), batches, mutation and learning-rate schedules, checkpoints.
#include "runtime/driver/Checkpoint.h"
#include "runtime/driver/Dataset.h"
#include "runtime/driver/Files.h"
#include "runtime/driver/Forgetting.h"
#include "runtime/driver/Schedule.h"
#include "runtime/formats/CompressedWeights.h"
#include "runtime/mutation/Mutation.h"
#include "runtime/support/Error.h"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace mest::rt;

namespace {

std::string tempDir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/mest-driver-test-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes, bool gz = false) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return;
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

void be32(std::vector<uint8_t> &v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

/// IDX files of `n` images of h x w (pixel = index + row) and labels i % 10.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> idx(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> img, lab;
  be32(img, 0x803), be32(img, n), be32(img, h), be32(img, w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t p = 0; p < h * w; ++p) img.push_back(uint8_t(i + p / w));
  be32(lab, 0x801), be32(lab, n);
  for (uint32_t i = 0; i < n; ++i) lab.push_back(uint8_t(i % 10));
  return {img, lab};
}

/// An IDX image file of 200 28x28 images, gzipped, then cut in half.
void writeCutGzip(const std::string &path) {
  auto [big, bigLab] = idx(200, 28, 28);
  writeFile(path, big, true);
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> gz((std::istreambuf_iterator<char>(in)), {});
  gz.resize(gz.size() / 2);
  writeFile(path, gz);
}

} // namespace

TEST_CASE("IDX loader reads plain and gzipped files", "[driver][data]") {
  auto [img, lab] = idx(5, 3, 4);
  std::string d = tempDir();
  writeFile(d + "/a-img", img), writeFile(d + "/a-lab", lab);
  writeFile(d + "/b-img.gz", img, true), writeFile(d + "/b-lab.gz", lab, true);
  for (auto [i, l] : {std::pair{d + "/a-img", d + "/a-lab"}, {d + "/b-img.gz", d + "/b-lab.gz"}}) {
    Dataset ds = loadIdx(i, l, 10, "t");
    CHECK(ds.count == 5);
    CHECK(ds.height == 3);
    CHECK(ds.width == 4);
    CHECK(ds.labels == std::vector<int32_t>{0, 1, 2, 3, 4});
    CHECK(ds.images[2 * 12 + 5] == 2 + 1);  // image 2, row 1
  }
}

TEST_CASE("IDX loader names the file and the problem", "[driver][data]") {
  std::string d = tempDir();
  auto [img, lab] = idx(4, 2, 2);
  writeFile(d + "/ok-img", img), writeFile(d + "/ok-lab", lab);
  auto bad = [&](const std::string &name, std::vector<uint8_t> bytes, bool isImage) {
    writeFile(d + "/" + name, bytes);
    return isImage ? d + "/" + name : d + "/" + name;
  };
  std::vector<uint8_t> magic = img;
  magic[3] = 0x02;
  CHECK_THROWS_WITH(loadIdx(bad("magic", magic, true), d + "/ok-lab", 10, "t"),
                    Catch::Contains("magic") && Catch::Contains("/magic: not an IDX image file"));
  std::vector<uint8_t> shortImg(img.begin(), img.end() - 3);
  CHECK_THROWS_WITH(loadIdx(bad("short", shortImg, true), d + "/ok-lab", 10, "t"),
                    Catch::Contains("/short: ") && Catch::Contains("truncated"));
  auto [img5, lab5] = idx(5, 2, 2);
  CHECK_THROWS_WITH(loadIdx(d + "/ok-img", bad("lab5", lab5, false), 10, "t"),
                    Catch::Contains("holds 5 labels but") && Catch::Contains("holds 4 images"));
  std::vector<uint8_t> range = lab;
  range.back() = 12;
  CHECK_THROWS_WITH(loadIdx(d + "/ok-img", bad("range", range, false), 10, "t"),
                    Catch::Contains("/range: label 12 of example 3 is out of range [0, 10)"));
  auto [img0, lab0] = idx(0, 2, 2);
  CHECK_THROWS_WITH(loadIdx(bad("empty", img0, true), bad("empty-lab", lab0, false), 10, "t"),
                    Catch::Contains("/empty: the file holds no images"));
  CHECK_THROWS_WITH(loadIdx(d + "/missing", d + "/ok-lab", 10, "t"),
                    Catch::Contains("/missing: cannot open"));
  // A gzip stream cut in the middle.
  writeCutGzip(d + "/cut.gz");
  CHECK_THROWS_WITH(loadIdx(d + "/cut.gz", d + "/ok-lab", 10, "t"),
                    Catch::Contains("/cut.gz: "));
  CHECK_THROWS_WITH(parseDataSource("imagenet"), Catch::Contains("unknown data set 'imagenet'"));
  CHECK_THROWS_WITH(parseDataSource("mnist"), Catch::Contains("give the directory"));
  CHECK(parseDataSource("fashion-mnist").dir == "/usr/share/datasets/fashion-mnist");
}

TEST_CASE("CIFAR loader reads records and rejects partial ones", "[driver][data]") {
  std::string d = tempDir();
  std::vector<uint8_t> rec;
  for (int r = 0; r < 3; ++r) {
    rec.push_back(uint8_t(r));
    for (int i = 0; i < 3072; ++i) rec.push_back(uint8_t(i % 251));
  }
  writeFile(d + "/c10.bin", rec);
  Dataset ds = loadCifar({d + "/c10.bin"}, false, "c");
  CHECK(ds.count == 3);
  CHECK(ds.labels == std::vector<int32_t>{0, 1, 2});
  CHECK(ds.images[3072 + 1024] == 1024 % 251);  // image 1, green plane
  rec.pop_back();
  writeFile(d + "/bad.bin", rec);
  CHECK_THROWS_WITH(loadCifar({d + "/bad.bin"}, false, "c"),
                    Catch::Contains("/bad.bin: 9218 bytes is not a whole number of 3073-byte"));
}

TEST_CASE("batches are normalised; augmentation crops and flips", "[driver][data]") {
  Dataset ds;
  ds.count = 1, ds.channels = 1, ds.height = 2, ds.width = 3, ds.classes = 10;
  ds.images = {0, 51, 102, 153, 204, 255};
  ds.labels = {7};
  DataSource src;
  src.mean[0] = 0.5f, src.stddev[0] = 0.25f;
  int64_t index = 0;
  float x[6];
  int32_t y;
  Rng rng(1);
  makeBatch(ds, src, &index, 1, false, rng, x, &y);
  CHECK(y == 7);
  CHECK(x[0] == Approx((0.0 - 0.5) / 0.25));
  CHECK(x[5] == Approx((1.0 - 0.5) / 0.25));
  CHECK(x[1] == Approx((0.2 - 0.5) / 0.25));
  // With augmentation every output is a shifted/flipped pixel or padding.
  bool sawFlipOrShift = false;
  for (int t = 0; t < 20; ++t) {
    makeBatch(ds, src, &index, 1, true, rng, x, &y);
    sawFlipOrShift |= x[0] != Approx((0.0 - 0.5) / 0.25);
  }
  CHECK(sawFlipOrShift);
}

TEST_CASE("mutation schedule: phases, events and the spec's sparsity trajectories",
          "[driver][schedule]") {
  MutationSchedule ems = MutationSchedule::defaults(MutationMode::Ems, 160);
  CHECK(ems.decayEpochs == std::vector<int>{90, 120});
  CHECK(ems.every == 5);
  CHECK(ems.phase(0) == 0);
  CHECK(ems.phase(89) == 0);
  CHECK(ems.phase(90) == 1);
  CHECK(ems.phase(120) == 2);
  CHECK(ems.isEvent(0));
  CHECK(ems.isEvent(115));
  CHECK_FALSE(ems.isEvent(117));
  CHECK(ems.isEvent(120));
  CHECK_FALSE(ems.isEvent(125));  // the mask is frozen after the last decay epoch
  CHECK(ems.pruneSparsity(0, 0.9) == Approx(0.90));
  CHECK(ems.growSparsity(0, 0.9) == Approx(0.85));
  CHECK(ems.growSparsity(90, 0.9) == Approx(0.875));
  CHECK(ems.growSparsity(120, 0.9) == Approx(0.90));
  CHECK(ems.densest(160, 0.9) == Approx(0.85));
  MutationSchedule em = MutationSchedule::defaults(MutationMode::Em, 160);
  CHECK(em.pruneSparsity(0, 0.9) == Approx(0.92));
  CHECK(em.pruneSparsity(100, 0.9) == Approx(0.91));
  CHECK(em.pruneSparsity(150, 0.9) == Approx(0.90));
  CHECK(em.densest(160, 0.9) == Approx(0.90));
  MutationSchedule mest = MutationSchedule::defaults(MutationMode::Mest, 160);
  CHECK(mest.pruneSparsity(130, 0.9) == Approx(0.92));
  CHECK_FALSE(MutationSchedule::defaults(MutationMode::None, 160).isEvent(0));

  // Applied to a layer: EM stays at 0.90 after every event; EM&S goes 0.85 ->
  // 0.875 -> 0.90 after the events at the decay epochs.
  auto trajectory = [](const MutationSchedule &s) {
    WeightSpec spec;
    spec.name = "t", spec.shape = {40, 50, 1, 1}, spec.scheme = Scheme::Unstructured;
    spec.target = 0.9, spec.capacity = 0.85;
    CompressedWeights w(spec);
    MutationScratch scratch({&w});
    Rng rng(3);
    initialize(w, 1.0, rng, scratch);
    std::vector<double> after;
    for (int e = 0; e < 160; ++e)
      if (s.isEvent(e)) {
        prune(w, s.pruneSparsity(e, 0.9), scratch);
        grow(w, s.growSparsity(e, 0.9), rng, scratch);
        after.push_back(w.sparsity());
      }
    return after;
  };
  for (double v : trajectory(em)) CHECK(v == Approx(0.90));
  std::vector<double> t = trajectory(ems);
  REQUIRE(t.size() == 25);  // epochs 0, 5, ..., 120
  CHECK(t[0] == Approx(0.85));
  CHECK(t[17] == Approx(0.85));   // epoch 85
  CHECK(t[18] == Approx(0.875));  // epoch 90
  CHECK(t[23] == Approx(0.875));  // epoch 115
  CHECK(t[24] == Approx(0.90));   // epoch 120
  // A short run keeps the last decay epoch inside it, so the budget is met.
  MutationSchedule shortRun = MutationSchedule::defaults(MutationMode::Ems, 3);
  CHECK(shortRun.growSparsity(2, 0.9) == Approx(0.9));
  CHECK(shortRun.isEvent(2));
}

TEST_CASE("learning rate: cosine annealing and steps", "[driver][schedule]") {
  LearningRate lr;
  lr.base = 0.1, lr.epochs = 160;
  CHECK(lr.at(0) == Approx(0.1));
  CHECK(lr.at(80) == Approx(0.05).epsilon(1e-6));
  CHECK(lr.at(160) == Approx(4e-8));
  lr.kind = LrSchedule::Step, lr.steps = {80, 120};
  CHECK(lr.at(79) == Approx(0.1));
  CHECK(lr.at(80) == Approx(0.01));
  CHECK(lr.at(130) == Approx(0.001));
}

TEST_CASE("checkpoints round-trip and refuse corrupt, truncated or foreign files",
          "[driver][checkpoint]") {
  std::string path = tempDir() + "/ck.mest";
  CheckpointFile f;
  f.kind = FileKind::Checkpoint;
  f.fingerprint = 0x1234;
  std::vector<uint8_t> state(1000);
  for (size_t i = 0; i < state.size(); ++i) state[i] = uint8_t(i * 7);
  f.put("STAT", state.data(), state.size());
  f.putValue("RUN", 42);
  writeCheckpoint(path, f);
  CHECK(access((path + ".tmp." + std::to_string(getpid())).c_str(), F_OK) != 0);
  CheckpointFile g = readCheckpoint(path, FileKind::Checkpoint, 0x1234);
  CHECK(g.get("STAT", 1000, path) == state);
  CHECK(g.sections.at("RUN").size() == sizeof(int));

  CHECK_THROWS_WITH(readCheckpoint(path, FileKind::Checkpoint, 0x9999),
                    Catch::Contains("made for another model"));
  CHECK_THROWS_WITH(readCheckpoint(path, FileKind::Model, 0x1234),
                    Catch::Contains("is a mest checkpoint file, expected a model"));
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 10);
  writeFile(path + ".cut", cut);
  CHECK_THROWS_WITH(readCheckpoint(path + ".cut", FileKind::Checkpoint, 0x1234),
                    Catch::Contains("truncated"));
  std::vector<uint8_t> flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  writeFile(path + ".bad", flipped);
  CHECK_THROWS_WITH(readCheckpoint(path + ".bad", FileKind::Checkpoint, 0x1234),
                    Catch::Contains("checksum mismatch"));
  writeFile(path + ".junk", {1, 2, 3});
  CHECK_THROWS_WITH(readCheckpoint(path + ".junk", FileKind::Checkpoint, 0x1234),
                    Catch::Contains("not a mest checkpoint file"));
  CHECK_THROWS_WITH(g.get("NOPE", 4, path), Catch::Contains("section 'NOPE' is missing"));
}

TEST_CASE("data files that are not regular files, or too short, are named as such",
          "[driver][data]") {
  std::string d = tempDir();
  auto [img, lab] = idx(4, 2, 2);
  writeFile(d + "/r-lab", lab);
  ::mkdir((d + "/a-dir").c_str(), 0755);
  CHECK_THROWS_WITH(loadIdx(d + "/a-dir", d + "/r-lab", 10, "t"),
                    Catch::Contains("/a-dir: is a directory, expected a data file"));
  std::string fifo = d + "/a-fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK_THROWS_WITH(loadIdx(fifo, d + "/r-lab", 10, "t"), Catch::Contains("is a FIFO"));
  CHECK_THROWS_WITH(loadIdx("/dev/zero", d + "/r-lab", 10, "t"), Catch::Contains("is a device"));
  // A file with the right magic but cut inside the header (it used to read
  // "magic 0x00000803, expected 0x00000803").
  std::vector<uint8_t> head(img.begin(), img.begin() + 10);
  writeFile(d + "/head", head);
  CHECK_THROWS_WITH(loadIdx(d + "/head", d + "/r-lab", 10, "t"),
                    Catch::Contains("10 bytes, shorter than the 16-byte header"));
  // A header claiming far more images than the file holds allocates nothing for them.
  std::vector<uint8_t> claim = img;
  claim[4] = 0x7f;  // 2^30 and more images of 2x2
  writeFile(d + "/claim", claim);
  CHECK_THROWS_WITH(loadIdx(d + "/claim", d + "/r-lab", 10, "t"), Catch::Contains("truncated"));
  // A gzip stream cut short: the message is zlib's, intact (it was read after gzclose).
  writeCutGzip(d + "/cut2.gz");
  try {
    loadIdx(d + "/cut2.gz", d + "/r-lab", 10, "t");
    FAIL("a cut gzip file was read");
  } catch (const Error &e) {
    std::string m = e.what();
    INFO(m);
    CHECK(m.back() == ')');
    for (unsigned char c : m) CHECK((c >= 0x20 && c < 0x7f));
  }
}

TEST_CASE("checked writes report a full disk; stale temporaries are removed",
          "[driver][files]") {
  CHECK_THROWS_WITH(appendToFile("/dev/full", "x\n"),
                    Catch::Contains("/dev/full: write failed: No space left on device"));
  std::string d = tempDir();
  CHECK_THROWS_WITH(checkWritableFile(d, "--export"), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(checkWritableDir(d + "/none", "--out"), Catch::Contains("No such file"));
  std::string target = d + "/ck.mest";
  std::string stale = target + ".tmp.4194303", live = target + ".tmp." + std::to_string(getpid());
  writeFile(stale, {1}), writeFile(live, {1});
  std::vector<std::string> said;
  removeStaleTemporaries(target, [&](const std::string &s) { said.push_back(s); });
  CHECK(access(stale.c_str(), F_OK) != 0);
  CHECK(access(live.c_str(), F_OK) == 0);  // this process is alive
  REQUIRE(said.size() == 1);
  CHECK_THAT(said[0], Catch::Contains("left by an interrupted write of process 4194303"));
}

TEST_CASE("the checksum covers the header: a flipped fingerprint is damage", "[driver][checkpoint]") {
  std::string path = tempDir() + "/hd.mest";
  CheckpointFile f;
  f.fingerprint = 0x1234;
  f.putValue("RUN", 7);
  writeCheckpoint(path, f);
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[16] ^= 0x01;  // the fingerprint's low byte
  writeFile(path, bytes);
  CHECK_THROWS_WITH(readCheckpoint(path, FileKind::Checkpoint, 0x1234),
                    Catch::Contains("checksum mismatch"));
  CHECK_THROWS_WITH(readCheckpoint("/dev/zero", FileKind::Checkpoint, 0x1234),
                    Catch::Contains("is a device"));
}

TEST_CASE("forgetting records no training can produce are refused", "[driver][forgetting]") {
  Forgetting f(3);
  f.record(0, true, 0.1f, 1.0f);
  f.record(0, false, 0.9f, -1.0f);
  CHECK(f.check() == "");
  f.stats()[1].forgets = 3;  // forgotten more often than presented
  CHECK_THAT(f.check(), Catch::Contains("example 1 are impossible"));
  std::string path = tempDir() + "/fg.mest";
  f.save(path, "t");
  CHECK_THROWS_WITH(Forgetting::load(path, 3), Catch::Contains("refused"));
}

namespace {
/// An .npy file (format 1.0) of `descr` and `shape` holding `bytes`, as numpy.save writes it.
std::vector<uint8_t> npyFile(const std::string &descr, const std::string &shape,
                             const std::vector<uint8_t> &bytes) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}
} // namespace

TEST_CASE("npy loader reads channels-last images into NCHW", "[driver][data]") {
  // Two 2x3 images with 3 channels, [N, H, W, C]: pixel (n, y, x, c) = 100n + 10(3y + x) + c.
  std::vector<uint8_t> x;
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 6; ++p)
      for (int c = 0; c < 3; ++c) x.push_back(uint8_t(100 * n + 10 * p + c));
  std::string d = tempDir();
  writeFile(d + "/x_train.npy", npyFile("|u1", "(2, 2, 3, 3)", x));
  // Labels as int64, the dtype numpy gives Python integers.
  writeFile(d + "/y_train.npy", npyFile("<i8", "(2,)", {7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}));
  const int64_t model[3] = {3, 2, 3};  // C, H, W of the model reading it
  Dataset s = loadNpy(d, "train", 10, model);
  CHECK(s.count == 2);
  CHECK(s.channels == 3);
  CHECK(s.height == 2);
  CHECK(s.width == 3);
  CHECK(s.labels == std::vector<int32_t>{7, 2});
  REQUIRE(s.images.size() == 36);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 6; ++p)
        CHECK(int(s.images[(n * 3 + c) * 6 + p]) == 100 * n + 10 * p + c);
  // A label beyond the model's classes names the file and the example.
  CHECK_THROWS_WITH(loadNpy(d, "train", 5, model),
                    Catch::Contains("y_train.npy: label 7 of example 0 is outside [0, 5)"));
}
