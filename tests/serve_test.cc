// `orchestrator serve` end to end: the real binary on a free loopback port, against a copy of the
// demo's database (three passes, retrain decisions) or a test database on SQLite and PostgreSQL.
// Each endpoint's status, type and content; passes over HTTP (the token, the run lock, a pass run
// to its end); the page in headless Chromium at a phone's size; /metrics through promtool; SIGTERM
// during a pass; the schedule; secrets. Then the serve layer's pieces on their own, among them the
// page for 1,000 labels.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "config/database_url.h"
#include "db/open_database.h"
#include "db/state_store.h"
#include "serve/bearer_token.h"
#include "serve/html.h"
#include "serve/listen_address.h"
#include "serve/outlook.h"
#include "serve/serve_metrics.h"
#include "serve/snapshot.h"
#include "serve/status_page.h"
#include "serve/svg_chart.h"
#include "support/app_database.h"
#include "support/demo_copy.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "util/duration.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
namespace fs = std::filesystem;

constexpr const char* kServeToken = "serve-token-7f3a9c1e";
constexpr const char* kHfToken = "hf_serveSECRET0123";
constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kPromtool = "/usr/bin/promtool";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

bool Executable(const char* path) { return access(path, X_OK) == 0; }

// The real binary, serving on a free loopback port until stopped.
class Server {
 public:
  Server(std::map<std::string, std::string> env, const std::string& cwd, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {ORCH_BINARY, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Subprocess>(argv, std::move(env), cwd);
    // The last field of the line that says where it listens.
    if (!process_->WaitForOutput("passes_over_http=", 30s))
      throw std::runtime_error("serve did not say where it listens:\n" + process_->err());
    std::smatch match;
    const std::string log = process_->err();
    if (!std::regex_search(log, match, std::regex("listening url=http://127\\.0\\.0\\.1:([0-9]+) ")))
      throw std::runtime_error("no address in the log:\n" + log);
    port_ = std::stoi(match[1]);
  }

  int port() const { return port_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Subprocess& process() { return *process_; }
  const std::string& log() const { return process_->err(); }
  bool LogShows(std::string_view needle, std::chrono::milliseconds timeout = 60s) {
    return process_->WaitForOutput(needle, timeout);
  }

  httplib::Result Get(const std::string& path) { return Client().Get(path); }
  httplib::Result Request(const std::string& method, const std::string& path) {
    httplib::Request request;
    request.method = method;
    request.path = path;
    return Client().send(request);
  }
  // POST /api/passes with `body`, and the token when given ("" sends no Authorization header).
  httplib::Result Post(const std::string& body, const std::string& token = kServeToken,
                       const std::string& scheme = "Bearer ") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", scheme + token);
    return Client().Post("/api/passes", headers, body, "application/json");
  }
  ProcessResult Stop(int signal = SIGTERM) {
    process_->Signal(signal);
    return process_->Wait(30s);
  }

 private:
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5s);
    client.set_read_timeout(30s);
    return client;
  }

  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
};

Json ParseJson(const httplib::Result& result) {
  if (!result) return Json();
  Json parsed = Json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  return parsed;
}

std::vector<RunRecord> History(const std::string& database_url, int limit) {
  return OpenStateStore(ParseDatabaseUrl(database_url))->History(limit);
}

// A copy of the demo: two labels up to date, three passes, retrain decisions in their summaries.
class ServeDemo : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::CopyDemo(ORCH_BINARY, dir.path());
    env = testing::DemoEnvironment(ORCH_BINARY, dir.path());
    env["SERVE_TOKEN"] = kServeToken;
    env["HF_TOKEN"] = kHfToken;
  }
  std::unique_ptr<Server> Start(std::vector<std::string> args = {}) {
    return std::make_unique<Server>(env, dir.path().string(), std::move(args));
  }

  TempDir dir{"orch-serve"};
  std::map<std::string, std::string> env;
};

