//===- Memory.cpp - the runtime's allocator, with byte accounting ---------===//
#include "runtime/support/Memory.h"

#include "runtime/support/Error.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace mest::rt {
namespace {
constexpr size_t kAlign = 64;
std::atomic<int64_t> live[static_cast<int>(MemCategory::Count)];
} // namespace

void *allocate(size_t bytes, MemCategory cat) {
  if (bytes == 0) return nullptr;
  size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void *p = std::aligned_alloc(kAlign, rounded);
  if (!p) throw Error(fmt::format("out of memory allocating {} bytes for {}", bytes,
                                  categoryName(cat)));
  std::memset(p, 0, rounded);
  live[static_cast<int>(cat)] += static_cast<int64_t>(bytes);
  return p;
}

void release(void *ptr, size_t bytes, MemCategory cat) {
  if (!ptr) return;
  std::free(ptr);
  live[static_cast<int>(cat)] -= static_cast<int64_t>(bytes);
}

int64_t liveBytes(MemCategory cat) { return live[static_cast<int>(cat)].load(); }

const char *categoryName(MemCategory cat) {
  static const char *names[] = {"state", "arena", "scratch", "data"};
  return names[static_cast<int>(cat)];
}

} // namespace mest::rt
