//===- Dataset.h - image classification data sets -------------------------===//
//
// Fashion-MNIST / MNIST (IDX files, gzipped or not), CIFAR-10 / CIFAR-100
// (the standard binary batches) and any data set saved as .npy arrays, held as
// bytes (or floats) and turned into normalised, optionally augmented float
// batches. Every problem with a file is an Error
// naming the file and what is wrong with it.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_DATASET_H
#define MEST_RUNTIME_DRIVER_DATASET_H

#include "runtime/support/Rng.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mest::rt {

struct Dataset {
  std::string name;  // e.g. "fashion-mnist train"
  int64_t count = 0, channels = 0, height = 0, width = 0, classes = 0;
  std::vector<uint8_t> images;  // count x channels x height x width
  std::vector<float> values;    // instead of images for float data (used as given)
  bool isFloat() const { return !values.empty(); }
  std::vector<int32_t> labels;  // count
  int64_t imageBytes() const { return channels * height * width; }
};

/// What `--data KIND[:DIR]` names, with the normalisation and augmentation the
/// data set calls for.
struct DataSource {
  std::string kind;  // fashion-mnist, mnist, cifar10, cifar100, npy
  std::string dir;
  float mean[3] = {0, 0, 0}, stddev[3] = {1, 1, 1};
  bool augment = false;  // random crop (padding 4) and horizontal flip
  int64_t classes = 0;   // npy: labels must lie in [0, classes) (the model's)
  int64_t shape[3] = {0, 0, 0};  // npy: the model's C, H, W (resolves the layout)
};

DataSource parseDataSource(const std::string &text);
Dataset loadTrainSet(const DataSource &src);
Dataset loadTestSet(const DataSource &src);

/// Reads one IDX image file and its label file (gzip or plain).
Dataset loadIdx(const std::string &images, const std::string &labels, int64_t classes,
                const std::string &name);
/// Reads `x_<part>.npy` and `y_<part>.npy` of `dir`: images [N, C, H, W],
/// [N, H, W, C] or [N, H, W], uint8 (scaled to [0, 1]) or float32/float64
/// (used as given), and integer labels [N] in [0, classes). Channels-last is
/// recognised by `shape` (C, H, W: the model's input; zeros: a last dimension
/// of at most 4 after a larger one).
Dataset loadNpy(const std::string &dir, const std::string &part, int64_t classes,
                const int64_t shape[3] = nullptr);
/// The images of one such file (labels 0): what --predict runs on.
Dataset loadNpyImages(const std::string &path, const int64_t shape[3] = nullptr);
/// Reads CIFAR binary batches; `hundred` selects the CIFAR-100 record layout.
Dataset loadCifar(const std::vector<std::string> &files, bool hundred, const std::string &name);

/// Keeps the first `n` examples (n < 0: all).
void truncate(Dataset &d, int64_t n);
/// Moves the last `n` examples of `train` into a new validation set.
Dataset splitValidation(Dataset &train, int64_t n);

/// Writes examples `index[0..n)` as normalised floats [n, C, H, W] and their
/// labels; with `augment`, a random crop from the image padded by 4 and a
/// horizontal flip with probability 1/2, drawn from `rng`.
void makeBatch(const Dataset &d, const DataSource &src, const int64_t *index, int64_t n,
               bool augment, Rng &rng, float *x, int32_t *y);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_DATASET_H
