#include "db/pg_copy.h"

#include <gtest/gtest.h>

#include <vector>

#include "support/app_database.h"
#include "support/error_of.h"
#include "support/postgres_server.h"

namespace orch {
namespace {

std::vector<CopyField> Parse(std::string_view line, size_t columns, bool expect_ok = true) {
  std::vector<CopyField> fields(columns);
  std::string buffer;
  EXPECT_EQ(ParseCopyTextRow(line, fields, buffer), expect_ok) << line;
  // Copied out of the views, which the buffer may hold.
  std::vector<CopyField> copies;
  for (const CopyField& field : fields) copies.push_back(field);
  return copies;
}

TEST(CopyText, SplitsFieldsAndUnescapesThem) {
  std::vector<CopyField> fields(3);
  std::string buffer;
  ASSERT_TRUE(ParseCopyTextRow("42\tplain\ta\\tb\\nc\\\\d\\re\\bf\\fg\\vh\n", fields, buffer));
  EXPECT_EQ(fields[0], "42");
  EXPECT_EQ(fields[1], "plain");
  EXPECT_EQ(fields[2], "a\tb\nc\\d\re\bf\fg\vh");
  ASSERT_TRUE(ParseCopyTextRow("\\N\t\t\\\\N", fields, buffer));
  EXPECT_EQ(fields[0], std::nullopt) << "NULL";
  EXPECT_EQ(fields[1], "") << "an empty text is not NULL";
  EXPECT_EQ(fields[2], "\\N") << "a backslash and an N";
  ASSERT_TRUE(ParseCopyTextRow("\\101\\x42\\x4\\q\tपानी\t\\\\", fields, buffer));
  EXPECT_EQ(fields[0], "AB\x04q") << "octal, hex, and a character standing for itself";
  EXPECT_EQ(fields[1], "पानी");
  EXPECT_EQ(fields[2], "\\");
}

TEST(CopyText, RefusesRowsOfAnotherWidthOrEndingInABackslash) {
  Parse("1\t2", 3, false);
  Parse("1\t2\t3\t4", 3, false);
  Parse("1\t2\tend\\", 3, false);
  Parse("", 1, true);
}

class CopyOutTest : public testing::PostgresTest {
 protected:
  void SetUp() override {
    testing::PostgresTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    db_ = testing::AppDatabase::Postgres();
    db_->CreateSchema();
  }
  std::unique_ptr<testing::AppDatabase> db_;
};

TEST_F(CopyOutTest, HandsOverEveryRowWithItsFieldsAsStored) {
  const std::string awkward = "tab\there, line\nbreak, back\\slash, \"quotes\", पानी, \x01";
  db_->AddComplaint(testing::kDepartments[0], std::nullopt, awkward);
  db_->AddCorrectComplaints(5000);
  PgSession session(db_->database_url(), "test", PgAccess::kReadOnly);
  std::vector<std::string> first;
  size_t count = 0;
  CopyOut(session, "SELECT id, urgency, message FROM complaints ORDER BY id", "reading complaints", 3,
          [&](std::span<const CopyField> fields) {
            if (count++ == 0) {
              EXPECT_FALSE(fields[1].has_value()) << "NULL";
              first.assign({std::string(*fields[0]), std::string(*fields[2])});
            }
          });
  EXPECT_EQ(count, 5001u);
  EXPECT_EQ(first, (std::vector<std::string>{"1", awkward}));
  EXPECT_EQ(session.Query("SELECT 7", {}, "a later statement"), (std::vector<SqlRow>{{"7"}}));
}

TEST_F(CopyOutTest, ACallbackThatThrowsStopsTheReadAndLeavesTheSessionUsable) {
  db_->AddCorrectComplaints(20000);
  PgSession session(db_->database_url(), "test", PgAccess::kReadOnly);
  size_t count = 0;
  EXPECT_THROW(CopyOut(session, "SELECT id FROM complaints", "reading complaints", 1,
                       [&](std::span<const CopyField>) {
                         if (++count == 10) throw std::runtime_error("enough");
                       }),
               std::runtime_error);
  EXPECT_EQ(count, 10u);
  EXPECT_EQ(session.Query("SELECT 7", {}, "a later statement"), (std::vector<SqlRow>{{"7"}}));
}

TEST_F(CopyOutTest, AFailingStatementIsADatabaseErrorNamingTheRead) {
  PgSession session(db_->database_url(), "test", PgAccess::kReadOnly);
  const std::string error = testing::DatabaseErrorOf([&] {
    CopyOut(session, "SELECT nothing FROM complaints", "reading the nothing", 1, [](std::span<const CopyField>) {});
  });
  EXPECT_NE(error.find("reading the nothing failed"), std::string::npos) << error;
  EXPECT_NE(error.find("does DATABASE_URL point at the application's database?"), std::string::npos) << error;
  const std::string width = testing::DatabaseErrorOf(
      [&] { CopyOut(session, "SELECT id, message FROM complaints", "reading", 1, [](std::span<const CopyField>) {}); });
  EXPECT_TRUE(width.empty()) << "no rows, nothing to refuse: " << width;
  db_->AddCorrectComplaints(1);
  const std::string wide = testing::DatabaseErrorOf(
      [&] { CopyOut(session, "SELECT id, message FROM complaints", "reading", 1, [](std::span<const CopyField>) {}); });
  EXPECT_NE(wide.find("not 1 fields of COPY's text format"), std::string::npos) << wide;
  EXPECT_EQ(session.Query("SELECT 7", {}, "a later statement"), (std::vector<SqlRow>{{"7"}}));
}

}  // namespace
}  // namespace orch