TEST_F(ServeDemo, EveryEndpointAnswersWithItsStatusTypeAndContent) {
  auto server = Start();

  httplib::Result page = server->Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(Contains(page->get_header_value("Content-Security-Policy"), "default-src 'none'"));
  for (const char* part : {"<meta name=viewport", "department", "urgency", "up to date", "<svg", "Recent passes",
                           "2 retrain_triggered", "Counted "})
    EXPECT_TRUE(Contains(page->body, part)) << part;

  httplib::Result label = server->Get("/labels/urgency");
  ASSERT_TRUE(label);
  EXPECT_EQ(label->status, 200);
  for (const char* part : {"Model score per dataset version", "accepted", "Last cycle", "retrained at", "<svg"})
    EXPECT_TRUE(Contains(label->body, part)) << part;
  EXPECT_EQ(server->Get("/labels/nope")->status, 404);

  // The same document as `orchestrator status --json`.
  httplib::Result status = server->Get("/api/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(status->has_header("Age"));
  ProcessResult cli = Subprocess::Run({ORCH_BINARY, "status", "--json"}, env, dir.path().string(), 30s);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(ParseJson(status), Json::parse(cli.out));

  httplib::Result runs = server->Get("/api/runs");
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->status, 200);
  const Json list = ParseJson(runs);
  ASSERT_EQ(list.size(), 3u) << runs->body;
  EXPECT_EQ(list[0]["id"], 3);
  EXPECT_EQ(list[2]["id"], 1);
  EXPECT_EQ(list[0]["url"], "/api/runs/3");
  EXPECT_EQ(list[0]["started_by"], "cli");
  EXPECT_FALSE(list[0].contains("summary")) << "the list leaves the summaries out";
  EXPECT_EQ(ParseJson(server->Get("/api/runs?limit=1")).size(), 1u);
  EXPECT_EQ(server->Get("/api/runs?limit=0")->status, 400);
  EXPECT_EQ(server->Get("/api/runs?limit=x")->status, 400);

  httplib::Result run = server->Get("/api/runs/1");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 200);
  const Json first = ParseJson(run);
  EXPECT_EQ(first["summary"]["labels"][0]["outcome"], "retrain_triggered") << run->body;
  EXPECT_EQ(first["summary"]["labels"][0]["retrain"]["decision"]["decision"], "accepted") << run->body;
  httplib::Result missing = server->Get("/api/runs/999");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(Contains(ParseJson(missing)["error"], "no run 999"));
  EXPECT_EQ(server->Get("/api/runs/abc")->status, 404);

  httplib::Result metrics = server->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(metrics->get_header_value("Content-Type").starts_with("text/plain; version=0.0.4"));
  for (const char* part :
       {"orchestrator_label_dataset_rows{label=\"department\"} ",
        "orchestrator_label_threshold_rows{label=\"urgency\"} 300",
        "orchestrator_label_phase{label=\"department\",phase=\"idle\"} 1",
        "orchestrator_label_phase{label=\"department\",phase=\"preparing\"} 0",
        "orchestrator_pass_last_run_timestamp_seconds ", "orchestrator_pass_last_success_timestamp_seconds ",
        "orchestrator_serve_passes_total{status=\"ok\"} 0", "# TYPE orchestrator_serve_passes_total counter"})
    EXPECT_TRUE(Contains(metrics->body, part)) << part << "\n" << metrics->body;

  httplib::Result health = server->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  EXPECT_EQ(ParseJson(server->Get("/api/passes")), Json::array());
  EXPECT_EQ(server->Get("/api/passes/1")->status, 404);
  EXPECT_EQ(server->Get("/nowhere")->status, 404);
  httplib::Result wrong_method = server->Request("DELETE", "/");
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "GET, HEAD");

  // Stopped while idle: exit 0.
  ProcessResult stopped = server->Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_TRUE(Contains(stopped.err, "stopped")) << stopped.err;
}

TEST_F(ServeDemo, APassNeedsTheWholeBearerToken) {
  auto server = Start();
  for (const auto& [token, scheme] : std::vector<std::pair<std::string, std::string>>{
           {"", "Bearer "},
           {"wrong", "Bearer "},
           {std::string(kServeToken).substr(0, std::strlen(kServeToken) - 1), "Bearer "},
           {std::string(kServeToken) + "x", "Bearer "},
           {kServeToken, "Basic "}}) {
    SCOPED_TRACE(scheme + token);
    httplib::Result refused = server->Post("", token, scheme);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);
    EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer realm=\"orchestrator\"");
    EXPECT_TRUE(ParseJson(refused).contains("error")) << refused->body;
  }
  EXPECT_EQ(ParseJson(server->Get("/api/passes")), Json::array()) << "no pass was started";
  EXPECT_EQ(History(env["DATABASE_URL"], 10).size(), 3u);
  EXPECT_TRUE(server->LogShows("refused a pass request", 10s)) << server->log();
}

TEST_F(ServeDemo, WithoutAServeTokenNoPassCanBeStarted) {
  env.erase("SERVE_TOKEN");
  auto server = Start();
  EXPECT_TRUE(server->LogShows("passes_over_http=\"off (no SERVE_TOKEN)\"", 10s)) << server->log();
  httplib::Result refused = server->Post("", "anything");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_TRUE(Contains(ParseJson(refused)["error"], "no SERVE_TOKEN is configured")) << refused->body;
}

