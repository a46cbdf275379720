#include "ParallelRegions.h"

#include <atomic>
#include <omp-tools.h>

namespace {

std::atomic<int64_t> regions{0};
std::atomic<bool> active{false};

void onParallelBegin(ompt_data_t *, const ompt_frame_t *, ompt_data_t *, unsigned, int,
                     const void *) {
  regions.fetch_add(1, std::memory_order_relaxed);
}

int initialize(ompt_function_lookup_t lookup, int, ompt_data_t *) {
  auto setCallback = reinterpret_cast<ompt_set_callback_t>(lookup("ompt_set_callback"));
  if (!setCallback) return 0;
  bool ok = setCallback(ompt_callback_parallel_begin,
                        reinterpret_cast<ompt_callback_t>(&onParallelBegin)) == ompt_set_always;
  active = ok;
  return ok ? 1 : 0;
}

void finalize(ompt_data_t *) {}

} // namespace

// The executable is linked with -rdynamic, so libomp's lookup finds this
// definition before its own weak one.
extern "C" ompt_start_tool_result_t *ompt_start_tool(unsigned, const char *) {
  static ompt_start_tool_result_t result = {&initialize, &finalize, {0}};
  return &result;
}

int64_t mest::bench::parallelRegions() {
  return active ? regions.load(std::memory_order_relaxed) : -1;
}
