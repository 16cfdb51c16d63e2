#include "db/postgres_database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <vector>

#include "db/open_database.h"
#include "support/app_database.h"
#include "support/hostile_server.h"
#include "support/postgres_server.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::DatabaseErrorOf;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

DatabaseUrl PostgresUrl(const std::string& target, const std::string& redacted, const std::string& password) {
  DatabaseUrl url;
  url.kind = DatabaseUrl::Kind::kPostgres;
  url.target = target;
  url.redacted = redacted;
  url.password = password;
  return url;
}

DatabaseUrl PostgresUrl(const std::string& target) { return PostgresUrl(target, target, ""); }

TEST(PostgresPasswordForms, FindsThePasswordAsWrittenAndDecoded) {
  std::vector<std::string> forms = PasswordForms("postgresql://orch:p%40ss@db.example:5432/app");
  std::sort(forms.begin(), forms.end());
  EXPECT_EQ(forms, (std::vector<std::string>{"p%40ss", "p@ss"}));
  EXPECT_EQ(PasswordForms("host=db password=kv-secret"), std::vector<std::string>{"kv-secret"});
  EXPECT_TRUE(PasswordForms("postgresql://orch@db.example/app").empty());
  EXPECT_TRUE(PasswordForms("postgresql://db.example/app?user=a:b").empty());
}

TEST(PostgresConnect, ARefusedConnectionNamesTheRedactedUrlButNotThePassword) {
  const std::string port = std::to_string(testing::FreeLoopbackPort());
  const std::string message = DatabaseErrorOf([&] {
    OpenDatabase(PostgresUrl("postgresql://orch:Tr0ub4dor@127.0.0.1:" + port + "/app",
                             "postgresql://orch:****@127.0.0.1:" + port + "/app", "Tr0ub4dor"));
  });
  EXPECT_TRUE(Contains(message, "postgresql://orch:****@127.0.0.1:" + port + "/app")) << message;
  EXPECT_TRUE(Contains(message, "refused")) << message;
  EXPECT_FALSE(Contains(message, "Tr0ub4dor")) << message;
}

// A server that takes the connection and never says a word: libpq would wait for it.
std::string SilentServerUrl(const testing::HostileServer& silent, const std::string& options) {
  const std::string endpoint = silent.endpoint();  // http://127.0.0.1:PORT
  return "postgresql://orch@127.0.0.1:" + endpoint.substr(endpoint.rfind(':') + 1) + "/app?sslmode=disable&" + options;
}

TEST(PostgresConnect, AServerThatNeverAnswersIsGivenUpAtItsConnectTimeout) {
  testing::HostileServer silent;
  const std::string url = SilentServerUrl(silent, "connect_timeout=2");
  const std::string message = DatabaseErrorOf([&] { OpenDatabase(PostgresUrl(url)); });
  EXPECT_TRUE(Contains(message, "no answer within 2 s (connect_timeout 2 s per host)")) << message;
}

TEST(PostgresConnect, AStopGivesUpAConnectionTheServerNeverAnswers) {
  testing::HostileServer silent;
  Cancellation stop;
  stop.Cancel(SIGTERM);
  const std::string message = DatabaseErrorOf([&] {
    OpenPassDatabases(PostgresUrl(SilentServerUrl(silent, "connect_timeout=600")), /*with_lock=*/true, "orchestrator",
                      "host:1", std::chrono::seconds(60), &stop);
  });
  EXPECT_TRUE(Contains(message, "connecting to PostgreSQL at postgresql://orch@127.0.0.1:")) << message;
  EXPECT_TRUE(Contains(message, "was cancelled: the pass was asked to stop")) << message;
}

TEST(PostgresConnect, APasswordLibpqEchoesIsRemovedFromItsMessage) {
  // libpq quotes a bad sslmode value back; here that value is the password, percent-encoded.
  const std::string message = DatabaseErrorOf([&] {
    OpenDatabase(PostgresUrl("postgresql://orch:se%2Fcret@127.0.0.1:1/app?sslmode=se%2Fcret",
                             "postgresql://orch:****@127.0.0.1:1/app?sslmode=se%2Fcret", "se/cret"));
  });
  EXPECT_TRUE(Contains(message, "sslmode")) << message;
  EXPECT_FALSE(Contains(message, "se/cret")) << message;
}

class PostgresDatabaseTest : public testing::PostgresTest {
 protected:
  void SetUp() override {
    testing::PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    app_ = AppDatabase::Postgres();
  }

  std::unique_ptr<AppDatabase> app_;
};