TEST_F(ServeDemo, AGoodTokenStartsAPassThatRunsToItsEndAsApi) {
  auto server = Start();
  httplib::Result accepted = server->Post(R"({"labels": ["department"]})");
  ASSERT_TRUE(accepted);
  ASSERT_EQ(accepted->status, 202) << accepted->body;
  const Json started = ParseJson(accepted);
  EXPECT_EQ(started, Json({{"id", 1}, {"status", "running"}, {"url", "/api/passes/1"}}));
  EXPECT_EQ(accepted->get_header_value("Location"), "/api/passes/1");

  ASSERT_TRUE(server->LogShows("pass finished pass=1")) << server->log();
  const Json pass = ParseJson(server->Get("/api/passes/1"));
  EXPECT_EQ(pass["status"], "finished") << pass.dump();
  EXPECT_EQ(pass["started_by"], "api");
  EXPECT_EQ(pass["labels"], Json::array({"department"}));
  EXPECT_EQ(pass["outcome"]["status"], "ok");
  EXPECT_EQ(pass["outcome"]["exit_code"], 0);
  ASSERT_EQ(pass["outcome"]["summary"]["labels"].size(), 1u) << "only the label asked for";
  EXPECT_EQ(pass["outcome"]["summary"]["labels"][0]["outcome"], "up_to_date");

  const std::vector<RunRecord> runs = History(env["DATABASE_URL"], 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, 4);
  EXPECT_EQ(runs[0].started_by, "api");
  EXPECT_EQ(runs[0].status, "ok");
  EXPECT_TRUE(Contains(server->Get("/metrics")->body, "orchestrator_serve_passes_total{status=\"ok\"} 1"));

  // A dry run restarts nothing and is not recorded; force reaches the pass as `run --force`.
  httplib::Result dry = server->Post(R"({"dry_run": true, "force": true})");
  ASSERT_EQ(dry->status, 202) << dry->body;
  ASSERT_TRUE(server->LogShows("pass finished pass=2")) << server->log();
  const Json dry_pass = ParseJson(server->Get("/api/passes/2"));
  EXPECT_EQ(dry_pass["outcome"]["summary"]["dry_run"], true);
  EXPECT_EQ(dry_pass["force"], true);
  EXPECT_TRUE(server->LogShows("pass started pass=2 started_by=api labels=2 dry_run=true wait=false force=true", 10s))
      << server->log();
  EXPECT_EQ(History(env["DATABASE_URL"], 10).size(), 4u);
  EXPECT_EQ(ParseJson(server->Get("/api/passes")).size(), 2u);
}

TEST_F(ServeDemo, ABadPassRequestIs400NamingWhatIsWrong) {
  auto server = Start();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"labels": ["department", "nope"]})",
       "label \"nope\" is not a configured label; the configured labels are department, urgency"},
      {R"({"labels": [7]})", "labels must be label names"},
      {R"({"labels": "department"})", "labels must be a non-empty array"},
      {R"({"labels": []})", "labels must be a non-empty array"},
      {R"({"dry_run": "yes"})", "dry_run must be true or false"},
      {R"({"colour": "blue"})", "unknown field \"colour\""},
      {"not json", "must be a JSON object"},
      {"[1, 2]", "must be a JSON object"},
      {R"({"force": 1})", "force must be true or false"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    httplib::Result refused = server->Post(body);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400);
    EXPECT_TRUE(Contains(ParseJson(refused).value("error", ""), message)) << refused->body;
  }
  EXPECT_EQ(ParseJson(server->Get("/api/passes")), Json::array());
}

TEST_F(ServeDemo, AMissingDatabaseIsReportedAndTheServerStaysUp) {
  env["DATABASE_URL"] = "sqlite:///" + dir.File("gone.db");
  auto server = Start();
  EXPECT_TRUE(server->LogShows("could not take a status snapshot", 10s)) << server->log();
  httplib::Result health = server->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_TRUE(Contains(health->body, "gone.db")) << health->body;
  httplib::Result status = server->Get("/api/status");
  EXPECT_EQ(status->status, 503);
  EXPECT_TRUE(Contains(ParseJson(status)["error"], "gone.db")) << status->body;
  httplib::Result page = server->Get("/");
  EXPECT_EQ(page->status, 200);
  EXPECT_TRUE(Contains(page->body, "The last count failed")) << page->body;
  EXPECT_TRUE(Contains(server->Get("/metrics")->body, "orchestrator_serve_snapshot_failures_total 1"));
  EXPECT_EQ(server->Get("/api/runs")->status, 503);
}

TEST_F(ServeDemo, TheSnapshotIsTakenAgainOnceItIsOld) {
  env["SERVE_REFRESH"] = "0.2";
  auto server = Start();
  const auto misclassified = [&] {
    const Json status = ParseJson(server->Get("/api/status"));
    return status["labels"][0]["misclassified"].get<int64_t>();
  };
  const int64_t before = misclassified();
  AppDatabase::Sqlite(dir.File("demo.db"))->AddMisclassified(7, "department");
  // A request that finds the snapshot old asks for a new one; a later request sees it.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int64_t after = before;
  while (after == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);  // nothing tells when the count is done: ask again shortly
    after = misclassified();
  }
  EXPECT_EQ(after, before + 7);
}

TEST_F(ServeDemo, TheScheduleRunsPassesItself) {
  auto server = Start({"--schedule", "1s"});
  EXPECT_TRUE(server->LogShows("schedule=1s", 10s)) << server->log();
  ASSERT_TRUE(server->LogShows("started_by=schedule")) << server->log();
  ASSERT_TRUE(server->LogShows("pass finished pass=1")) << server->log();
  const std::vector<RunRecord> runs = History(env["DATABASE_URL"], 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].started_by, "schedule");
  EXPECT_EQ(runs[0].status, "ok");
  ASSERT_TRUE(server->LogShows("pass finished pass=2")) << "one second later, another";
  const Json page_pass = ParseJson(server->Get("/api/passes/1"));
  EXPECT_EQ(page_pass["started_by"], "schedule");
  EXPECT_TRUE(Contains(server->Get("/")->body, "Passes every 1s"));
}

