#include "db/count_sql.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.h"

namespace orch {
namespace {

std::vector<LabelColumns> TwoLabels() {
  return {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency")};
}

TEST(CountSqlMisclassified, PostgresCountsEveryLabelInOneNullSafeScan) {
  EXPECT_EQ(MisclassifiedCountSql(SqlDialect::kPostgres, TwoLabels()),
            "SELECT count(*) FILTER (WHERE \"correct_department\" IS NOT NULL AND \"model_predicted_department\" "
            "IS DISTINCT FROM \"correct_department\"), count(*) FILTER (WHERE \"correct_urgency\" IS NOT NULL AND "
            "\"model_predicted_urgency\" IS DISTINCT FROM \"correct_urgency\") FROM misclassified_complaints "
            "WHERE reviewed");
}

TEST(CountSqlMisclassified, SqliteUsesIsNotAndAcceptsTextBooleans) {
  EXPECT_EQ(MisclassifiedCountSql(SqlDialect::kSqlite, TwoLabels()),
            "SELECT count(*) FILTER (WHERE \"correct_department\" IS NOT NULL AND \"model_predicted_department\" "
            "IS NOT \"correct_department\"), count(*) FILTER (WHERE \"correct_urgency\" IS NOT NULL AND "
            "\"model_predicted_urgency\" IS NOT \"correct_urgency\") FROM misclassified_complaints "
            "WHERE lower(reviewed) IN ('1', 't', 'true')");
}

TEST(CountSqlMisclassified, UsesTheConfiguredColumnNames) {
  const std::vector<LabelColumns> labels = {{"topic", "guess_topic", "fixed_topic", "topic"}};
  const std::string sql = MisclassifiedCountSql(SqlDialect::kPostgres, labels);
  EXPECT_NE(sql.find("\"guess_topic\" IS DISTINCT FROM \"fixed_topic\""), std::string::npos) << sql;
  EXPECT_EQ(sql.find("correct_topic"), std::string::npos) << sql;
}

TEST(CountSqlPool, OneAntiJoinForAllLabels) {
  EXPECT_EQ(CorrectPoolCountSql(TwoLabels()),
            "SELECT count(*) FILTER (WHERE c.\"department\" IS NOT NULL), count(*) FILTER (WHERE c.\"urgency\" "
            "IS NOT NULL) FROM complaints c WHERE NOT EXISTS (SELECT 1 FROM misclassified_complaints m "
            "WHERE m.complaint_id = c.id)");
}

TEST(CountSqlIdentifiers, RefusesAColumnNameThatIsNotAnIdentifier) {
  std::vector<LabelColumns> labels = {LabelColumns::Defaults("department")};
  labels[0].predicted = "x\" IS NULL; DROP TABLE complaints; --";
  EXPECT_THROW(MisclassifiedCountSql(SqlDialect::kPostgres, labels), DatabaseError);
  EXPECT_THROW(MisclassifiedCountSql(SqlDialect::kSqlite, labels), DatabaseError);
  labels[0] = LabelColumns::Defaults("department");
  labels[0].pool = "Department";
  EXPECT_THROW(CorrectPoolCountSql(labels), DatabaseError);
  EXPECT_EQ(QuoteIdentifier("correct_urgency"), "\"correct_urgency\"");
}

TEST(CountSqlIdentifiers, NoLabelIsAProgramError) {
  EXPECT_THROW(MisclassifiedCountSql(SqlDialect::kPostgres, {}), DatabaseError);
  EXPECT_THROW(CorrectPoolCountSql({}), DatabaseError);
}

TEST(CountSqlQuoteQuery, CollapsesWhitespaceAndCutsLongQueries) {
  EXPECT_EQ(QuoteQuery("  SELECT\n\tcount(*)\n  FROM x  "), "\"SELECT count(*) FROM x\"");
  const std::string quoted = QuoteQuery("SELECT " + std::string(300, 'a'));
  EXPECT_EQ(quoted.size(), 120u + 5u);  // 120 characters, "..." and the quotes
  EXPECT_EQ(quoted.substr(quoted.size() - 4), "...\"");
}

TEST(CountSqlParseCount, AcceptsWholeNonNegativeIntegersOnly) {
  EXPECT_EQ(ParseCount("0", "q"), 0);
  EXPECT_EQ(ParseCount("9223372036854775807", "q"), INT64_MAX);
  for (const char* bad : {"", "1.5", "12abc", " 3", "abc", "99999999999999999999", "-"})
    EXPECT_THROW(ParseCount(bad, "q"), DatabaseError) << bad;
  try {
    ParseCount("-4", "the configured query");
    ADD_FAILURE() << "a negative count was accepted";
  } catch (const DatabaseError& error) {
    EXPECT_EQ(std::string(error.what()), "the configured query returned -4; a count cannot be negative");
  }
}

}  // namespace
}  // namespace orch
