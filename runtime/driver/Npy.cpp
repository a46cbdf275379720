//===- Npy.cpp - NumPy .npy arrays ----------------------------------------===//
#include "runtime/driver/Npy.h"

#include "runtime/driver/DataReader.h"

#include <cstring>

namespace mest::rt {

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NpyArray::dtype() const {
  const char *base = kind == 'u' ? "uint" : kind == 'i' ? "int" : "float";
  return fmt::format("{}{}", base, itemBytes * 8);
}

double NpyArray::real(int64_t i) const {
  const uint8_t *p = data.data() + i * itemBytes;
  if (kind == 'f') {
    if (itemBytes == 4) {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  return double(integer(i));
}

int64_t NpyArray::integer(int64_t i) const {
  const uint8_t *p = data.data() + i * itemBytes;
  uint64_t u = 0;
  for (int b = 0; b < itemBytes; ++b) u |= uint64_t(p[b]) << (8 * b);
  if (kind == 'i' && itemBytes < 8 && (u >> (8 * itemBytes - 1)) & 1)
    u |= ~uint64_t(0) << (8 * itemBytes);  // sign-extend
  return static_cast<int64_t>(u);
}

namespace {
/// The value of 'key' in the header dictionary, up to the next top-level ','
/// or '}' (the shape's tuple kept whole).
std::string field(const std::string &header, const std::string &key, const std::string &path) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  size_t colon = at == std::string::npos ? at : header.find(':', at);
  if (colon == std::string::npos)
    throw Error(fmt::format("{}: .npy header has no '{}': {}", path, key, header));
  size_t begin = header.find_first_not_of(' ', colon + 1), end = begin;
  int depth = 0;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  return header.substr(begin, end - begin);
}
} // namespace

NpyArray readNpy(const std::string &path, uint64_t maxBytes) {
  DataReader in(path, maxBytes + (uint64_t(1) << 20));
  uint8_t pre[12];
  size_t got = in.read(pre, 10);
  if (got < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0)
    throw Error(fmt::format("{}: not an .npy file (no \\x93NUMPY magic)", path));
  const int major = pre[6];
  uint64_t headerLen = uint64_t(pre[8]) | uint64_t(pre[9]) << 8;
  if (major >= 2) {
    if (in.read(pre + 10, 2) < 2) throw Error(fmt::format("{}: .npy header cut short", path));
    headerLen |= uint64_t(pre[10]) << 16 | uint64_t(pre[11]) << 24;
  } else if (major != 1) {
    throw Error(fmt::format("{}: .npy format version {} (1 to 3 supported)", path, major));
  }
  if (headerLen > (1u << 20))
    throw Error(fmt::format("{}: .npy header of {} bytes: not an .npy file", path, headerLen));
  std::string header(headerLen, '\0');
  if (in.read(reinterpret_cast<uint8_t *>(header.data()), headerLen) < headerLen)
    throw Error(fmt::format("{}: .npy header cut short", path));

  NpyArray a;
  std::string descr = field(header, "descr", path);
  if (descr.size() != 5 || (descr[0] != '\'' && descr[0] != '"'))
    throw Error(fmt::format("{}: unsupported dtype {} (numbers only)", path, descr));
  const char order = descr[1], kind = descr[2];
  const int bytes = descr[3] - '0';
  const bool oneByte = bytes == 1;
  if (!(order == '<' || order == '|' || (order == '=' && oneByte)) ||
      !(kind == 'u' || kind == 'i' || kind == 'f') ||
      !(bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8) ||
      (kind == 'f' && bytes != 4 && bytes != 8) || (order == '|' && !oneByte))
    throw Error(fmt::format("{}: unsupported dtype {}: expected a little-endian integer, "
                            "float32 or float64",
                            path, descr));
  a.kind = kind, a.itemBytes = bytes;
  std::string fortran = field(header, "fortran_order", path);
  if (fortran != "False")
    throw Error(fmt::format("{}: Fortran-ordered array: save it in C order "
                            "(numpy.ascontiguousarray)",
                            path));
  std::string shape = field(header, "shape", path);
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    throw Error(fmt::format("{}: cannot parse the shape {}", path, shape));
  uint64_t total = 1;
  for (size_t i = 1; i + 1 < shape.size();) {
    while (i + 1 < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i + 1 >= shape.size()) break;
    size_t next = i;
    while (next + 1 < shape.size() && std::isdigit(static_cast<unsigned char>(shape[next]))) ++next;
    if (next == i || next - i > 12)
      throw Error(fmt::format("{}: cannot parse the shape {}", path, shape));
    int64_t d = std::stoll(shape.substr(i, next - i));
    a.shape.push_back(d);
    total *= uint64_t(std::max<int64_t>(d, 1));
    if (total * bytes > maxBytes)
      throw Error(fmt::format("{}: shape {} holds more than {} bytes", path, shape, maxBytes));
    i = next;
  }
  const uint64_t expected = uint64_t(a.count()) * bytes;
  a.data = in.readUpTo(expected);
  if (a.data.size() < expected)
    throw Error(fmt::format("{}: truncated: shape {} needs {} bytes of data, the file has {}",
                            path, shape, expected, a.data.size()));
  if (a.data.size() > expected)
    throw Error(fmt::format("{}: more data than its shape {} holds", path, shape));
  return a;
}

std::string npyFloat32(const std::vector<int64_t> &shape, const float *values) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) dims += fmt::format("{}, ", d), n *= d;
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (3,) keeps its comma
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  while ((10 + header.size() + 1) % 64) header += ' ';  // data 64-byte aligned, as numpy
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(1), out += char(0);
  out += char(header.size() & 0xff), out += char(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char *>(values), size_t(n) * sizeof(float));
  return out;
}

} // namespace mest::rt
