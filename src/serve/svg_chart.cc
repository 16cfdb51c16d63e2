#include "serve/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "serve/html.h"
#include "util/strings.h"

namespace orch {
namespace {

// The drawing area inside a 320 x 130 view box; text goes left of it and under it.
constexpr double kLeft = 36, kRight = 314, kTop = 8, kBottom = 106;

std::string Coordinate(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", value);
  return text;
}

double X(size_t i, size_t count) {
  if (count <= 1) return (kLeft + kRight) / 2;
  return kLeft + (kRight - kLeft) * static_cast<double>(i) / static_cast<double>(count - 1);
}

double Y(double value, double low, double high) {
  const double fraction = high > low ? (value - low) / (high - low) : 0;
  return kBottom - (kBottom - kTop) * std::clamp(fraction, 0.0, 1.0);
}

void Open(std::string& svg, const std::string& title) {
  svg += "<svg viewBox=\"0 0 320 130\" role=\"img\" aria-label=\"";
  AppendEscapedHtml(svg, title);
  svg += "\"><title>";
  AppendEscapedHtml(svg, title);
  svg += "</title><path class=\"ax\" d=\"M" + Coordinate(kLeft) + " " + Coordinate(kTop) + "V" + Coordinate(kBottom) +
         "H" + Coordinate(kRight) + "\"/>";
}

void Text(std::string& svg, double x, double y, const char* anchor, const std::string& text) {
  svg += "<text x=\"" + Coordinate(x) + "\" y=\"" + Coordinate(y) + "\" text-anchor=\"" + anchor + "\">";
  AppendEscapedHtml(svg, text);
  svg += "</text>";
}

void AxisLabels(std::string& svg, const std::string& high, const std::string& low, const std::string& first_x,
                const std::string& last_x) {
  Text(svg, kLeft - 4, kTop + 4, "end", high);
  Text(svg, kLeft - 4, kBottom, "end", low);
  Text(svg, kLeft, kBottom + 16, "start", first_x);
  if (last_x != first_x) Text(svg, kRight, kBottom + 16, "end", last_x);
}

std::string Points(const std::vector<double>& values, double low, double high) {
  std::string points;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) points += ' ';
    points += Coordinate(X(i, values.size())) + "," + Coordinate(Y(values[i], low, high));
  }
  return points;
}

std::string Fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

double RoundUp(double value) {
  if (!(value > 0)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(value)));
  for (double step : {1.0, 2.0, 5.0, 10.0})
    if (step * power >= value) return step * power;
  return 10 * power;
}

std::string RenderLineChart(const LineChartSpec& spec) {
  double largest = 0;
  size_t steps = 0;
  for (const ChartLine& line : spec.lines) {
    steps = std::max(steps, line.values.size());
    for (double value : line.values) largest = std::max(largest, value);
  }
  if (steps == 0) return "";
  const double high = RoundUp(largest);
  std::string svg;
  Open(svg, spec.title);
  AxisLabels(svg, FormatNumber(high), "0", spec.first_x, spec.last_x);
  for (const ChartLine& line : spec.lines) {
    if (line.values.empty()) continue;
    if (line.values.size() == 1) {
      svg += "<circle class=\"" + line.css_class + "\" cx=\"" + Coordinate(X(0, 1)) + "\" cy=\"" +
             Coordinate(Y(line.values[0], 0, high)) + "\" r=\"3\"/>";
      continue;
    }
    svg += "<polyline class=\"" + line.css_class + "\" points=\"" + Points(line.values, 0, high) + "\"/>";
  }
  return svg + "</svg>";
}

std::string RenderScoreChart(const std::string& title, const std::vector<ScoreMark>& marks) {
  if (marks.empty()) return "";
  double lowest = 1, highest = 0;
  std::vector<double> values;
  for (const ScoreMark& mark : marks) {
    lowest = std::min(lowest, mark.value);
    highest = std::max(highest, mark.value);
    values.push_back(mark.value);
  }
  double low = std::max(0.0, std::floor(lowest * 10) / 10);
  double high = std::min(1.0, std::ceil(highest * 10) / 10);
  if (high <= low) {
    low = std::max(0.0, high - 0.1);
    high = low + 0.1;
  }
  std::string svg;
  Open(svg, title);
  AxisLabels(svg, Fixed(high, 1), Fixed(low, 1), marks.front().version, marks.back().version);
  if (marks.size() > 1) svg += "<polyline class=\"c0\" points=\"" + Points(values, low, high) + "\"/>";
  for (size_t i = 0; i < marks.size(); ++i) {
    const ScoreMark& mark = marks[i];
    const char* kind = !mark.accepted ? "unk" : *mark.accepted ? "acc" : "rej";
    svg += "<circle class=\"" + std::string(kind) + "\" cx=\"" + Coordinate(X(i, marks.size())) + "\" cy=\"" +
           Coordinate(Y(mark.value, low, high)) + "\" r=\"4\"><title>";
    AppendEscapedHtml(svg, mark.version + ": macro-F1 " + Fixed(mark.value, 3) +
                               (!mark.accepted   ? ""
                                : *mark.accepted ? ", accepted"
                                                 : ", rejected"));
    svg += "</title></circle>";
  }
  return svg + "</svg>";
}

}  // namespace orch
