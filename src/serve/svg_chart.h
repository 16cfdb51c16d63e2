// The status page's charts, drawn on the server as inline SVG: no script, no image file, no
// request of their own. Colours and strokes come from the page's style sheet (the classes below),
// so a chart is only geometry and a few words.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace orch {

// One line: a value per step of the x axis (every line of a chart has as many).
struct ChartLine {
  std::string css_class;  // "c0", "c1" (data), "th" (a threshold: dashed)
  std::vector<double> values;
};

struct LineChartSpec {
  std::string title;  // said by screen readers and shown on hover
  std::vector<ChartLine> lines;
  std::string first_x, last_x;  // the labels under both ends of the x axis
};

// Lines over a y axis from 0 to a round number above the largest value; "" when there is no value.
std::string RenderLineChart(const LineChartSpec& spec);

// One model score: a dataset version's macro-F1, accepted (filled), rejected (hollow) or neither.
struct ScoreMark {
  std::string version;
  double value = 0;
  std::optional<bool> accepted;
};

// The scores in order, joined by a line, on a y axis from the tenth below the lowest to the tenth
// above the highest (within 0 to 1); "" when there is none.
std::string RenderScoreChart(const std::string& title, const std::vector<ScoreMark>& marks);

// The largest of 1, 2 or 5 times a power of ten that is not below `value` (1 for 0 or less).
double RoundUp(double value);

}  // namespace orch
