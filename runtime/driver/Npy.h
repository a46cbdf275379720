//===- Npy.h - NumPy .npy arrays ------------------------------*- C++ -*-===//
//
// Reads the arrays a user's data set comes in (numpy.save, format versions 1
// to 3): little-endian or single-byte numbers in C order. Every problem is an
// Error naming the file: not an .npy file, a header that cannot be parsed, an
// unsupported dtype or Fortran order, data shorter or longer than the shape.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_NPY_H
#define MEST_RUNTIME_DRIVER_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace mest::rt {

struct NpyArray {
  char kind = 0;      // 'u' unsigned, 'i' signed integer, 'f' float
  int itemBytes = 0;  // 1, 2, 4 or 8 (floats: 4 or 8)
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // product(shape) * itemBytes, little-endian
  int64_t count() const;
  std::string dtype() const;  // e.g. "uint8", "float32"
  /// Element i as a double / as an integer (integer kinds only).
  double real(int64_t i) const;
  int64_t integer(int64_t i) const;
};

/// `maxBytes`: the most data the caller accepts.
NpyArray readNpy(const std::string &path, uint64_t maxBytes);
/// The .npy file (format 1.0, float32, C order) of `shape` and `values`.
std::string npyFloat32(const std::vector<int64_t> &shape, const float *values);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_NPY_H
