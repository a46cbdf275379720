// Counts the OpenMP parallel regions the process starts, through the OpenMP
// tools interface (OMPT): libomp calls ompt_start_tool, defined here, when it
// initialises, and the tool registers a parallel-begin callback. The count is
// dynamic, so it sees regions inside loops and library calls as well as the
// generated kernels' own.
#pragma once

#include <cstdint>

namespace mest::bench {

/// Parallel regions begun so far; -1 when the OpenMP runtime did not load the
/// tool (a runtime without OMPT).
int64_t parallelRegions();

} // namespace mest::bench