TEST_F(ServeDemo, AnAddressInUseIsAClearErrorAndNoPassRuns) {
  auto first = Start();
  ProcessResult second = Subprocess::Run(
      {ORCH_BINARY, "serve", "--listen", "127.0.0.1:" + std::to_string(first->port()), "--schedule", "1s"}, env,
      dir.path().string(), 30s);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(
      Contains(second.err, "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": the address is in use"))
      << second.err;
  EXPECT_FALSE(Contains(second.err, "pass started")) << "the schedule starts only once the port is ours";
  EXPECT_EQ(History(env["DATABASE_URL"], 10).size(), 3u);
}

TEST_F(ServeDemo, BadListenAndScheduleValuesAreUsageErrors) {
  ProcessResult listen =
      Subprocess::Run({ORCH_BINARY, "serve", "--listen", "localhost"}, env, dir.path().string(), 30s);
  EXPECT_EQ(listen.exit_code, 2);
  EXPECT_TRUE(Contains(listen.err, "SERVE_LISTEN=\"localhost\" (--listen): expected HOST:PORT")) << listen.err;
  env["SERVE_SCHEDULE"] = "often";
  ProcessResult schedule = Subprocess::Run({ORCH_BINARY, "serve"}, env, dir.path().string(), 30s);
  EXPECT_EQ(schedule.exit_code, 2);
  EXPECT_TRUE(Contains(schedule.err, "SERVE_SCHEDULE=\"often\" (environment): expected an interval")) << schedule.err;
}

// The page refers to nothing outside itself: no script, style sheet, image or frame, and the only
// absolute URLs are links a reader clicks.
void ExpectSelfContained(const std::string& html) {
  for (const char* part : {"<script", "<link", "<img", "<iframe", "<object", "<embed", "url(", "@import", " src="})
    EXPECT_FALSE(Contains(html, part)) << part;
  for (const char* scheme : {"http://", "https://"})
    for (size_t at = html.find(scheme); at != std::string::npos; at = html.find(scheme, at + 1))
      EXPECT_EQ(html.substr(at >= 9 ? at - 9 : 0, std::min<size_t>(at, 9)), "<a href=\"")
          << "an address that is not a link: " << html.substr(at, 60);
}

// What a PNG says of itself: width and height (IHDR).
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto word = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
  };
  return {word(16), word(20)};
}

