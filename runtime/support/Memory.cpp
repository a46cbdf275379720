//===- Memory.cpp - the runtime's allocator, with byte accounting ---------===//
#include "runtime/support/Memory.h"

#include "runtime/support/Error.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

namespace mest::rt {
namespace {
constexpr size_t kAlign = 64;
constexpr size_t kHuge = size_t(2) << 20;
std::atomic<int64_t> live[static_cast<int>(MemCategory::Count)];
} // namespace

void *allocate(size_t bytes, MemCategory cat) {
  if (bytes == 0) return nullptr;
  // Buffers of 2 MiB and more (the activation arena, data sets) ask for
  // transparent huge pages: the step streams through 150 MiB of activations,
  // and 4 KiB pages would cost a page walk every few vectors.
  const size_t align = bytes >= kHuge ? kHuge : kAlign;
  size_t rounded = (bytes + align - 1) / align * align;
  void *p = std::aligned_alloc(align, rounded);
  if (!p) throw Error(fmt::format("out of memory allocating {} bytes for {}", bytes,
                                  categoryName(cat)));
  if (align == kHuge) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: errors are harmless
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
