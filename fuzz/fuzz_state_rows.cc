// Fuzz target for the state codec (db/state_codec.h), which reads the orchestrator's own rows back:
// orchestrator_label_state rows (DecodeLabelState) and orchestrator_runs rows (DecodeRun), and for
// what `orchestrator history` prints of a run (RunLine, RunText, RunJson). Anyone with access to the
// database may have edited a row into anything, so for any values:
//  - decoding gives a value or throws DatabaseError, whose message names the row and the column and
//    stays one bounded line (no other exception escapes);
//  - a label state decoded is one the store can write back: encoding it and decoding that again
//    gives the same row, on both engines;
//  - a run decoded prints on one line (RunLine), as lines without other control bytes (RunText),
//    and as JSON (RunJson).
//
// Input layout: the values of one row separated by '\x1f'; a value "\N" is NULL. The same values
// are read as a label state row (18 columns) and as a run row (9 columns), padded with NULL or cut.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "db/state_codec.h"
#include "fuzz_check.h"
#include "report/history.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

constexpr size_t kLabelColumns = 18;
constexpr size_t kRunColumns = 9;
// Each value shown in a message is quoted and cut (QuoteForMessage: 100 bytes, escaped to 4 each).
constexpr size_t kMaxMessageBytes = 3000;

SqlRow RowOf(std::string_view input, size_t columns) {
  SqlRow row;
  while (row.size() < columns) {
    const size_t end = input.find('\x1f');
    const std::string_view value = input.substr(0, end);
    if (value == "\\N") {
      row.emplace_back(std::nullopt);
    } else {
      row.emplace_back(std::string(value));
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  row.resize(columns);  // the missing values are NULL
  return row;
}

void CheckRefusal(const DatabaseError& error, std::string_view start) {
  const std::string_view message = error.what();
  Check(message.starts_with(start), "a refused row is named");
  Check(message.find("column ") != std::string_view::npos, "a refused row names the column");
  Check(!HasControlByte(message), "a refused row is explained on one line");
  Check(message.size() <= kMaxMessageBytes, "a refused row is explained in a bounded message");
}

void CheckLabelState(const SqlRow& row) {
  LabelState state;
  try {
    state = DecodeLabelState(row);
  } catch (const DatabaseError& error) {
    CheckRefusal(error, "the orchestrator's state of label ");
    return;
  }
  Check(row[0] && state.label == *row[0], "the state is of the row's label");
  for (SqlDialect dialect : {SqlDialect::kSqlite, SqlDialect::kPostgres}) {
    const SqlRow written = EncodeLabelState(state, dialect);  // a DatabaseError here is a finding
    const SqlRow again = EncodeLabelState(DecodeLabelState(written), dialect);
    Check(written == again, "a decoded label state is written back and read again unchanged");
  }
}

void CheckRun(const SqlRow& row) {
  RunRecord run;
  try {
    run = DecodeRun(row);
  } catch (const DatabaseError& error) {
    CheckRefusal(error, "run ");
    return;
  }
  const std::string line = RunLine(run);
  Check(!HasControlByte(line), "a run's history line is one line");
  const std::string text = RunText(run);
  Check(text.ends_with('\n'), "a run's text ends its last line");
  for (char c : text)
    Check(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f), "a run's text has no control byte");
  const std::string json = RunJson(run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Check(nlohmann::json::parse(json, nullptr, false).is_object(), "a run's JSON reads back as an object");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  orch::fuzz::CheckLabelState(orch::fuzz::RowOf(input, orch::fuzz::kLabelColumns));
  orch::fuzz::CheckRun(orch::fuzz::RowOf(input, orch::fuzz::kRunColumns));
  return 0;
}
