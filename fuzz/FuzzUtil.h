//===- FuzzUtil.h - helpers shared by the fuzz targets --------------------===//
#ifndef MEST_FUZZ_FUZZUTIL_H
#define MEST_FUZZ_FUZZUTIL_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace mest::fuzz {

/// Writes the bytes to a per-process scratch file (the loaders read paths) and
/// returns its path.
inline std::string scratchFile(const char *tag, const uint8_t *data, size_t size) {
  std::string path = "/tmp/mest-fuzz-" + std::to_string(::getpid()) + "-" + tag;
  if (FILE *f = std::fopen(path.c_str(), "wb")) {
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

/// A mest file (runtime/driver/Checkpoint.cpp, format version 2) around a
/// fuzzed payload, with a correct checksum so that the section parser and the
/// validation behind it are reached: [kind][section count][payload...].
inline std::vector<uint8_t> wrapMestFile(const uint8_t *data, size_t size, uint64_t fingerprint) {
  struct Header {
    char magic[8];
    uint32_t version, kind;
    uint64_t fingerprint, payloadBytes;
    uint32_t crc, sections;
  } h = {{'M', 'E', 'S', 'T', 'C', 'K', 'P', 'T'}, 2, size > 0 ? data[0] % 4u : 1u, fingerprint,
         size > 2 ? size - 2 : 0, 0, size > 1 ? data[1] : 0u};
  const uint8_t *payload = data + (size > 2 ? 2 : size);
  uLong crc = crc32(0L, reinterpret_cast<const Bytef *>(&h), sizeof h);
  h.crc = static_cast<uint32_t>(crc32(crc, payload, static_cast<uInt>(h.payloadBytes)));
  std::vector<uint8_t> file(reinterpret_cast<uint8_t *>(&h), reinterpret_cast<uint8_t *>(&h) + sizeof h);
  file.insert(file.end(), payload, payload + h.payloadBytes);
  return file;
}

} // namespace mest::fuzz

#endif // MEST_FUZZ_FUZZUTIL_H
