//===- Plot.h - a tiny SVG bar chart writer -------------------------------===//
#ifndef MEST_RUNTIME_DRIVER_PLOT_H
#define MEST_RUNTIME_DRIVER_PLOT_H

#include <cstdint>
#include <string>
#include <vector>

namespace mest::rt {

/// Writes a bar chart of `values` with one label per bar.
void writeBarChartSvg(const std::string &path, const std::string &title,
                      const std::vector<std::string> &labels, const std::vector<int64_t> &values,
                      const std::string &xLabel, const std::string &yLabel);

} // namespace mest::rt

#endif // MEST_RUNTIME_DRIVER_PLOT_H
