//===- Patterns.h - the default pattern library of 3x3 kernels ------------===//
//
// The 8 patterns of the MEST paper, each keeping 4 of the 9 taps of a 3x3 kernel.
// A tap is row * 3 + col. Shared by the dialect (default library) and the runtime.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_FORMATS_PATTERNS_H
#define MEST_RUNTIME_FORMATS_PATTERNS_H

#include <cstdint>

namespace mest::rt {

constexpr int kDefaultNumPatterns = 8;
constexpr int32_t kDefaultPatterns[kDefaultNumPatterns][4] = {
    {4, 5, 7, 8}, // P1 (1,1)(1,2)(2,1)(2,2)
    {3, 4, 6, 7}, // P2 (1,0)(1,1)(2,0)(2,1)
    {1, 2, 4, 5}, // P3 (0,1)(0,2)(1,1)(1,2)
    {0, 1, 3, 4}, // P4 (0,0)(0,1)(1,0)(1,1)
    {5, 6, 7, 8}, // P5 (1,2)(2,0)(2,1)(2,2)
    {3, 4, 5, 7}, // P6 (1,0)(1,1)(1,2)(2,1)
    {1, 4, 5, 7}, // P7 (0,1)(1,1)(1,2)(2,1)
    {1, 3, 4, 7}, // P8 (0,1)(1,0)(1,1)(2,1)
};

} // namespace mest::rt

#endif // MEST_RUNTIME_FORMATS_PATTERNS_H