TEST_F(ServeDemo, ThePageInHeadlessChromiumAtAPhonesSize) {
  if (!Executable(kChromium))
    GTEST_SKIP() << kChromium << " is not installed: run scripts/install-deps.sh (Debian package chromium)";
  auto server = Start();
  const std::string html = server->Get("/")->body;
  ExpectSelfContained(html);
  ExpectSelfContained(server->Get("/labels/department")->body);

  const std::map<std::string, std::string> browser_env = {{"PATH", "/usr/bin:/bin"}, {"HOME", dir.path().string()}};
  auto chromium = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {kChromium, "--headless", "--no-sandbox", "--disable-gpu",
                                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                     "--no-first-run", "--user-data-dir=" + dir.File("chromium-profile"),
                                     // Any address but the server's fails to resolve: a fetch elsewhere cannot succeed.
                                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult result = Subprocess::Run(argv, browser_env, dir.path().string(), 120s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result;
  };

  // The DOM as the browser built it, and every request it made on the way.
  const std::string net_log = dir.File("net-log.json");
  ProcessResult dom = chromium({"--log-net-log=" + net_log, "--dump-dom", server->origin() + "/"});
  for (const char* part : {"department", "urgency", "idle", "up to date", "<svg", "polyline", "Recent passes"})
    EXPECT_TRUE(Contains(dom.out, part)) << part;
  // Chromium's own background requests are the browser's ("not an origin"); each request the page
  // made names the page's origin as its initiator, and must go to it.
  const Json log = Json::parse(testing::ReadFile(net_log), nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(log.is_object()) << "an unreadable net log";
  const int start_job = log["constants"]["logEventTypes"].value("URL_REQUEST_START_JOB", -1);
  int page_requests = 0;
  for (const Json& event : log["events"]) {
    if (event.value("type", -2) != start_job || !event.contains("params")) continue;
    const std::string url = event["params"].value("url", "");
    const std::string initiator = event["params"].value("initiator", "");
    if (url.starts_with(server->origin() + "/")) ++page_requests;
    if (initiator.starts_with(server->origin())) {
      EXPECT_TRUE(url.starts_with(server->origin() + "/")) << "the page fetched " << url;
    }
  }
  EXPECT_GE(page_requests, 1) << "the page itself was loaded";

  // A phone's screen: the page is drawn (not a blank or single-colour image).
  const std::string shot = dir.File("page.png");
  const std::string blank = dir.File("blank.png");
  chromium({"--screenshot=" + shot, "--window-size=412,915", server->origin() + "/"});
  chromium({"--screenshot=" + blank, "--window-size=412,915", "about:blank"});
  const std::string page_png = testing::ReadFile(shot);
  const std::string blank_png = testing::ReadFile(blank);
  const auto [width, height] = PngSize(page_png);
  EXPECT_EQ(width % 412, 0u) << width;  // 412, or a multiple on a scaled display
  EXPECT_EQ(height % 915, 0u) << height;
  EXPECT_GT(width, 0u);
  ASSERT_GT(blank_png.size(), 0u);
  EXPECT_GT(page_png.size(), 5 * blank_png.size())
      << "page " << page_png.size() << " bytes, blank " << blank_png.size() << " bytes";
}

TEST_F(ServeDemo, MetricsPassPromtool) {
  if (!Executable(kPromtool))
    GTEST_SKIP() << kPromtool << " is not installed: run scripts/install-deps.sh (Debian package prometheus)";
  auto server = Start();
  ASSERT_EQ(server->Post("")->status, 202);  // so that the counters have counted something
  ASSERT_TRUE(server->LogShows("pass finished pass=1"));
  const std::string metrics = server->Get("/metrics")->body;
  ProcessResult check = Subprocess::Run({kPromtool, "check", "metrics"}, {{"PATH", "/usr/bin:/bin"}}, "", 60s, metrics);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << metrics;
  EXPECT_EQ(check.out + check.err, "") << "lint findings";
}

TEST_F(ServeDemo, SecretsAppearInNoAnswerAndNoLogLine) {
  auto server = Start();
  std::string everything;
  for (const char* path : {"/", "/labels/department", "/labels/nope", "/api/status", "/api/runs", "/api/runs/1",
                           "/api/runs/9", "/metrics", "/healthz", "/api/passes", "/nowhere"})
    everything += server->Get(path)->body;
  everything += server->Post("", "wrong")->body;
  everything += server->Post("{\"labels\": [\"" + std::string(kServeToken) + "\"]}")->body;
  everything += server->Post("")->body;
  ASSERT_TRUE(server->LogShows("pass finished pass=1"));
  everything += server->Get("/api/passes/1")->body;
  ProcessResult stopped = server->Stop();
  for (const char* secret : {kServeToken, kHfToken}) {
    EXPECT_FALSE(Contains(everything, secret)) << secret;
    EXPECT_FALSE(Contains(stopped.err, secret)) << secret;
    EXPECT_FALSE(Contains(stopped.out, secret)) << secret;
  }
  // Masked by `orchestrator config`, and refused from the TOML file.
  ProcessResult config = Subprocess::Run({ORCH_BINARY, "config"}, env, dir.path().string(), 30s);
  EXPECT_TRUE(Contains(config.out, "serve_token = ********")) << config.out;
  EXPECT_FALSE(Contains(config.out, kServeToken));
  testing::WriteFile(dir.File("serve.toml"), "serve_token = \"from-the-file\"\n");
  ProcessResult from_file =
      Subprocess::Run({ORCH_BINARY, "config", "--config", dir.File("serve.toml")}, env, dir.path().string(), 30s);
  EXPECT_EQ(from_file.exit_code, 2) << from_file.out;
}

// A test database with one label far enough to prepare, and a prepare worker that keeps the pass
// waiting until the test lets it go.
class ServeEngine : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") ORCH_REQUIRE_POSTGRES();
    database = AppDatabase::ForEngine(GetParam(), dir.File("app.db"));
    database->CreateSchema();
    database->AddMisclassified(20, "department");
    database->AddCorrectComplaints(100);
    OpenStateStore(database->database_url())->Migrate();
    testing::WriteFile(dir.File("metadata.json"), R"({"version_tag": "d1", "num_samples": 5})");
    fifo = dir.File("worker.fifo");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    env = {{"PATH", "/usr/bin:/bin"},
           {"DATABASE_URL", database->url()},
           {"LABELS", "department"},
           {"THRESHOLD_DEPARTMENT", "10"},
           // Blocks reading the pipe until TearDown opens it for writing, or a minute has passed.
           {"PREPARE_DATASET_REPO", "command:timeout 60 cat " + fifo},
           {"RETRAIN_DEPARTMENT_REPO", "command:true"},
           {"HF_HUB_METADATA_DEPARTMENT", "file://" + dir.File("metadata.json")},
           {"WORKER_LOG_DIR", dir.File("logs")},
           {"POLL_INTERVAL", "5"},  // asleep between polls when the signal comes
           {"POLL_TIMEOUT", "60"},
           {"SERVE_TOKEN", kServeToken}};
  }
  void TearDown() override {
    // Lets the prepare worker end: it reads end of file once a writer has come and gone.
    const int writer = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) close(writer);
  }
  std::unique_ptr<Server> Start() { return std::make_unique<Server>(env, dir.path().string()); }

  TempDir dir{"orch-serve"};
  std::unique_ptr<AppDatabase> database;
  std::string fifo;
  std::map<std::string, std::string> env;
};

TEST_P(ServeEngine, APassWhileAnotherHoldsTheRunLockIs409) {
  env["THRESHOLD_DEPARTMENT"] = "1000";  // nothing to prepare: a pass that runs ends at once
  std::unique_ptr<RunLock> lock = OpenRunLock(database->database_url(), "orchestrator", "test-holder:4242", 60s);
  ASSERT_TRUE(lock->TryAcquire());
  auto server = Start();
  httplib::Result locked = server->Post("");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 409) << locked->body;
  EXPECT_TRUE(Contains(ParseJson(locked).value("error", ""), "another pass holds the run lock: test-holder:4242"))
      << locked->body;
  EXPECT_EQ(ParseJson(server->Get("/api/passes")), Json::array());

  lock->Release();
  httplib::Result accepted = server->Post("");
  ASSERT_EQ(accepted->status, 202) << accepted->body;
  ASSERT_TRUE(server->LogShows("pass finished pass=1")) << server->log();
  EXPECT_EQ(ParseJson(server->Get("/api/passes/1"))["outcome"]["status"], "ok");
}

