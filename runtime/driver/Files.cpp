//===- Files.cpp - the driver's file-system checks and checked writes -----===//
#include "runtime/driver/Files.h"

#include "runtime/support/Error.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mest::rt {

namespace {

std::string why() { return std::strerror(errno); }

const char *fileType(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

void writeWith(const std::string &path, const std::string &text, int flags) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot open for writing: {}", path, why()));
  try {
    writeAll(fd, text.data(), text.size(), path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw Error(fmt::format("{}: write failed: {}", path, why()));
}

} // namespace

void writeAll(int fd, const void *data, size_t n, const std::string &path) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error(fmt::format("{}: write failed: {}", path, why()));
    p += w, n -= static_cast<size_t>(w);
  }
}

std::string parentDir(const std::string &path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void makeDirs(const std::string &dir) {
  std::string at;
  std::stringstream ss(dir);
  std::string part;
  if (!dir.empty() && dir[0] == '/') at = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    at += part + "/";
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST)
      throw Error(fmt::format("{}: cannot create directory: {}", at, why()));
    struct stat st;
    if (::stat(at.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error(fmt::format("{}: exists and is not a directory", at.substr(0, at.size() - 1)));
  }
}

void checkWritableDir(const std::string &dir, const std::string &what) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    throw Error(fmt::format("{} {}: {}", what, dir, why()));
  if (!S_ISDIR(st.st_mode)) throw Error(fmt::format("{} {}: is not a directory", what, dir));
  std::string probe = fmt::format("{}/.mest-write-probe.{}", dir, ::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{} {}: cannot write there: {}", what, dir, why()));
  ::close(fd);
  ::unlink(probe.c_str());
}

void checkWritableFile(const std::string &path, const std::string &what) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(fmt::format("{} {}: is a directory", what, path));
  checkWritableDir(parentDir(path), fmt::format("{} {}: directory", what, path));
}

int openRegularFile(const std::string &path, const std::string &what, uint64_t maxBytes,
                    uint64_t *size) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(fmt::format("{}: cannot open {}: {}", path, what, why()));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    std::string reason = why();
    ::close(fd);
    throw Error(fmt::format("{}: cannot read {}: {}", path, what, reason));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(fmt::format("{}: is {}, expected a {}", path, fileType(st.st_mode), what));
  }
  if (uint64_t(st.st_size) > maxBytes) {
    ::close(fd);
    throw Error(fmt::format("{}: {} bytes, more than a {} can be ({} bytes)", path,
                            uint64_t(st.st_size), what, maxBytes));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  *size = uint64_t(st.st_size);
  return fd;
}

void appendToFile(const std::string &path, const std::string &text) {
  writeWith(path, text, O_APPEND);
}

void writeWholeFile(const std::string &path, const std::string &text) {
  writeWith(path, text, O_TRUNC);
}

void writeFileAtomically(const std::string &path, const std::vector<std::string_view> &parts) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  try {
    for (std::string_view p : parts) writeAll(fd, p.data(), p.size(), tmp);
    if (::fsync(fd) != 0) throw Error(fmt::format("{}: fsync failed: {}", tmp, std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw Error(fmt::format("{}: cannot rename into place: {}", path, std::strerror(errno)));
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void removeStaleTemporaries(const std::string &target,
                            const std::function<void(const std::string &)> &say) {
  const std::string dir = parentDir(target);
  const std::string prefix = target.substr(target.rfind('/') + 1) + ".tmp.";
  DIR *d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    std::string pidText = name.substr(prefix.size());
    if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos ||
        pidText.size() > 9)
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(pidText));
    if (pid == ::getpid() || (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // still running
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::unlink(path.c_str()) == 0)
      say(fmt::format("removed {}: left by an interrupted write of process {}", path, pid));
  }
  ::closedir(d);
}

} // namespace mest::rt
