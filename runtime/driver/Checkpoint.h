//===- Checkpoint.h - atomic, checked files of model state ----------------===//
//
// One file format for checkpoints and exported models: a header (magic
// "MESTCKPT", format version, kind, the compiled model's fingerprint, the
// payload size and its CRC-32) and tagged sections. Files are written to a
// temporary name, fsync'ed and renamed, so a crash leaves either the old file
// or the new one; a file that is truncated, corrupt or made for another model is
// refused with a message saying which, and is never overwritten by the refusal.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_CHECKPOINT_H
#define MEST_RUNTIME_DRIVER_CHECKPOINT_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mest::rt {

enum class FileKind : uint32_t { Checkpoint = 1, Model = 2, Statistics = 3 };

struct CheckpointFile {
  FileKind kind = FileKind::Checkpoint;
  uint64_t fingerprint = 0;
  std::map<std::string, std::vector<uint8_t>> sections;  // 4-character tags

  void put(const std::string &tag, const void *data, size_t bytes);
  template <typename T> void putValue(const std::string &tag, const T &v) { put(tag, &v, sizeof v); }
  /// The section's bytes; throws when absent or not `bytes` long.
  const std::vector<uint8_t> &get(const std::string &tag, size_t bytes,
                                  const std::string &path) const;
  bool has(const std::string &tag) const { return sections.count(tag) != 0; }
};

/// Writes atomically (temp file, fsync, rename, fsync of the directory).
void writeCheckpoint(const std::string &path, const CheckpointFile &file);

/// Reads and checks a file: kind, fingerprint (the model compiled into this
/// binary), size and checksum.
CheckpointFile readCheckpoint(const std::string &path, FileKind kind, uint64_t fingerprint);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_CHECKPOINT_H