TEST_F(PostgresDatabaseTest, TheSessionIsReadOnly) {
  std::unique_ptr<Database> db = OpenDatabase(app_->database_url());
  EXPECT_EQ(db->CountWithQuery("SELECT CASE current_setting('transaction_read_only') WHEN 'on' THEN 1 ELSE 0 END"), 1);
}

TEST_F(PostgresDatabaseTest, NamesItselfToTheServerUnlessTheUrlDoes) {
  const std::string own_name =
      "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND application_name = ";
  EXPECT_EQ(OpenDatabase(app_->database_url())->CountWithQuery(own_name + "'orchestrator'"), 1);
  const DatabaseUrl named = PostgresUrl(app_->url() + "?application_name=nightly");
  EXPECT_EQ(OpenDatabase(named)->CountWithQuery(own_name + "'nightly'"), 1);
}

TEST_F(PostgresDatabaseTest, AStopCancelsALongStatementOnTheServerAndLetsShortOnesRun) {
  Cancellation stop;
  stop.Cancel(SIGTERM);  // before the statement: it is cancelled once it has run for a second
  PassDatabases databases = OpenPassDatabases(app_->database_url(), /*with_lock=*/true, "orchestrator", "host:1",
                                              std::chrono::seconds(60), &stop);
  const std::string message = DatabaseErrorOf([&] { databases.counts->CountWithQuery("SELECT 1 FROM pg_sleep(600)"); });
  EXPECT_TRUE(Contains(message, "was cancelled: the pass was asked to stop")) << message;
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND state = "
                           "'active' AND pid <> pg_backend_pid()"),
            0)
      << "the server stopped it too";
  EXPECT_EQ(databases.counts->CountWithQuery("SELECT 7"), 7) << "the session stays usable for the last records";
}

TEST_F(PostgresDatabaseTest, AMissingDatabaseIsNamed) {
  const std::string url = testing::SharedPostgres().Url("no_such_database");
  const std::string message = DatabaseErrorOf([&] { OpenDatabase(PostgresUrl(url)); });
  EXPECT_TRUE(Contains(message, "no_such_database")) << message;
}

TEST_F(PostgresDatabaseTest, ReportsTheServersVersion) {
  const int64_t number = app_->QueryInt("SELECT current_setting('server_version_num')::int");
  const std::string expected = "PostgreSQL " + std::to_string(number / 10000) + "." + std::to_string(number % 10000);
  EXPECT_EQ(OpenDatabase(app_->database_url())->ServerVersion(), expected);
}

TEST_F(PostgresDatabaseTest, TheIndexLookupFollowsTheSearchPath) {
  app_->CreateSchema(/*with_complaint_id_index=*/false);
  app_->Exec(
      "CREATE SCHEMA grievances; "
      "CREATE TABLE grievances.misclassified_complaints (id SERIAL PRIMARY KEY, complaint_id INTEGER NOT NULL); "
      "CREATE INDEX ON grievances.misclassified_complaints (complaint_id)");
  EXPECT_FALSE(OpenDatabase(app_->database_url())->HasComplaintIdIndex());
  const DatabaseUrl in_schema = PostgresUrl(app_->url() + "?options=-csearch_path%3Dgrievances");
  EXPECT_TRUE(OpenDatabase(in_schema)->HasComplaintIdIndex());
}

TEST_F(PostgresDatabaseTest, CountsEveryLabelInOneScanOfTheTable) {
  app_->CreateSchema();
  app_->Exec(
      "ALTER TABLE complaints ADD COLUMN topic TEXT; "
      "ALTER TABLE misclassified_complaints ADD COLUMN model_predicted_topic TEXT, ADD COLUMN correct_topic TEXT");
  app_->AddMisclassified(40, "department");
  app_->AddMisclassified(30, "urgency");
  app_->AddMisclassified(20, "topic");
  std::unique_ptr<Database> db = OpenDatabase(app_->database_url());
  // Statistics reach the shared counters when a backend flushes them: ask each connection to.
  const std::string flush = "SELECT count(*) FROM (SELECT pg_stat_force_next_flush()) AS flushed";
  const auto scans = [&] {
    app_->QueryInt(flush);
    app_->Exec("SELECT pg_stat_clear_snapshot()");
    return app_->QueryInt(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
        "WHERE relname = 'misclassified_complaints'");
  };
  const int64_t before = scans();
  const std::vector<LabelColumns> labels = {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency"),
                                            LabelColumns::Defaults("topic")};
  EXPECT_EQ(db->CountMisclassified(labels), (std::vector<int64_t>{40, 30, 20}));
  EXPECT_EQ(db->CountWithQuery(flush), 1);
  EXPECT_EQ(scans() - before, 1);
}

}  // namespace
}  // namespace orch
