#include "support/demo_copy.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "support/subprocess.h"

namespace orch::testing {
namespace {

namespace fs = std::filesystem;

// One template per binary: a rebuilt binary may write another demo.
fs::path TemplatePath(const std::string& binary) {
  struct stat info {};
  if (stat(binary.c_str(), &info) != 0) throw std::runtime_error("cannot stat " + binary);
  const long long modified = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  return fs::temp_directory_path() / ("orch-demo-template-" + std::to_string(info.st_size) + "-" +
                                      std::to_string(modified) + "-uid" + std::to_string(geteuid()));
}

// An exclusive flock on a file, released when destroyed.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0 || flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path);
  }
  ~FileLock() { close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

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
  {
    FileLock lock(source.string() + ".lock");
    if (!fs::exists(source / "demo.db")) MakeTemplate(binary, source);
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
