// The status page (GET /) and each label's own page (GET /labels/<name>), rendered on the server
// from the status snapshot: plain HTML with its style sheet inline, no script and no request to
// anywhere (the only outside addresses are links to GitHub runs a reader may click). Readable on a
// phone; with 1,000 labels the page stays under 200 KiB because it charts only the labels nearest
// to a step, and each label's own page has all of its charts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "serve/snapshot_keeper.h"

namespace orch {

// A pass this server is running.
struct RunningPass {
  int64_t id = 0;
  std::string started_by;
  WallTime started_at{};
};

struct PageContext {
  const Config& config;
  SnapshotView view;
  WallTime now{};
  std::optional<RunningPass> running;
  std::optional<double> schedule_seconds;  // --schedule, when set
  std::optional<WallTime> next_scheduled;
  double refresh_seconds = 60;
};

// Labels charted on the status page when there are more than twice as many (with fewer, all are):
// those nearest to a step.
inline constexpr size_t kChartedLabels = 6;
// Passes listed on the status page.
inline constexpr size_t kListedRuns = 20;

std::string RenderStatusPage(const PageContext& context);

// The page of one configured label; nothing when `label` is not one (or no snapshot exists yet).
std::optional<std::string> RenderLabelPage(const PageContext& context, std::string_view label);

// https://github.com/<repository>/actions/runs/<id>, or "" when either is unknown or not plain.
std::string GithubRunUrl(const std::string& repository, const std::string& run_id);

}  // namespace orch