TEST_P(ServeEngine, SigtermDuringAPassStopsItRecordsItCancelledAndExits143) {
  auto server = Start();
  httplib::Result accepted = server->Post("");
  ASSERT_EQ(accepted->status, 202) << accepted->body;
  ASSERT_TRUE(server->LogShows("poll", 30s)) << server->log();

  // While it waits, a second pass is refused: one at a time.
  httplib::Result busy = server->Post("");
  EXPECT_EQ(busy->status, 409);
  EXPECT_TRUE(Contains(ParseJson(busy).value("error", ""), "already running pass 1")) << busy->body;
  EXPECT_EQ(ParseJson(server->Get("/api/passes/1"))["status"], "running");
  EXPECT_TRUE(Contains(server->Get("/metrics")->body, "orchestrator_serve_pass_running 1"));
  EXPECT_TRUE(Contains(server->Get("/")->body, "Pass 1 (api) running since"));

  // Stop() waits 30 s at most, half the POLL_TIMEOUT the pass would otherwise wait out: it ends only
  // because the signal cut its wait short (bench_hostile measures how soon).
  ProcessResult stopped = server->Stop(SIGTERM);
  EXPECT_FALSE(stopped.timed_out);
  EXPECT_EQ(stopped.exit_code, 143) << stopped.err;
  EXPECT_TRUE(Contains(stopped.err, "pass_cut_short=true")) << stopped.err;
  const std::vector<RunRecord> runs = History(database->url(), 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "cancelled");
  EXPECT_EQ(runs[0].started_by, "api");
  std::vector<std::string> names = {"department"};
  EXPECT_EQ(OpenStateStore(database->database_url())->LoadLabels(names).front().phase, Phase::kPreparing)
      << "the next pass resumes the cycle";
}

