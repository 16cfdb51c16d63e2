#include "serve/status_page.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "serve/html.h"
#include "serve/outlook.h"
#include "serve/svg_chart.h"
#include "util/duration.h"

namespace orch {
namespace {

// Light and dark alike (colours with some transparency read on both); the narrow layout turns each
// table row into a small card, so nothing needs sideways scrolling on a phone.
constexpr std::string_view kStyle =
    ":root{color-scheme:light dark}"
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:.6rem .8rem}"
    "h1{font-size:1.3rem;margin:.3rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}h3{font-size:1rem;margin:.8rem 0 "
    ".2rem}"
    "a{color:#1a73e8}.mu{color:#777}.er{color:#c62828}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.25rem .4rem;text-align:left;vertical-align:top;"
    "border-bottom:1px solid #8883}th{font-weight:600}"
    "meter{width:5.5rem;height:.8rem;vertical-align:middle}"
    // The next pass's step (StepClass): ready, deferred, waiting, up to date, below threshold.
    ".sr,.sd{color:#b26a00}.sw{color:#1565c0}.su{color:#2e7d32}.sb,.sc,.sp{color:#666}"
    ".ok{color:#2e7d32}.failed,.locked{color:#c62828}.cancelled,.abandoned,.running{color:#b26a00}"
    ".ch{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.4rem 1rem}"
    "svg{width:100%;height:auto;max-width:28rem}svg text{font-size:10px;fill:currentColor}"
    ".ax{stroke:#888;fill:none}.c0,.c1,.th{fill:none;stroke-width:2}.c0{stroke:#1565c0}.c1{stroke:#2e7d32}"
    ".th{stroke:#c62828;stroke-dasharray:5 4}circle.c0{fill:#1565c0}circle.c1{fill:#2e7d32}circle.th{fill:#c62828}"
    ".acc{fill:#2e7d32;stroke:#2e7d32}.rej{fill:none;stroke:#c62828;stroke-width:2}.unk{fill:#888}"
    ".lg{font-size:.85rem;margin:0}.lg i{display:inline-block;width:1.2em;height:.25em;vertical-align:middle;"
    "margin:0 .3em 0 .6em}.lg i.c0{background:#1565c0}.lg i.c1{background:#2e7d32}"
    ".lg i.th{border-top:2px dashed #c62828;height:0}"
    ".lg i.acc,.lg i.rej{width:.6em;height:.6em;border-radius:50%}.lg i.acc{background:#2e7d32}"
    ".lg i.rej{border:2px solid #c62828}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem}dt{color:#777}dd{margin:0}"
    "@media(max-width:40rem){thead{display:none}tr{display:block;padding:.35rem 0;border-bottom:1px solid #8884}"
    "td{display:inline-block;border:0;padding:.05rem .4rem .05rem 0}td:first-child{display:block;font-weight:600}"
    ".l td:nth-child(3)::before{content:'phase '}.l td:nth-child(4)::before{content:'dataset '}"
    ".l td:nth-child(5)::before{content:'macro-F1 '}.l td::before{color:#777}}";

std::string Timestamp(WallTime time) {
  std::string text = FormatTimestamp(time);  // 2026-11-26T07:31:02.123Z
  if (text.size() >= 19) text = text.substr(0, 10) + " " + text.substr(11, 8);
  return text + " UTC";
}

// "11-26 07:31": under a chart's x axis.
std::string ShortTime(WallTime time) {
  const std::string text = FormatTimestamp(time);
  return text.size() >= 16 ? text.substr(5, 5) + " " + text.substr(11, 5) : text;
}

double SecondsBetween(WallTime from, WallTime to) { return std::chrono::duration<double>(to - from).count(); }

// A step's class, short: the label table has one per label.
const char* StepClass(NextStep step) {
  switch (step) {
    case NextStep::kBelowThreshold: return "sb";
    case NextStep::kReadyToPrepare: return "sr";
    case NextStep::kUpToDate: return "su";
    case NextStep::kCoolingDown: return "sc";
    case NextStep::kPaused: return "sp";
    case NextStep::kWaiting: return "sw";
    case NextStep::kDeferred: return "sd";
  }
  return "sb";
}

std::string Fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The deployed model's macro-F1 as the newest decision says: the new model's when accepted, the one
// it was compared with when rejected.
std::optional<double> ModelScore(const std::vector<ScorePoint>& scores) {
  if (scores.empty()) return std::nullopt;
  const ScorePoint& last = scores.back();
  if (last.accepted == false) return last.deployed_macro_f1;
  return last.macro_f1;
}

class Page {
 public:
  explicit Page(const PageContext& context) : context_(context) {}

