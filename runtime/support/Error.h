//===- Error.h - the runtime's error type ---------------------------------===//
#ifndef MEST_RUNTIME_SUPPORT_ERROR_H
#define MEST_RUNTIME_SUPPORT_ERROR_H

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace mest::rt {

/// A user-facing error: the message names the problem and where it happened.
/// Kernels never throw; setup, mutation, data and checkpoint code does.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &msg) : std::runtime_error(msg) {}
};

} // namespace mest::rt

#endif // MEST_RUNTIME_SUPPORT_ERROR_H
