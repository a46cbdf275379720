//===- Checkpoint.cpp - atomic, checked files of model state --------------===//
#include "runtime/driver/Checkpoint.h"

#include "runtime/driver/Files.h"
#include "runtime/support/Error.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace mest::rt {

namespace {

constexpr char kMagic[8] = {'M', 'E', 'S', 'T', 'C', 'K', 'P', 'T'};
// Version 2 checksums the header too (version 1: the payload only, still read).
constexpr uint32_t kVersion = 2;

struct Header {
  char magic[8];
  uint32_t version, kind;
  uint64_t fingerprint, payloadBytes;
  uint32_t crc, sections;
};

const char *kindName(FileKind k) {
  switch (k) {
  case FileKind::Checkpoint: return "checkpoint";
  case FileKind::Model: return "model";
  case FileKind::Statistics: return "forgetting statistics";
  }
  return "unknown";
}

/// No mest file comes near this: a state block plus 16 bytes per example.
constexpr uint64_t kMaxFileBytes = uint64_t(64) << 30;

/// CRC-32 of the header (its crc field as zero) and the payload.
uint32_t checksum(const Header &h, const uint8_t *payload, uint64_t bytes) {
  Header copy = h;
  copy.crc = 0;
  uLong c = h.version == 1 ? crc32(0L, Z_NULL, 0)
                           : crc32(0L, reinterpret_cast<const Bytef *>(&copy), sizeof copy);
  for (uint64_t at = 0; at < bytes; at += 1u << 30)
    c = crc32(c, payload + at, static_cast<uInt>(std::min<uint64_t>(bytes - at, 1u << 30)));
  return static_cast<uint32_t>(c);
}

} // namespace

void CheckpointFile::put(const std::string &tag, const void *data, size_t bytes) {
  auto *p = static_cast<const uint8_t *>(data);
  sections[tag].assign(p, p + bytes);
}

const std::vector<uint8_t> &CheckpointFile::get(const std::string &tag, size_t bytes,
                                                const std::string &path) const {
  auto it = sections.find(tag);
  if (it == sections.end())
    throw Error(fmt::format("{}: section '{}' is missing", path, tag));
  if (it->second.size() != bytes)
    throw Error(fmt::format("{}: section '{}' has {} bytes, expected {}", path, tag,
                            it->second.size(), bytes));
  return it->second;
}

void writeCheckpoint(const std::string &path, const CheckpointFile &file) {
  std::vector<uint8_t> payload;
  for (const auto &[tag, bytes] : file.sections) {
    char name[4] = {};
    std::memcpy(name, tag.data(), std::min<size_t>(4, tag.size()));
    uint64_t size = bytes.size();
    payload.insert(payload.end(), name, name + 4);
    payload.insert(payload.end(), reinterpret_cast<uint8_t *>(&size),
                   reinterpret_cast<uint8_t *>(&size) + 8);
    payload.insert(payload.end(), bytes.begin(), bytes.end());
  }
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.kind = static_cast<uint32_t>(file.kind);
  h.fingerprint = file.fingerprint;
  h.payloadBytes = payload.size();
  h.sections = static_cast<uint32_t>(file.sections.size());
  h.crc = checksum(h, payload.data(), payload.size());

  writeFileAtomically(path, {std::string_view(reinterpret_cast<const char *>(&h), sizeof h),
                             std::string_view(reinterpret_cast<const char *>(payload.data()),
                                              payload.size())});
}

CheckpointFile readCheckpoint(const std::string &path, FileKind kind, uint64_t fingerprint) {
  uint64_t size = 0;
  int fd = openRegularFile(path, fmt::format("mest {} file", kindName(kind)), kMaxFileBytes, &size);
  std::vector<uint8_t> data(size);
  uint64_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, data.data() + got, std::min<uint64_t>(size - got, 1u << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string reason = n < 0 ? std::strerror(errno) : "the file shrank while being read";
      ::close(fd);
      throw Error(fmt::format("{}: read failed: {}", path, reason));
    }
    got += uint64_t(n);
  }
  ::close(fd);
  if (data.size() < sizeof(Header) || std::memcmp(data.data(), kMagic, 8) != 0)
    throw Error(fmt::format("{}: not a mest {} file (bad magic or too short)", path, kindName(kind)));
  Header h;
  std::memcpy(&h, data.data(), sizeof h);
  if (h.version != kVersion && h.version != 1)
    throw Error(fmt::format("{}: format version {}, this binary reads versions 1 and {}", path,
                            h.version, kVersion));
  if (data.size() != sizeof(Header) + h.payloadBytes)
    throw Error(fmt::format("{}: truncated or padded: {} bytes, expected {}", path, data.size(),
                            sizeof(Header) + h.payloadBytes));
  // The checksum covers the header (version 2), so a damaged kind or fingerprint
  // reads as damage, not as a file of another kind or model.
  const uint8_t *payload = data.data() + sizeof(Header);
  if (checksum(h, payload, h.payloadBytes) != h.crc)
    throw Error(fmt::format("{}: checksum mismatch: the file is corrupt", path));
  if (h.kind != static_cast<uint32_t>(kind))
    throw Error(fmt::format("{}: is a mest {} file, expected a {}", path,
                            kindName(static_cast<FileKind>(h.kind)), kindName(kind)));
  if (h.fingerprint != fingerprint)
    throw Error(fmt::format("{}: made for another model (fingerprint {:016x}, this binary's "
                            "model is {:016x})",
                            path, h.fingerprint, fingerprint));
  CheckpointFile file;
  file.kind = kind;
  file.fingerprint = h.fingerprint;
  size_t at = 0;
  for (uint32_t s = 0; s < h.sections; ++s) {
    if (at + 12 > h.payloadBytes) throw Error(fmt::format("{}: section table is corrupt", path));
    std::string tag(reinterpret_cast<const char *>(payload + at), 4);
    tag.erase(tag.find_last_not_of('\0') + 1);
    uint64_t size;
    std::memcpy(&size, payload + at + 4, 8);
    at += 12;
    if (size > h.payloadBytes - at)
      throw Error(fmt::format("{}: section '{}' is corrupt", path, tag));
    if (file.sections.count(tag))
      throw Error(fmt::format("{}: section '{}' appears twice", path, tag));
    file.sections[tag].assign(payload + at, payload + at + size);
    at += size;
  }
  if (at != h.payloadBytes)
    throw Error(fmt::format("{}: {} bytes after the last section", path, h.payloadBytes - at));
  return file;
}

} // namespace mest::rt