  std::string Main() {
    Head(context_.config.name);
    out_ += "<h1>orchestrator <span class=mu>";
    Text(context_.config.name);
    out_ += "</span></h1>";
    SnapshotLine();
    PassLine();
    const Snapshot* snapshot = context_.view.snapshot.get();
    if (snapshot == nullptr) {
      out_ += "<p>No status yet: the database could not be read. <a href=healthz>healthz</a> says why.</p>";
      return Finish();
    }
    const std::vector<std::string> in_flight = CyclesInFlight(snapshot->labels, context_.config, context_.now);
    std::vector<Outlook> outlooks;
    for (const LabelStatus& label : snapshot->labels)
      outlooks.push_back(OutlookOf(label, in_flight, context_.config, context_.now));
    Counts(outlooks);
    LabelTable(*snapshot, outlooks);
    Cycles(*snapshot);
    Charts(*snapshot, outlooks);
    Runs(*snapshot);
    return Finish();
  }

  std::optional<std::string> Label(std::string_view name) {
    const Snapshot* snapshot = context_.view.snapshot.get();
    if (snapshot == nullptr) return std::nullopt;
    size_t index = 0;
    while (index < snapshot->labels.size() && snapshot->labels[index].config->name != name) ++index;
    if (index == snapshot->labels.size()) return std::nullopt;
    const LabelStatus& label = snapshot->labels[index];
    const Outlook outlook = OutlookOf(label, CyclesInFlight(snapshot->labels, context_.config, context_.now),
                                      context_.config, context_.now);
    Head(label.config->name + " - " + context_.config.name);
    out_ += "<h1><a href=\"..\">orchestrator</a> / ";
    Text(label.config->name);
    out_ += "</h1>";
    SnapshotLine();
    out_ += "<dl><dt>evidence<dd>";
    EvidenceBars(label, false);
    out_ += " (" + std::to_string(label.misclassified) + " misclassified + " +
            std::to_string(label.decision.sampled_correct) + " correct)<dt>new corrections<dd>";
    NewCorrectionsBar(label.evidence);
    out_ += " (since the dataset last retrained; MIN_NEW_ROWS)";
    if (label.state.paused_at) {
      out_ += "<dt>paused<dd>since " + Timestamp(*label.state.paused_at) + ": ";
      Text(label.state.paused_reason.value_or(""));
    }
    out_ += "<dt>phase<dd>";
    out_ += PhaseName(label.state.phase);
    out_ += "<dt>next pass<dd class=";
    out_ += StepClass(outlook.step);
    out_ += "><b>";
    out_ += NextStepName(outlook.step);
    out_ += "</b>: ";
    Text(outlook.why);
    out_ += "<dt>dataset<dd>";
    Text(label.state.dataset_version.value_or("none yet"));
    out_ += "<dt>last retrained<dd>";
    if (label.state.last_retrained_version) {
      Text(*label.state.last_retrained_version);
      if (label.state.last_retrained_at) out_ += " at " + Timestamp(*label.state.last_retrained_at);
    } else {
      out_ += "never";
    }
    out_ += "<dt>model macro-F1<dd>";
    const std::optional<double> score = ModelScore(snapshot->scores[index]);
    out_ += score ? Fixed(*score, 3) : "not known (passes run with --wait report it)";
    out_ += "</dl>";
    out_ += label.state.phase == Phase::kIdle ? "<h2>Last cycle</h2>" : "<h2>Current cycle</h2>";
    CycleSteps(label.state);
    out_ += "<h2>Evidence per pass</h2>";
    EvidenceChart(*snapshot, index, false);
    out_ += "<h2>Model score per dataset version</h2>";
    ScoreChart(*snapshot, index, false);
    Decisions(*snapshot, index);
    LabelPasses(*snapshot, index);
    return Finish("../");
  }

 private:
  void Text(std::string_view text) { AppendEscapedHtml(out_, text); }

