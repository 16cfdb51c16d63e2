// Subprocess runs real children: exit statuses, signals, both pipes drained, a replaced environment.
#include "support/subprocess.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "support/temp_dir.h"

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kPatience(20000);
const std::map<std::string, std::string> kPath = {{"PATH", "/usr/bin:/bin"}};

ProcessResult Shell(const std::string& script, std::optional<std::string> stdin_text = std::nullopt) {
  return Subprocess::Run({"/bin/sh", "-c", script}, kPath, "", kPatience, std::move(stdin_text));
}

// Sets a signal's disposition for one test and restores it after.
class ScopedSignalDisposition {
 public:
  ScopedSignalDisposition(int sig, void (*handler)(int)) : sig_(sig) {
    struct sigaction wanted {};
    wanted.sa_handler = handler;
    sigaction(sig_, &wanted, &previous_);
  }
  ~ScopedSignalDisposition() { sigaction(sig_, &previous_, nullptr); }
  ScopedSignalDisposition(const ScopedSignalDisposition&) = delete;
  ScopedSignalDisposition& operator=(const ScopedSignalDisposition&) = delete;

 private:
  int sig_;
  struct sigaction previous_ {};
};

// Waits (without sleeping) until the process `pid`, not our child, has ended.
bool ProcessEnds(pid_t pid, milliseconds timeout) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd exited{fd, POLLIN, 0};
  int ready = poll(&exited, 1, static_cast<int>(timeout.count()));
  close(fd);
  return ready == 1;
}

TEST(SubprocessExit, ReportsTheExitCode) {
  EXPECT_EQ(Shell("exit 0").exit_code, 0);
  ProcessResult failed = Shell("exit 3");
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.term_signal, 0);
  EXPECT_FALSE(failed.timed_out);
}

TEST(SubprocessExit, SeparatesStdoutAndStderr) {
  ProcessResult result = Shell("echo to-out; echo to-err >&2; exit 1");
  EXPECT_EQ(result.out, "to-out\n");
  EXPECT_EQ(result.err, "to-err\n");
  EXPECT_EQ(result.exit_code, 1);
}

TEST(SubprocessExit, AProgramThatCannotBeFoundThrows) {
  EXPECT_THROW(Subprocess({"no-such-program-here"}, kPath), std::system_error);
  EXPECT_THROW(Subprocess({"/nonexistent/program"}, {}), std::system_error);
}

TEST(SubprocessSignals, ReportsTheSignalThatEndedTheChild) {
  ProcessResult result = Shell("kill -TERM $$");
  EXPECT_EQ(result.term_signal, SIGTERM);
  EXPECT_EQ(result.exit_code, -1);
}

TEST(SubprocessSignals, SignalReachesARunningChildAtTheRightMoment) {
  Subprocess child({"/bin/sh", "-c", "trap 'kill $!; echo got-term; exit 7' TERM; echo ready; sleep 30 & wait"}, kPath);
  ASSERT_TRUE(child.WaitForOutput("ready", kPatience));
  child.Signal(SIGTERM);
  ProcessResult result = child.Wait(kPatience);
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_EQ(result.out, "ready\ngot-term\n");
}

TEST(SubprocessSignals, UntrappedSignalEndsTheChild) {
  Subprocess child({"/bin/sleep", "30"}, {});
  child.Signal(SIGINT);
  ProcessResult result = child.Wait(kPatience);
  EXPECT_EQ(result.term_signal, SIGINT);
  EXPECT_FALSE(result.timed_out);
}

// The standard signals (1 to 31) of a "SigIgn:" or "SigBlk:" line of /proc/<pid>/status. Signals 32
// and up are reserved by the C library, which sets them up itself in every program it starts.
uint64_t StandardSignalsIn(const std::string& status, const std::string& field) {
  size_t line = status.find(field + ":\t");
  if (line == std::string::npos) return ~uint64_t{0};
  return std::stoull(status.substr(line + field.size() + 2, 16), nullptr, 16) & 0x7fffffffULL;
}

TEST(SubprocessSignals, ChildStartsWithDefaultDispositionsEvenWhenWeIgnoreSigpipe) {
  ScopedSignalDisposition ignore_sigpipe(SIGPIPE, SIG_IGN);
  sigset_t block_usr1, previous;
  sigemptyset(&block_usr1);
  sigaddset(&block_usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block_usr1, &previous);
  ProcessResult result = Subprocess::Run({"/bin/cat", "/proc/self/status"}, {}, "", kPatience);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  EXPECT_EQ(StandardSignalsIn(result.out, "SigIgn"), 0u) << result.out;
  EXPECT_EQ(StandardSignalsIn(result.out, "SigBlk"), 0u) << result.out;
}

