#include "support/demo_copy.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "support/subprocess.h"

namespace orch::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "orch-demo-template-";

std::string UserSuffix() { return "-uid" + std::to_string(geteuid()); }

// One template per binary: a rebuilt binary may write another demo.
fs::path TemplatePath(const std::string& binary) {
  struct stat info {};
  if (stat(binary.c_str(), &info) != 0) throw std::runtime_error("cannot stat " + binary);
  const long long modified = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  return fs::temp_directory_path() /
         (std::string(kPrefix) + std::to_string(info.st_size) + "-" + std::to_string(modified) + UserSuffix());
}

// An exclusive flock on a file, released when destroyed. With `wait` false, held() says whether it
// was had at once.
class FileLock {
 public:
  explicit FileLock(const std::string& path, bool wait = true)
      : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path);
    held_ = flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0;
    if (!held_ && wait) throw std::runtime_error("cannot lock " + path);
  }
  ~FileLock() { close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool held() const { return held_; }

 private:
  int fd_;
  bool held_ = false;
};

// Removes this user's templates of other binaries (and their lock files) that no test uses now.
void RemoveOtherTemplates(const fs::path& kept) {
  std::error_code error;
  std::vector<fs::path> others;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::temp_directory_path(), error)) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".lock")) name.resize(name.size() - 5);
    if (name.starts_with(kPrefix) && name.ends_with(UserSuffix()) && name != kept.filename().string())
      others.push_back(entry.path().parent_path() / name);
  }
  for (const fs::path& other : others) {
    const std::string lock_path = other.string() + ".lock";
    if (!fs::exists(lock_path, error)) continue;  // seen twice, already gone
    FileLock lock(lock_path, /*wait=*/false);
    if (!lock.held()) continue;  // in use: the next new template removes it
    fs::remove_all(other, error);
    fs::remove(lock_path, error);
  }
}

void MakeTemplate(const std::string& binary, const fs::path& target) {
  const fs::path staging = target.string() + ".staging-" + std::to_string(getpid());
  fs::remove_all(staging);
  ProcessResult demo = Subprocess::Run({binary, "demo", "--dir", staging.string()}, {{"PATH", "/usr/bin:/bin"}}, "",
                                       std::chrono::minutes(5));
  if (demo.exit_code != 0) {
    fs::remove_all(staging);
    throw std::runtime_error("orchestrator demo failed (exit " + std::to_string(demo.exit_code) + "):\n" + demo.out +
                             demo.err);
  }
  fs::rename(staging, target);
}

}  // namespace

void CopyDemo(const std::string& binary, const fs::path& dir) {
  const fs::path source = TemplatePath(binary);
  // Held while the template is made and copied (a few milliseconds): no cleaner removes it meanwhile.
  FileLock lock(source.string() + ".lock");
  if (!fs::exists(source / "demo.db")) {
    MakeTemplate(binary, source);
    RemoveOtherTemplates(source);
  }
  fs::copy(source, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

std::map<std::string, std::string> DemoEnvironment(const std::string& binary, const fs::path& dir) {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"},
      {"DATABASE_URL", "sqlite:///" + (dir / "demo.db").string()},
      {"LABELS", "department,urgency"},
      {"CORRECT_RATIO", "0.5"},
      {"POLL_INTERVAL", "0.1"},
      {"POLL_TIMEOUT", "120"},
      {"ORCHESTRATOR_NAME", "demo"},
      {"WORKER_LOG_DIR", (dir / "logs").string()},
      {"PREPARE_DATASET_REPO", "command:" + binary + " prepare --hub " + (dir / "hub").string()}};
  for (const std::string label : {"department", "urgency"}) {
    const std::string upper = label == "department" ? "DEPARTMENT" : "URGENCY";
    env["THRESHOLD_" + upper] = "300";
    env["RETRAIN_" + upper + "_REPO"] = "command:" + binary + " retrain --label " + label + " --dataset " +
                                        (dir / "hub" / label).string() + " --models " + (dir / "models").string() +
                                        " --json";
    env["HF_HUB_METADATA_" + upper] = "file://" + (dir / "hub" / label / "dataset_metadata.json").string();
  }
  return env;
}

}  // namespace orch::testing