  void Head(const std::string& title) {
    out_ +=
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width,initial-scale=1\"><title>";
    Text(title);
    out_ += "</title><style>";
    out_ += kStyle;
    out_ += "</style></head><body>";
  }

  // `root` leads from this page to the server's root: "" on it, "../" on a label's page (relative
  // links keep working behind a proxy that serves the pages under a path of its own).
  std::string Finish(const std::string& root = "") {
    out_ += "<p class=mu>As JSON: <a href=\"" + root + "api/status\">api/status</a> · <a href=\"" + root +
            "api/runs\">api/runs</a> · <a href=\"" + root +
            "metrics\">metrics</a> · orchestrator " ORCH_VERSION "</p></body></html>\n";
    return std::move(out_);
  }

  void SnapshotLine() {
    const SnapshotView& view = context_.view;
    out_ += "<p class=mu>";
    if (view.snapshot) {
      out_ += "Counted " + FormatDuration(SecondsBetween(view.snapshot->taken_at, context_.now)) + " ago (" +
              Timestamp(view.snapshot->taken_at) + ", in " + FormatDuration(view.snapshot->took_seconds) +
              "); a request counts again once that is " + FormatDuration(context_.refresh_seconds) + " old.";
    }
    if (view.refreshing) out_ += " Counting again now: reload in a moment.";
    out_ += "</p>";
    if (view.error) {
      out_ += "<p class=er>The last count failed";
      if (view.error_at) out_ += " at " + Timestamp(*view.error_at);
      out_ += ": ";
      Text(*view.error);
      out_ += view.snapshot ? " The figures below are older.</p>" : "</p>";
    }
  }

  void PassLine() {
    out_ += "<p>";
    if (context_.running) {
      out_ += "<span class=running>Pass " + std::to_string(context_.running->id) + " (";
      Text(context_.running->started_by);
      out_ += ") running since " + Timestamp(context_.running->started_at) + ".</span>";
    } else {
      out_ += "No pass running here.";
    }
    if (context_.schedule_seconds) {
      out_ += " Passes every " + FormatInterval(*context_.schedule_seconds);
      if (context_.next_scheduled)
        out_ += "; the next at " + Timestamp(*context_.next_scheduled) + " (in " +
                FormatDuration(SecondsBetween(context_.now, *context_.next_scheduled)) + ")";
      out_ += ".";
    }
    out_ += "</p>";
  }

  void Counts(const std::vector<Outlook>& outlooks) {
    std::map<NextStep, int> counts;
    for (const Outlook& outlook : outlooks) ++counts[outlook.step];
    out_ += "<p>" + std::to_string(outlooks.size()) + (outlooks.size() == 1 ? " label" : " labels");
    const char* separator = ": ";
    for (NextStep step : {NextStep::kWaiting, NextStep::kReadyToPrepare, NextStep::kDeferred, NextStep::kUpToDate,
                          NextStep::kCoolingDown, NextStep::kPaused, NextStep::kBelowThreshold}) {
      if (counts[step] == 0) continue;
      out_ += separator;
      out_ += "<span class=" + std::string(StepClass(step)) + ">" + std::to_string(counts[step]) + " " +
              NextStepName(step) + "</span>";
      separator = " · ";
    }
    out_ += "</p>";
  }

  // Rows toward the threshold; in the table (`in_table`) also new corrections toward MIN_NEW_ROWS
  // where they are what the label waits for (the label's page shows them always, on their own).
  void EvidenceBars(const LabelStatus& label, bool in_table) {
    const int64_t threshold = label.config->threshold;
    const double fraction =
        threshold > 0 ? std::min(1.0, static_cast<double>(label.decision.dataset_len) / static_cast<double>(threshold))
                      : 1.0;
    out_ += "<meter value=" + Fixed(fraction, 2) + "></meter> " + (label.decision.upper_bound ? "≤" : "") +
            std::to_string(label.decision.dataset_len) + "/" + std::to_string(threshold);
    const Evidence& evidence = label.evidence;
    if (in_table && label.state.last_retrained_version &&
        (evidence.min_new_rows > 1 || evidence.hold == Hold::kUpToDate)) {
      out_ += "<br>";
      NewCorrectionsBar(evidence);
    }
  }

