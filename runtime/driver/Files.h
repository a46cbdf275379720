//===- Files.h - the driver's file-system checks and checked writes -------===//
//
// Everything the training binary reads or writes goes through these, so that a
// missing directory, a directory where a file should be, a FIFO, a full disk or
// a read-only place is reported with the path and the reason, before training
// where it can be known then, and never ignored.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_FILES_H
#define MEST_RUNTIME_DRIVER_FILES_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mest::rt {

/// Creates `dir` and its parents; throws when a part is a file or cannot be made.
void makeDirs(const std::string &dir);

/// Throws unless `dir` is a directory this process can create files in (tried
/// by creating and removing a probe file, so read-only mounts are caught too).
void checkWritableDir(const std::string &dir, const std::string &what);

/// Throws unless a file can be written at `path`: its directory exists and is
/// writable, and `path` itself is not a directory.
void checkWritableFile(const std::string &path, const std::string &what);

/// Opens `path` for reading and returns its descriptor and size; throws when it
/// is missing, not a regular file (a directory, FIFO, device), or larger than
/// `maxBytes`.
int openRegularFile(const std::string &path, const std::string &what, uint64_t maxBytes,
                    uint64_t *size);

/// Writes all `n` bytes to `fd` (retrying short writes); throws naming `path`.
void writeAll(int fd, const void *data, size_t n, const std::string &path);

/// Appends `text` to `path` (created if missing); throws on any failed write.
void appendToFile(const std::string &path, const std::string &text);
/// Replaces the contents of `path` with `text`; throws on any failed write.
void writeWholeFile(const std::string &path, const std::string &text);
/// Writes `parts` to PATH.tmp.PID, fsyncs, renames it over `path` and fsyncs the
/// directory: a crash leaves the old file or the new one, never a partial one.
void writeFileAtomically(const std::string &path, const std::vector<std::string_view> &parts);

/// Removes the `TARGET.tmp.PID` files that an interrupted atomic write of
/// `target` by a process no longer running left behind; reports each via `say`.
void removeStaleTemporaries(const std::string &target,
                            const std::function<void(const std::string &)> &say);

/// The directory part of a path ("." when there is none).
std::string parentDir(const std::string &path);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_FILES_H
