#include "report/history.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "report/status.h"
#include "util/redact.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json TextOrNull(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

// A summary member shown as text: a string made Printable, a number or boolean as JSON writes it,
// `fallback` for anything else (absent, null, an object) or when `object` is no object at all.
std::string Field(const Json& object, const char* key, const char* fallback) {
  if (!object.is_object()) return fallback;
  const auto found = object.find(key);
  if (found == object.end()) return fallback;
  if (found->is_string()) return Printable(found->get_ref<const std::string&>());
  if (found->is_number() || found->is_boolean()) return found->dump();
  return fallback;
}

// The labels of a summary: its "labels" array, or nothing.
const Json& Labels(const Json& summary) {
  static const Json kNone = Json::array();
  if (!summary.is_object()) return kNone;
  const auto found = summary.find("labels");
  return found != summary.end() && found->is_array() ? *found : kNone;
}

}  // namespace

std::optional<double> RunSeconds(const RunRecord& run) {
  if (!run.finished_at) return std::nullopt;
  return std::chrono::duration<double>(*run.finished_at - run.started_at).count();
}

std::string RunDuration(const RunRecord& run) {
  const std::optional<double> seconds = RunSeconds(run);
  if (!seconds) return "-";
  std::ostringstream text;
  text << std::fixed << std::setprecision(1);
  if (*seconds < 60) {
    text << *seconds << " s";
  } else {
    text << std::setprecision(0) << std::floor(*seconds / 60) << " min " << std::fmod(*seconds, 60) << " s";
  }
  return text.str();
}

Json RunJson(const RunRecord& run) {
  Json summary = Json::parse(run.summary_json, nullptr, false);
  const std::optional<double> seconds = RunSeconds(run);
  return {{"id", run.id},
          {"started_at", FormatTimestamp(run.started_at)},
          {"finished_at", JsonOrNull(run.finished_at)},
          {"duration_seconds", seconds ? Json(*seconds) : Json(nullptr)},
          {"status", run.status},
          {"dry_run", run.dry_run},
          {"started_by", TextOrNull(run.started_by)},
          {"github_run_id", TextOrNull(run.github_run_id)},
          {"commit", TextOrNull(run.commit)},
          {"summary", summary.is_discarded() ? Json(nullptr) : summary}};
}

std::string RunLine(const RunRecord& run) {
  std::ostringstream line;
  line << std::setw(6) << run.id << "  " << FormatTimestamp(run.started_at) << "  " << std::setw(8) << RunDuration(run)
       << "  " << std::left << std::setw(10) << Printable(run.status) << std::right << std::setw(8)
       << Printable(run.started_by);
  const Json summary = Json::parse(run.summary_json, nullptr, false);
  if (summary.is_object() && summary.contains("action"))
    line << "  " << Field(summary, "label", "?") << ": " << Field(summary, "reason", "");
  for (const Json& label : Labels(summary))
    line << "  " << Field(label, "label", "?") << "=" << Field(label, "outcome", "?");
  return line.str();
}

std::string RunText(const RunRecord& run) {
  std::ostringstream text;
  text << "pass " << run.id << ": " << Printable(run.status) << (run.dry_run ? " (dry run)" : "") << "\n  started  "
       << FormatTimestamp(run.started_at) << " by " << (run.started_by.empty() ? "?" : Printable(run.started_by))
       << "\n";
  if (run.finished_at)
    text << "  finished " << FormatTimestamp(*run.finished_at) << " after " << RunDuration(run) << "\n";
  if (!run.github_run_id.empty()) text << "  GitHub run " << Printable(run.github_run_id) << "\n";
  if (!run.commit.empty()) text << "  commit " << Printable(run.commit) << "\n";
  const Json summary = Json::parse(run.summary_json, nullptr, false);
  if (!summary.is_object()) return text.str();
  if (const std::string error = Field(summary, "error", ""); !error.empty()) text << "  error: " << error << "\n";
  for (const Json& label : Labels(summary)) {
    text << "  " << Field(label, "label", "?") << ": " << Field(label, "outcome", "?") << ", "
         << Field(label, "dataset_len", "0") << " / " << Field(label, "threshold", "0") << " rows";
    if (const std::string version = Field(label, "dataset_version", ""); !version.empty())
      text << ", dataset " << version;
    if (const std::string run = Field(label, "prepare_run", ""); !run.empty()) text << ", prepare job " << run;
    if (const std::string run = Field(label, "retrain_run", ""); !run.empty()) text << ", retrain job " << run;
    if (const std::string error = Field(label, "error", ""); !error.empty()) text << ", " << error;
    text << "\n";
  }
  return text.str();
}

}  // namespace orch