TEST(SubprocessOutput, BigOutputsOnBothPipesDoNotDeadlock) {
  // stderr first: a reader that drained only stdout would leave the child blocked on a full stderr pipe.
  constexpr size_t kSize = 1536 * 1024;
  std::string size = std::to_string(kSize);
  ProcessResult result = Shell("head -c " + size + " /dev/zero | tr '\\0' e >&2; head -c " + size +
                               " /dev/zero | tr '\\0' o; head -c " + size + " /dev/zero | tr '\\0' E >&2");
  EXPECT_EQ(result.exit_code, 0);
  ASSERT_EQ(result.out.size(), kSize);
  ASSERT_EQ(result.err.size(), 2 * kSize);
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), 'o'), static_cast<long>(kSize));
  EXPECT_EQ(std::count(result.err.begin(), result.err.begin() + kSize, 'e'), static_cast<long>(kSize));
  EXPECT_EQ(std::count(result.err.begin() + kSize, result.err.end(), 'E'), static_cast<long>(kSize));
}

TEST(SubprocessOutput, WaitForOutputIsFalseWhenTheChildEndsWithoutIt) {
  Subprocess child({"/bin/sh", "-c", "echo something-else"}, {});
  EXPECT_FALSE(child.WaitForOutput("needle", kPatience));
  ProcessResult result = child.Wait(kPatience);
  EXPECT_EQ(result.out, "something-else\n");
  EXPECT_EQ(result.exit_code, 0);
}

TEST(SubprocessOutput, DescendantsHoldingThePipesAreNotWaitedFor) {
  // The descendant holds the pipes for 10 minutes; Shell gives up long before that.
  ProcessResult result = Shell("sleep 600 & echo $!");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_FALSE(result.timed_out);
  pid_t descendant = std::stoi(result.out);
  kill(descendant, SIGKILL);  // not ours to wait for; just do not leave it behind
}

TEST(SubprocessStdin, FeedsTheGivenTextThenEndOfFile) {
  EXPECT_EQ(Subprocess::Run({"/bin/cat"}, {}, "", kPatience, "hello\n").out, "hello\n");
  std::string big(3 << 20, 'x');
  ProcessResult copied = Subprocess::Run({"/bin/cat"}, {}, "", kPatience, big);
  EXPECT_EQ(copied.out.size(), big.size());
  EXPECT_EQ(copied.out, big);
  ProcessResult nothing = Subprocess::Run({"/bin/cat"}, {}, "", kPatience);
  EXPECT_EQ(nothing.out, "");
  EXPECT_EQ(nothing.exit_code, 0);
}

TEST(SubprocessStdin, AChildThatIgnoresItsInputDoesNotHurtUs) {
  ProcessResult result = Shell("exec 0<&-; echo closed", std::string(1 << 20, 'x'));
  EXPECT_EQ(result.out, "closed\n");
  EXPECT_EQ(result.exit_code, 0);
}

TEST(SubprocessEnvironment, ReplacesTheEnvironmentEntirely) {
  ProcessResult result = Subprocess::Run({"/usr/bin/env"}, {{"ONLY", "this"}, {"EMPTY", ""}}, "", kPatience);
  EXPECT_EQ(result.out, "EMPTY=\nONLY=this\n");
  EXPECT_EQ(Subprocess::Run({"/usr/bin/env"}, {}, "", kPatience).out, "");
}

TEST(SubprocessEnvironment, BareNamesAreFoundInTheGivenPath) {
  TempDir dir;
  WriteFile(dir.File("greet"), "#!/bin/sh\necho hello from $0\n");
  ASSERT_EQ(chmod(dir.File("greet").c_str(), 0755), 0);
  ProcessResult result = Subprocess::Run({"greet"}, {{"PATH", "/nonexistent:" + dir.path().string()}}, "", kPatience);
  EXPECT_EQ(result.out, "hello from " + dir.File("greet") + "\n");
  EXPECT_THROW(Subprocess({"greet"}, kPath), std::system_error);
}

TEST(SubprocessEnvironment, RunsInTheGivenDirectory) {
  TempDir dir;
  ProcessResult result = Subprocess::Run({"/bin/pwd"}, {}, dir.path().string(), kPatience);
  EXPECT_EQ(result.out, dir.path().string() + "\n");
}

TEST(SubprocessTimeout, KillsTheChildAndItsGroup) {
  Subprocess child({"/bin/sh", "-c", "sleep 30 & echo $!; wait"}, kPath);
  ASSERT_TRUE(child.WaitForOutput("\n", kPatience));
  pid_t descendant = std::stoi(child.out());
  auto started = steady_clock::now();
  ProcessResult result = child.Wait(milliseconds(200));
  EXPECT_GE(steady_clock::now() - started, milliseconds(200));
  EXPECT_LT(steady_clock::now() - started, milliseconds(10000));
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.term_signal, SIGKILL);
  EXPECT_TRUE(ProcessEnds(descendant, kPatience)) << "the whole process group was killed";
  EXPECT_EQ(child.Wait(kPatience).timed_out, true) << "later calls return the same result";
}

TEST(SubprocessTimeout, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    Subprocess child({"/bin/sleep", "30"}, {});
    pid = child.pid();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1) << "reaped, so the pid is gone";
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace orch::testing