  void NewCorrectionsBar(const Evidence& evidence) {
    const double share =
        evidence.new_rows
            ? std::min(1.0, static_cast<double>(*evidence.new_rows) / static_cast<double>(evidence.min_new_rows))
            : 0;
    out_ += "<meter value=" + Fixed(share, 2) + "></meter> " + NewRowsText(evidence);
  }

  void LabelTable(const Snapshot& snapshot, const std::vector<Outlook>& outlooks) {
    out_ +=
        "<h2>Labels</h2><table class=l><thead><tr><th>label<th>rows / threshold<th>phase<th>dataset (✓ retrained)"
        "<th>macro-F1"
        "<th>next pass</thead><tbody>";
    for (size_t i = 0; i < snapshot.labels.size(); ++i) {
      const LabelStatus& label = snapshot.labels[i];
      const LabelState& state = label.state;
      // Label names are [a-z][a-z0-9_]*: safe in a path and unquoted.
      out_ += "<tr><td><a href=labels/" + label.config->name + ">" + label.config->name + "</a><td>";
      EvidenceBars(label, true);
      out_ += "<td>";
      out_ += PhaseName(state.phase);
      out_ += "<td>";
      if (state.dataset_version) {
        Text(*state.dataset_version);
        if (state.last_retrained_version == state.dataset_version) {
          out_ += " ✓";
        } else if (state.last_retrained_version) {
          out_ += " (retrained ";
          Text(*state.last_retrained_version);
          out_ += ")";
        }
      } else {
        out_ += "–";
      }
      out_ += "<td>";
      const std::optional<double> score = ModelScore(snapshot.scores[i]);
      out_ += score ? Fixed(*score, 3) : "–";
      out_ += "<td class=";
      out_ += StepClass(outlooks[i].step);
      out_ += ">";
      out_ += NextStepName(outlooks[i].step);
      if (outlooks[i].step == NextStep::kBelowThreshold)
        out_ += " (" + std::to_string(label.config->threshold - label.decision.dataset_len) + " more)";
      out_ += "\n";
    }
    out_ += "</tbody></table>";
  }

  void Step(const std::string& text) {
    out_ += "<li>";
    Text(text);
  }

  void CycleSteps(const LabelState& state) {
    if (!state.prepare_requested_at && !state.dataset_version && !state.retrain_requested_at) {
      out_ += "<p>No cycle recorded yet.</p>";
      return;
    }
    out_ += "<ol>";
    if (state.prepare_requested_at)
      Step("prepare requested at " + Timestamp(*state.prepare_requested_at) +
           (state.prepare_confirmed ? ", the worker's start confirmed" : ", the worker's start not confirmed"));
    if (state.phase == Phase::kPreparing) {
      Step("waiting for a dataset of at least " + std::to_string(state.required_len.value_or(0)) +
           " samples newer than " + state.baseline_version.value_or("none") + " (the version before the request)");
    } else if (state.dataset_version) {
      Step("dataset " + *state.dataset_version + " published (after " + state.baseline_version.value_or("none") + ")");
    }
    if (state.dataset_version && state.phase != Phase::kPreparing) {
      if (state.retrain_requested_at) {
        Step("retrain of " + *state.dataset_version + " requested at " + Timestamp(*state.retrain_requested_at) +
             (state.retrain_confirmed ? ", confirmed" : ", not confirmed yet"));
      } else if (state.phase == Phase::kRetraining) {
        Step("retrain of " + *state.dataset_version +
             " not sent yet (the last attempt failed; the next pass sends it)");
      }
    }
    if (state.phase == Phase::kIdle && state.last_retrained_version)
      Step(*state.last_retrained_version + " retrained" +
           (state.last_retrained_at ? " at " + Timestamp(*state.last_retrained_at) : ""));
    out_ += "</ol>";
  }

  void Cycles(const Snapshot& snapshot) {
    bool any = false;
    for (const LabelStatus& label : snapshot.labels) {
      if (label.state.phase == Phase::kIdle) continue;
      if (!any) out_ += "<h2>Cycles in progress</h2>";
      any = true;
      out_ += "<h3><a href=labels/" + label.config->name + ">" + label.config->name + "</a>: ";
      out_ += PhaseName(label.state.phase);
      out_ += "</h3>";
      CycleSteps(label.state);
    }
  }

