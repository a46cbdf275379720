//===- Plot.cpp - a tiny SVG bar chart writer -----------------------------===//
#include "runtime/driver/Plot.h"

#include "runtime/support/Error.h"

#include <algorithm>
#include <fstream>

namespace mest::rt {

void writeBarChartSvg(const std::string &path, const std::string &title,
                      const std::vector<std::string> &labels, const std::vector<int64_t> &values,
                      const std::string &xLabel, const std::string &yLabel) {
  std::ofstream os(path);
  if (!os) throw Error(fmt::format("{}: cannot write", path));
  const double W = 640, H = 400, left = 70, right = 20, top = 40, bottom = 60;
  const double plotW = W - left - right, plotH = H - top - bottom;
  int64_t maxV = std::max<int64_t>(1, *std::max_element(values.begin(), values.end()));
  const double barW = plotW / std::max<size_t>(1, values.size());
  os << fmt::format("<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' "
                    "font-family='sans-serif' font-size='12'>\n", W, H);
  os << fmt::format("<rect width='{}' height='{}' fill='white'/>\n", W, H);
  os << fmt::format("<text x='{}' y='24' text-anchor='middle' font-size='15'>{}</text>\n", W / 2, title);
  for (size_t i = 0; i < values.size(); ++i) {
    double h = plotH * values[i] / double(maxV), x = left + i * barW;
    os << fmt::format("<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='#4477aa'/>\n",
                      x + 1, top + plotH - h, barW - 2, h);
    os << fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle' font-size='10'>{}</text>\n",
                      x + barW / 2, top + plotH - h - 3, values[i]);
    os << fmt::format("<text x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n", x + barW / 2,
                      top + plotH + 16, labels[i]);
  }
  os << fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='black'/>\n", left, top + plotH,
                    left + plotW, top + plotH);
  os << fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='black'/>\n", left, top, left,
                    top + plotH);
  os << fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", left + plotW / 2, H - 16, xLabel);
  os << fmt::format("<text x='16' y='{}' text-anchor='middle' transform='rotate(-90 16 {})'>{}</text>\n",
                    top + plotH / 2, top + plotH / 2, yLabel);
  os << "</svg>\n";
}

} // namespace mest::rt