// Named so that --gtest_filter='Serve*' selects them with the rest.
INSTANTIATE_TEST_SUITE_P(Serve, ServeEngine, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// ---- The serve layer's pieces --------------------------------------------------------------

TEST(ServeUnits, IntervalsAsPeopleWriteThem) {
  EXPECT_EQ(ParseInterval("6h"), 6 * 3600.0);
  EXPECT_EQ(ParseInterval("30m"), 1800.0);
  EXPECT_EQ(ParseInterval("90s"), 90.0);
  EXPECT_EQ(ParseInterval("1d"), 86400.0);
  EXPECT_EQ(ParseInterval("1.5H"), 5400.0);
  EXPECT_EQ(ParseInterval("45"), 45.0);
  for (const char* bad : {"", "h", "0s", "-5m", "6 h", "6x", "366d", "nan", "6hh"})
    EXPECT_FALSE(ParseInterval(bad).has_value()) << bad;
  EXPECT_EQ(FormatInterval(21600), "6h");
  EXPECT_EQ(FormatInterval(90), "90s");
  EXPECT_EQ(FormatInterval(1800), "30m");
  EXPECT_EQ(FormatInterval(1.5), "1.5s");
  EXPECT_EQ(FormatDuration(0.04), "40 ms");
  EXPECT_EQ(FormatDuration(12.7), "12 s");
  EXPECT_EQ(FormatDuration(600), "10 min");
  EXPECT_EQ(FormatDuration(3 * 86400), "3 d");
}

TEST(ServeUnits, ListenAddresses) {
  std::optional<ListenAddress> v4 = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  std::optional<ListenAddress> v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(FormatListenAddress("::1", 80), "[::1]:80");
  for (const char* bad :
       {"localhost", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80", "a b:1", "[::1]x:80", "[]:80"})
    EXPECT_FALSE(ParseListenAddress(bad).has_value()) << bad;
}

TEST(ServeUnits, BearerTokensAreComparedWhole) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer  abc "), "abc");
  EXPECT_FALSE(BearerToken("Basic abc"));
  EXPECT_FALSE(BearerToken("Bearer "));
  EXPECT_FALSE(BearerToken(""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secre", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secretx", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("Secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "secret"));
}

TEST(ServeUnits, HtmlIsEscapedAndGithubLinksAreChecked) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(GithubRunUrl("octo/grievances", "123"), "https://github.com/octo/grievances/actions/runs/123");
  EXPECT_EQ(GithubRunUrl("", "123"), "");
  EXPECT_EQ(GithubRunUrl("octo/grievances", "12a"), "");
  EXPECT_EQ(GithubRunUrl("octo/../x", "1"), "");
  EXPECT_EQ(GithubRunUrl("octo/\"x", "1"), "");
  EXPECT_EQ(RoundUp(1114), 2000);
  EXPECT_EQ(RoundUp(300), 500);
  EXPECT_EQ(RoundUp(0), 1);
}

// A configuration and a snapshot of `count` labels, with `runs` passes in the history.
struct ManyLabels {
  Config config;
  Snapshot snapshot;
};

std::unique_ptr<ManyLabels> MakeManyLabels(int count, int runs) {
  auto many = std::make_unique<ManyLabels>();
  for (int i = 0; i < count; ++i) {
    LabelConfig label;
    char name[16];
    std::snprintf(name, sizeof name, "l%04d", i);
    label.name = name;
    label.threshold = 100;
    many->config.labels.push_back(label);
  }
  const WallTime now = std::chrono::system_clock::now();
  Snapshot& snapshot = many->snapshot;
  snapshot.taken_at = now;
  for (int i = 0; i < count; ++i) {
    LabelStatus status{&many->config.labels[i], i % 150, {}, {}, {}};
    status.decision.dataset_len = (i % 150) * 3 / 2;
    status.decision.prepare = status.decision.dataset_len >= 100;
    status.state.label = many->config.labels[i].name;
    status.state.dataset_version = "v20261126_101425";
    status.state.last_retrained_version = "v20261126_101425";
    if (i % 97 == 0) {
      status.state.phase = Phase::kPreparing;
      status.state.prepare_requested_at = now - std::chrono::minutes(3);
      status.state.required_len = 120;
      status.state.baseline_version = "v20261126_101425";
    }
    snapshot.labels.push_back(status);
  }
  snapshot.evidence.assign(count, {});
  snapshot.scores.assign(count, {});
  for (int i = 0; i < count; ++i) snapshot.evidence[i].resize(runs);
  for (int run = 0; run < runs; ++run) {
    RunDigest digest;
    digest.record.id = 10000 - run;
    digest.record.started_at = now - std::chrono::hours(6 * run);
    digest.record.finished_at = digest.record.started_at + std::chrono::seconds(4);
    digest.record.status = "ok";
    digest.record.started_by = "schedule";
    digest.record.github_run_id = "987654321";
    digest.outcomes = {{"below_threshold", count - 3}, {"retrain_triggered", 3}};
    snapshot.runs.push_back(digest);
    for (int i = 0; i < count; ++i) snapshot.evidence[i][runs - 1 - run] = {i, i * 3 / 2, 100};
  }
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < 5; ++k)
      snapshot.scores[i].push_back({0, "v2026112" + std::to_string(k), 0.7 + 0.02 * k, std::nullopt, k % 2 == 0});
  return many;
}

TEST(ServeUnits, ThePageForAThousandLabelsStaysUnder200KiB) {
  const auto many = MakeManyLabels(1000, 50);
  many->config.github_repository = "octo/grievances";
  SnapshotView view;
  view.snapshot = std::make_shared<const Snapshot>(many->snapshot);
  const PageContext context{many->config, view, std::chrono::system_clock::now(), std::nullopt, 6 * 3600.0,
                            std::nullopt, 60};
  const std::string page = RenderStatusPage(context);
  EXPECT_LT(page.size(), 200u * 1024) << page.size();
  for (const LabelConfig& label : many->config.labels)
    ASSERT_TRUE(Contains(page, "<a href=labels/" + label.name + ">" + label.name + "</a>")) << label.name;
  size_t charts = 0;
  for (size_t at = page.find("<svg"); at != std::string::npos; at = page.find("<svg", at + 1)) ++charts;
  EXPECT_EQ(charts, 2 * kChartedLabels);
  EXPECT_TRUE(Contains(page, "https://github.com/octo/grievances/actions/runs/987654321"));
  EXPECT_TRUE(Contains(page, "waiting"));
  ExpectSelfContained(page);
  const std::optional<std::string> label = RenderLabelPage(context, "l0097");
  ASSERT_TRUE(label);
  EXPECT_TRUE(Contains(*label, "waiting for a dataset of at least 120 samples newer than v20261126_101425"));
  EXPECT_FALSE(RenderLabelPage(context, "l9999"));
}

TEST(ServeUnits, EveryTextOnThePageIsEscaped) {
  auto many = MakeManyLabels(2, 2);
  many->snapshot.labels[0].state.dataset_version = "<b>v1</b>";
  many->snapshot.runs[0].record.started_by = "<script>alert(1)</script>";
  many->snapshot.runs[0].error = "a & b < c";
  many->snapshot.scores[0][0].dataset_version = "\"quoted\"";
  SnapshotView view;
  view.snapshot = std::make_shared<const Snapshot>(many->snapshot);
  view.error = "<i>database</i> gone";
  const PageContext context{many->config, view, std::chrono::system_clock::now(), std::nullopt, std::nullopt,
                            std::nullopt, 60};
  const std::string page = RenderStatusPage(context) + *RenderLabelPage(context, "l0000");
  EXPECT_FALSE(Contains(page, "<b>v1"));
  EXPECT_FALSE(Contains(page, "<script"));
  EXPECT_FALSE(Contains(page, "<i>database"));
  EXPECT_FALSE(Contains(page, "\"quoted\""));
  EXPECT_TRUE(Contains(page, "&lt;b&gt;v1&lt;/b&gt;"));
  EXPECT_TRUE(Contains(page, "a &amp; b &lt; c"));
}

TEST(ServeUnits, WhatTheNextPassDoesAndWhy) {
  auto many = MakeManyLabels(3, 1);
  const WallTime now = std::chrono::system_clock::now();
  many->config.poll_timeout = 1800;
  LabelStatus below = many->snapshot.labels[1];  // 1 misclassified, 1 row of 100
  EXPECT_EQ(OutlookOf(below, {}, many->config, now).step, NextStep::kBelowThreshold);
  EXPECT_TRUE(Contains(OutlookOf(below, {}, many->config, now).why, "99 more needed"));
  LabelStatus ready = below;
  ready.decision.dataset_len = 120;
  ready.decision.prepare = true;
  ready.state.required_len = 100;
  EXPECT_EQ(OutlookOf(ready, {}, many->config, now).step, NextStep::kReadyToPrepare);
  EXPECT_EQ(OutlookOf(ready, {"other"}, many->config, now).step, NextStep::kDeferred);
  LabelStatus same = ready;
  same.evidence.hold = Hold::kUpToDate;
  same.evidence.new_rows = 0;
  EXPECT_EQ(OutlookOf(same, {}, many->config, now).step, NextStep::kUpToDate);
  EXPECT_TRUE(Contains(OutlookOf(same, {}, many->config, now).why, "0 new of 1"))
      << OutlookOf(same, {}, many->config, now).why;
  LabelStatus cooling = ready;
  cooling.evidence.hold = Hold::kCoolingDown;
  cooling.evidence.cooldown_until = now + std::chrono::hours(3);
  EXPECT_EQ(OutlookOf(cooling, {}, many->config, now).step, NextStep::kCoolingDown);
  LabelStatus paused = below;
  paused.evidence.hold = Hold::kPaused;
  paused.state.paused_at = now;
  paused.state.paused_reason = "relabelling";
  EXPECT_EQ(OutlookOf(paused, {}, many->config, now).step, NextStep::kPaused);
  EXPECT_TRUE(Contains(OutlookOf(paused, {}, many->config, now).why, "relabelling"));
  LabelStatus preparing = many->snapshot.labels[0];  // phase preparing since 3 minutes
  EXPECT_EQ(OutlookOf(preparing, {}, many->config, now).step, NextStep::kWaiting);
  EXPECT_EQ(CyclesInFlight(many->snapshot.labels, many->config, now), std::vector<std::string>{"l0000"});
  EXPECT_TRUE(CyclesInFlight(many->snapshot.labels, many->config, now + std::chrono::hours(2)).empty())
      << "older than STALE_AFTER (2 x POLL_TIMEOUT)";
}

TEST(ServeUnits, ASnapshotKeepsNoSummary) {
  auto many = MakeManyLabels(3, 1);
  std::vector<RunRecord> runs;
  for (int id = 3; id >= 1; --id) {
    RunRecord run;
    run.id = id;
    run.status = "ok";
    run.summary_json =
        R"({"status": "ok", "error": null, "labels": [{"label": "l0001", "misclassified": )" + std::to_string(10 * id) +
        R"(, "dataset_len": 15, "threshold": 100, "outcome": "below_threshold",)" +
        R"( "retrain": {"result": "finished", "decision": {"decision": "accepted", "dataset_version": "d)" +
        std::to_string(id) + R"(", "new": {"macro_f1": 0.8, "accuracy": 0.9}, "reason": ")" + std::string(100000, 'x') +
        R"("}}}]})";
    runs.push_back(run);
  }
  Snapshot snapshot;
  DigestRuns(many->config, std::move(runs), snapshot);
  ASSERT_EQ(snapshot.runs.size(), 3u);
  EXPECT_EQ(snapshot.runs[0].record.id, 3) << "newest first";
  for (const RunDigest& run : snapshot.runs) EXPECT_LT(run.record.summary_json.capacity(), 100u);
  ASSERT_EQ(snapshot.evidence[1].size(), 3u);
  EXPECT_EQ(snapshot.evidence[1][0].misclassified, 10) << "oldest first";
  EXPECT_EQ(snapshot.evidence[1][2].misclassified, 30);
  EXPECT_TRUE(snapshot.evidence[0].empty()) << "no pass counted l0000";
  ASSERT_EQ(snapshot.scores[1].size(), 3u);
  EXPECT_EQ(snapshot.scores[1][2].dataset_version, "d3");
  EXPECT_EQ(snapshot.scores[1][2].accepted, true);
  EXPECT_EQ(snapshot.runs[0].outcomes, (std::vector<std::pair<std::string, int>>{{"below_threshold", 1}}));
}

TEST(ServeUnits, MetricsForAThousandLabels) {
  const auto many = MakeManyLabels(1000, 50);
  SnapshotView view;
  view.snapshot = std::make_shared<const Snapshot>(many->snapshot);
  const std::string text = ServeMetricsText(view, {{{"ok", 3}, {"failed", 1}}, true});
  EXPECT_TRUE(Contains(text, "orchestrator_label_phase{label=\"l0097\",phase=\"preparing\"} 1"));
  EXPECT_TRUE(Contains(text, "orchestrator_serve_passes_total{status=\"ok\"} 3"));
  EXPECT_TRUE(Contains(text, "orchestrator_serve_passes_total{status=\"cancelled\"} 0"));
  EXPECT_TRUE(Contains(text, "orchestrator_serve_pass_running 1"));
  if (!Executable(kPromtool)) GTEST_SKIP() << kPromtool << " is not installed (Debian package prometheus)";
  ProcessResult check = Subprocess::Run({kPromtool, "check", "metrics"}, {{"PATH", "/usr/bin:/bin"}}, "", 60s, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace orch