  void EvidenceChart(const Snapshot& snapshot, size_t index, bool compact) {
    const std::vector<EvidencePoint>& points = snapshot.evidence[index];
    LineChartSpec spec;
    const std::string& name = snapshot.labels[index].config->name;
    spec.title = name + ": misclassified rows and dataset_len per pass, against the threshold";
    spec.lines = {{"c0", {}}, {"c1", {}}, {"th", {}}};
    std::optional<size_t> first, last;  // the oldest and newest pass that counted the label
    for (size_t j = 0; j < points.size(); ++j) {
      if (!points[j].counted()) continue;
      spec.lines[0].values.push_back(points[j].misclassified);
      spec.lines[1].values.push_back(points[j].dataset_len);
      spec.lines[2].values.push_back(points[j].threshold);
      if (!first) first = j;
      last = j;
    }
    if (!first) {
      out_ += "<p class=mu>No pass in the last " + std::to_string(snapshot.runs.size()) + " counted this label.</p>";
      return;
    }
    spec.first_x = ShortTime(snapshot.runs[points.size() - 1 - *first].record.started_at);
    spec.last_x = ShortTime(snapshot.runs[points.size() - 1 - *last].record.started_at);
    out_ += RenderLineChart(spec);
    out_ += "<p class=lg><i class=c0></i>misclassified<i class=c1></i>dataset_len<i class=th></i>threshold";
    if (!compact) out_ += " · " + std::to_string(spec.lines[0].values.size()) + " passes";
    out_ += "</p>";
  }

  void ScoreChart(const Snapshot& snapshot, size_t index, bool compact) {
    const std::vector<ScorePoint>& scores = snapshot.scores[index];
    if (scores.empty()) {
      if (!compact)
        out_ += "<p class=mu>No retrain decision in the last " + std::to_string(snapshot.runs.size()) +
                " passes (a pass run with --wait, or by this server with \"wait\": true, reports it).</p>";
      return;
    }
    std::vector<ScoreMark> marks;
    for (const ScorePoint& score : scores) marks.push_back({score.dataset_version, score.macro_f1, score.accepted});
    out_ += RenderScoreChart(snapshot.labels[index].config->name + ": macro-F1 per dataset version", marks);
    out_ += "<p class=lg><i class=acc></i>accepted (deployed)<i class=rej></i>rejected</p>";
  }

  void Charts(const Snapshot& snapshot, const std::vector<Outlook>& outlooks) {
    // Every label when there are few; otherwise those nearest to a step: in a cycle or ready first,
    // then the fullest.
    std::vector<size_t> order(snapshot.labels.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto rank = [&](size_t i) {
      const NextStep step = outlooks[i].step;
      return step == NextStep::kWaiting ? 0 : step == NextStep::kReadyToPrepare || step == NextStep::kDeferred ? 1 : 2;
    };
    auto fill = [&](size_t i) {
      const LabelStatus& label = snapshot.labels[i];
      return label.config->threshold > 0
                 ? static_cast<double>(label.decision.dataset_len) / static_cast<double>(label.config->threshold)
                 : 0.0;
    };
    const bool all = order.size() <= 2 * kChartedLabels;
    if (!all) {
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return rank(a) != rank(b) ? rank(a) < rank(b) : fill(a) > fill(b); });
      order.resize(kChartedLabels);
    }
    out_ += "<h2>Charts</h2>";
    if (!all)
      out_ += "<p class=mu>The " + std::to_string(kChartedLabels) + " labels nearest to a step; every label's page " +
              "has its own.</p>";
    out_ += "<div class=ch>";
    for (size_t i : order) {
      out_ += "<section><h3><a href=labels/" + snapshot.labels[i].config->name + ">" + snapshot.labels[i].config->name +
              "</a></h3>";
      EvidenceChart(snapshot, i, true);
      ScoreChart(snapshot, i, true);
      out_ += "</section>";
    }
    out_ += "</div>";
  }

  void GithubCell(const RunRecord& run) {
    out_ += "<td>";
    if (run.github_run_id.empty()) return;
    const std::string url = GithubRunUrl(context_.config.github_repository, run.github_run_id);
    if (url.empty()) {
      Text(run.github_run_id);
      return;
    }
    out_ += "<a href=\"" + url + "\">";
    Text(run.github_run_id);
    out_ += "</a>";
  }

