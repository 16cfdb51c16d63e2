#include "triggers/command_trigger.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "config/target.h"
#include "util/durable_file.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr int kLogLinesInMessages = 5;
// A start record is a one-line JSON object; anything larger is not one.
constexpr uint64_t kMaxRecordBytes = 64 << 10;

std::string FileStamp(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// A file-name-safe form of a label list ("department,urgency" -> "department-urgency").
std::string FileSafe(std::string text) {
  for (char& c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '-';
  return text.empty() ? "worker" : text;
}

void WriteRecord(const std::string& path, pid_t pid, const std::string& log_path) {
  const std::optional<unsigned long long> start = ProcessStartTime(pid);
  const nlohmann::json record = {{"pid", pid}, {"start_time", start.value_or(0)}, {"log", log_path}};
  try {
    ReplaceFileAtomically(path, record.dump() + "\n");
  } catch (const WorkerError&) {
    // Best effort: the worker runs already. Without the record a later pass sees it as not running.
  }
}

}  // namespace

std::string LastJsonLine(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string line = text.substr(start, end - start);
    if (line.starts_with('{')) {
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object()) return parsed.dump();
    }
    if (start == 0) break;
    end = start - 1;
  }
  return "";
}

CommandTrigger::CommandTrigger(std::string log_dir, std::vector<std::string> environment, Clock& clock)
    : log_dir_(std::move(log_dir)), environment_(std::move(environment)), clock_(clock) {}

std::vector<StartResult> CommandTrigger::Start(std::span<const StartRequest> requests) {
  std::vector<StartResult> results;
  for (const StartRequest& request : requests) results.push_back(StartOne(request));
  return results;
}

StartResult CommandTrigger::StartOne(const StartRequest& request) {
  std::error_code error;
  std::filesystem::create_directories(log_dir_, error);
  if (error) return {false, "cannot create the worker log directory " + log_dir_ + ": " + error.message()};
  const std::string log_path = NewLogPath(request);
  std::vector<std::string> environment = environment_;
  environment.insert(environment.end(), {
                                            "ORCHESTRATOR_LABEL=" + request.label,
                                            "ORCHESTRATOR_REQUIRED_LEN=" + std::to_string(request.required_len),
                                            "ORCHESTRATOR_BASELINE_VERSION=" + request.baseline_version,
                                            "ORCHESTRATOR_DATASET_VERSION=" + request.dataset_version,
                                            "ORCHESTRATOR_IDEMPOTENCY_KEY=" + request.idempotency_key,
                                        });
  try {
    auto run =
        std::make_unique<Run>(Run{ChildProcess(ParseTarget(request.target).argv, environment, log_path), log_path});
    WriteRecord(RecordPath(request.target), run->process.pid(), log_path);
    const std::string detail = "pid " + std::to_string(run->process.pid()) + ", log " + log_path;
    runs_[request.target] = std::move(run);
    return {true, detail};
  } catch (const std::exception& failure) {
    return {false, failure.what()};
  }
}

std::vector<WorkerState> CommandTrigger::Inspect(std::span<const WorkerRef> workers, TimeBudget) {
  std::vector<WorkerState> states;
  for (const WorkerRef& worker : workers) {
    auto own = runs_.find(worker.target);
    states.push_back(own != runs_.end() ? InspectOwn(*own->second) : InspectRecorded(worker.target));
    states.back().evidence = WorkerState::Evidence::kProcess;
  }
  return states;
}

WorkerState CommandTrigger::InspectOwn(Run& run) {
  const std::optional<int> status = run.process.Poll();
  const std::string pid = "pid " + std::to_string(run.process.pid());
  if (!status) return {WorkerState::Health::kActive, pid + " running, log " + run.log_path};
  if (*status == 0) {
    return {WorkerState::Health::kFinished, pid + " exited with status 0, log " + run.log_path,
            LastJsonLine(LastLines(run.log_path, 20))};
  }
  return {WorkerState::Health::kFailed, pid + " " + DescribeExit(*status) + "; last lines of " + run.log_path + ":\n" +
                                            LastLines(run.log_path, kLogLinesInMessages)};
}

WorkerState CommandTrigger::InspectRecorded(const std::string& target) {
  std::optional<std::string> text;
  try {
    text = ReadRegularFile(RecordPath(target), kMaxRecordBytes, "the record of the worker's last start");
  } catch (const WorkerError& error) {
    return {WorkerState::Health::kUnknown, error.what()};  // cannot tell: never start it blind
  }
  const nlohmann::json record = nlohmann::json::parse(text.value_or(""), nullptr, /*allow_exceptions=*/false);
  if (!record.is_object() || !record.contains("pid"))
    return {WorkerState::Health::kFinished, "not running (no earlier start recorded)"};
  const pid_t pid = record.value("pid", 0);
  const unsigned long long start = record.value("start_time", 0ULL);
  const std::string log = record.value("log", "");
  if (pid > 0 && ProcessStartTime(pid) == start)
    return {WorkerState::Health::kActive,
            "pid " + std::to_string(pid) + " (started by an earlier pass) running, log " + log};
  return {WorkerState::Health::kFinished,
          "pid " + std::to_string(pid) + " (started by an earlier pass) has ended, log " + log};
}

std::string CommandTrigger::RecordPath(const std::string& target) const {
  return log_dir_ + "/worker-" + IdempotencyKey(target, "").substr(0, 16) + ".json";
}

std::string CommandTrigger::NewLogPath(const StartRequest& request) {
  const std::string base = log_dir_ + "/" + FileSafe(request.label.empty() ? "prepare" : request.label) + "-" +
                           (request.dataset_version.empty() ? "prepare" : "retrain") + "-" +
                           FileStamp(clock_.WallNow());
  std::string path = base + ".log";
  for (int n = 2; std::filesystem::exists(path); ++n) path = base + "-" + std::to_string(n) + ".log";
  return path;
}

}  // namespace orch
