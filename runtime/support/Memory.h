//===- Memory.h - the runtime's allocator, with byte accounting -----------===//
//
// Every buffer the runtime owns (compressed weights, optimizer state, arenas,
// scratch) comes from here, 64-byte aligned, and is counted per category, so
// memory claims are measured rather than estimated.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_SUPPORT_MEMORY_H
#define MEST_RUNTIME_SUPPORT_MEMORY_H

#include <cstddef>
#include <cstdint>

namespace mest::rt {

/// State: parameters, gradients, optimizer state and sparse metadata.
/// Arena: activations, activation gradients and kernel scratch of a step.
enum class MemCategory : int { State, Arena, Scratch, Data, Count };

/// Allocates `bytes` (zeroed, 64-byte aligned) and counts them under `cat`.
/// Throws mest::rt::Error when memory is exhausted.
void *allocate(size_t bytes, MemCategory cat);
void release(void *ptr, size_t bytes, MemCategory cat);

template <typename T> T *allocateArray(size_t count, MemCategory cat) {
  return static_cast<T *>(allocate(count * sizeof(T), cat));
}
template <typename T> void releaseArray(T *ptr, size_t count, MemCategory cat) {
  release(ptr, count * sizeof(T), cat);
}

/// Bytes currently allocated in a category.
int64_t liveBytes(MemCategory cat);
const char *categoryName(MemCategory cat);

} // namespace mest::rt

#endif // MEST_RUNTIME_SUPPORT_MEMORY_H