  void Runs(const Snapshot& snapshot) {
    out_ += "<h2>Recent passes</h2>";
    if (snapshot.runs.empty()) {
      out_ += "<p>No pass recorded yet.</p>";
      return;
    }
    out_ +=
        "<table><thead><tr><th>pass<th>started<th>took<th>status<th>started by<th>GitHub run<th>labels"
        "</thead><tbody>";
    for (size_t i = 0; i < std::min(kListedRuns, snapshot.runs.size()); ++i) {
      const RunDigest& digest = snapshot.runs[i];
      const RunRecord& run = digest.record;
      out_ += "<tr><td>" + std::to_string(run.id) + "<td>" + Timestamp(run.started_at) + "<td>";
      out_ += run.finished_at ? FormatDuration(SecondsBetween(run.started_at, *run.finished_at)) : "–";
      out_ += "<td class=\"";
      Text(run.status);
      out_ += "\">";
      Text(run.status);
      out_ += "<td>";
      Text(run.started_by.empty() ? "?" : run.started_by);
      GithubCell(run);
      out_ += "<td>";
      const char* separator = "";
      for (const auto& [outcome, count] : digest.outcomes) {
        out_ += separator + std::to_string(count) + " ";
        Text(outcome);
        separator = ", ";
      }
      if (digest.error) {
        out_ += "<span class=er>";
        Text(std::string(*separator ? " " : "") + *digest.error);
        out_ += "</span>";
      }
      out_ += "\n";
    }
    out_ += "</tbody></table>";
  }

  void Decisions(const Snapshot& snapshot, size_t index) {
    const std::vector<ScorePoint>& scores = snapshot.scores[index];
    if (scores.empty()) return;
    out_ += "<table><thead><tr><th>dataset<th>new model<th>deployed model<th>decision<th>pass</thead><tbody>";
    for (auto score = scores.rbegin(); score != scores.rend(); ++score) {
      out_ += "<tr><td>";
      Text(score->dataset_version);
      out_ += "<td>" + Fixed(score->macro_f1, 3) + "<td>";
      out_ += score->deployed_macro_f1 ? Fixed(*score->deployed_macro_f1, 3) : "none";
      out_ += !score->accepted ? "<td>–" : *score->accepted ? "<td class=ok>accepted" : "<td class=failed>rejected";
      out_ += "<td>" + std::to_string(snapshot.runs[score->run].record.id) + "\n";
    }
    out_ += "</tbody></table>";
  }

  void LabelPasses(const Snapshot& snapshot, size_t index) {
    const std::vector<EvidencePoint>& points = snapshot.evidence[index];
    if (std::none_of(points.begin(), points.end(), [](const EvidencePoint& point) { return point.counted(); })) return;
    out_ +=
        "<h2>Passes</h2><table><thead><tr><th>pass<th>started<th>misclassified<th>dataset_len<th>threshold"
        "</thead><tbody>";
    for (size_t run = 0; run < points.size(); ++run) {  // newest first
      const EvidencePoint& point = points[points.size() - 1 - run];
      if (!point.counted()) continue;
      const RunRecord& record = snapshot.runs[run].record;
      out_ += "<tr><td>" + std::to_string(record.id) + "<td>" + Timestamp(record.started_at) + "<td>" +
              std::to_string(point.misclassified) + "<td>" + std::to_string(point.dataset_len) + "<td>" +
              std::to_string(point.threshold) + "\n";
    }
    out_ += "</tbody></table>";
  }

  const PageContext& context_;
  std::string out_;
};

bool IsRepositoryPart(std::string_view part) {
  return !part.empty() && part != "." && part != ".." && std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
  });
}

}  // namespace

std::string RenderStatusPage(const PageContext& context) { return Page(context).Main(); }

std::optional<std::string> RenderLabelPage(const PageContext& context, std::string_view label) {
  return Page(context).Label(label);
}

std::string GithubRunUrl(const std::string& repository, const std::string& run_id) {
  const size_t slash = repository.find('/');
  if (slash == std::string::npos || !IsRepositoryPart(std::string_view(repository).substr(0, slash)) ||
      !IsRepositoryPart(std::string_view(repository).substr(slash + 1)))
    return "";
  if (run_id.empty() || !std::all_of(run_id.begin(), run_id.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "";
  return "https://github.com/" + repository + "/actions/runs/" + run_id;
}

}  // namespace orch
