#include "db/pg_copy.h"

#include <libpq-fe.h>

#include <cstring>
#include <memory>

#include "util/error.h"

namespace orch {
namespace {

struct CopyDataFree {
  void operator()(char* data) const { PQfreemem(data); }
};

// Reads and drops every result the connection still has for the statement sent last.
void DrainResults(PGconn* conn) {
  while (PgResult rest{PQgetResult(conn)}) {
  }
}

// While a COPY is being read: unless released, cancels it on the server and reads what is left,
// so the connection can run the next statement.
class CopyInFlight {
 public:
  explicit CopyInFlight(PGconn* conn) : conn_(conn) {}
  ~CopyInFlight() {
    if (conn_ == nullptr) return;
    const std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn_), PQfreeCancel);
    char error[256] = "";
    if (cancel) PQcancel(cancel.get(), error, sizeof error);
    for (char* data = nullptr; PQgetCopyData(conn_, &data, 0) > 0; data = nullptr) PQfreemem(data);
    DrainResults(conn_);
  }
  CopyInFlight(const CopyInFlight&) = delete;
  CopyInFlight& operator=(const CopyInFlight&) = delete;
  void Release() { conn_ = nullptr; }

 private:
  PGconn* conn_;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends `field` unescaped to `out`; false when it ends in a lone backslash.
bool Unescape(std::string_view field, std::string& out) {
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == field.size()) return false;
    const char e = field[i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': {  // \xh or \xhh
        int value = 0, digits = 0;
        for (; digits < 2 && i + 1 < field.size() && HexValue(field[i + 1]) >= 0; ++digits)
          value = value * 16 + HexValue(field[++i]);
        out += digits == 0 ? 'x' : static_cast<char>(value);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {  // \o, \oo or \ooo
          int value = e - '0';
          for (int digits = 1; digits < 3 && i + 1 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '7';
               ++digits)
            value = value * 8 + (field[++i] - '0');
          out += static_cast<char>(value);
        } else {
          out += e;  // any other character stands for itself, the backslash included
        }
    }
  }
  return true;
}

}  // namespace

bool ParseCopyTextRow(std::string_view line, std::span<CopyField> fields, std::string& buffer) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  buffer.clear();
  buffer.reserve(line.size());  // unescaped text is never longer: views into it stay valid
  size_t count = 0;
  for (size_t start = 0;;) {
    const size_t tab = line.find('\t', start);
    const std::string_view raw = line.substr(start, tab == std::string_view::npos ? line.npos : tab - start);
    if (count == fields.size()) return false;
    if (raw == "\\N") {
      fields[count] = std::nullopt;
    } else if (raw.find('\\') == std::string_view::npos) {
      fields[count] = raw;
    } else {
      const size_t begin = buffer.size();
      if (!Unescape(raw, buffer)) return false;
      fields[count] = std::string_view(buffer).substr(begin);
    }
    ++count;
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return count == fields.size();
}

void CopyOut(PgSession& session, const std::string& query, std::string_view what, size_t columns,
             const std::function<void(std::span<const CopyField>)>& on_row) {
  PGconn* conn = session.raw();
  const std::string sql = "COPY (" + query + ") TO STDOUT";
  if (PQsendQuery(conn, sql.c_str()) != 1) session.Fail(what, nullptr, PgSession::Tables::kApplication);
  {
    PgResult start(PQgetResult(conn));
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT) {
      DrainResults(conn);
      session.Fail(what, start.get(), PgSession::Tables::kApplication);
    }
  }
  CopyInFlight in_flight(conn);
  std::vector<CopyField> fields(columns);
  std::string buffer;
  for (;;) {
    char* received = nullptr;
    const int length = PQgetCopyData(conn, &received, 0);
    if (length < 0) break;  // -1: every row came; -2: an error, which the final result tells
    const std::unique_ptr<char, CopyDataFree> data(received);
    if (!ParseCopyTextRow(std::string_view(data.get(), static_cast<size_t>(length)), fields, buffer))
      throw DatabaseError(std::string(what) + " failed on " + session.redacted_url() +
                          ": the server sent a row that is not " + std::to_string(columns) +
                          " fields of COPY's text format");
    on_row(fields);
  }
  in_flight.Release();
  PgResult end(PQgetResult(conn));
  DrainResults(conn);
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) session.Fail(what, end.get(), PgSession::Tables::kApplication);
}

}  // namespace orch
