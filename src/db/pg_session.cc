#include "db/pg_session.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>

#include "db/count_sql.h"
#include "db/postgres_text.h"
#include "db/state_codec.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

struct ConnectBound {
  std::chrono::seconds per_host;
  std::chrono::seconds total;
};

constexpr std::string_view kUndefinedTable = "42P01";
constexpr std::string_view kUndefinedColumn = "42703";
constexpr std::string_view kMissingTablesHint =
    "the orchestrator_* tables are created by the orchestrator's schema migrations: have they run on this database?";

// The password exactly as written in a URI's user-info (it may be percent-encoded there).
std::string RawUriPassword(const std::string& target) {
  const size_t scheme = target.find("://");
  if (scheme == std::string::npos) return "";
  const size_t start = scheme + 3;
  const size_t authority_end = target.find_first_of("/?", start);
  const std::string authority = target.substr(start, authority_end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string::npos) return "";
  const size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return "";
  return authority.substr(colon + 1, at - colon - 1);
}

// The value of `keyword` in a libpq URI or key=value string ("" when absent or unparsable).
std::string UrlOption(const std::string& target, std::string_view keyword) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(target.c_str(), &error);
  PQfreemem(error);
  std::string value;
  for (PQconninfoOption* option = options; option != nullptr && option->keyword != nullptr; ++option)
    if (std::string_view(option->keyword) == keyword && option->val != nullptr) value = option->val;
  PQconninfoFree(options);
  return value;
}

// The URL's own server options, then the access mode (a later -c wins over an earlier one).
std::string WithOption(const std::string& url_options, PgAccess access) {
  const std::string mode = access == PgAccess::kReadOnly ? "on" : "off";
  return (url_options.empty() ? "" : url_options + " ") + "-c default_transaction_read_only=" + mode;
}

// How long a connection attempt may take: libpq's connect_timeout (ours, the URL's or PGCONNECT_TIMEOUT;
// at least 2 s, as libpq has it, and 10 s when it is unset or 0) for each host the URL names.
ConnectBound BoundOf(pg_conn* conn) {
  std::string timeout, hosts;
  if (PQconninfoOption* options = PQconninfo(conn)) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (option->val == nullptr) continue;
      const std::string_view keyword = option->keyword;
      if (keyword == "connect_timeout") timeout = option->val;
      if ((keyword == "host" || keyword == "hostaddr") && hosts.empty()) hosts = option->val;
    }
    PQconninfoFree(options);
  }
  long long seconds = 0;
  const auto [end, error] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), seconds);
  if (error != std::errc() || end != timeout.data() + timeout.size() || seconds <= 0) seconds = 10;
  seconds = std::clamp<long long>(seconds, 2, 24 * 3600);
  const long long host_count = 1 + std::count(hosts.begin(), hosts.end(), ',');
  return {std::chrono::seconds(seconds), std::chrono::seconds(seconds * host_count)};
}

std::vector<SqlRow> RowsOf(const PGresult* result) {
  std::vector<SqlRow> rows(static_cast<size_t>(PQntuples(result)));
  const int columns = PQnfields(result);
  for (int r = 0; r < static_cast<int>(rows.size()); ++r)
    for (int c = 0; c < columns; ++c)
      rows[r].push_back(PQgetisnull(result, r, c) ? std::nullopt
                                                  : std::optional<std::string>(PQgetvalue(result, r, c)));
  return rows;
}

}  // namespace

void PgConnCloser::operator()(pg_conn* conn) const { PQfinish(conn); }
void PgResultClearer::operator()(pg_result* result) const { PQclear(result); }

std::vector<std::string> PasswordForms(const std::string& target) {
  std::vector<std::string> forms;
  for (std::string form : {RawUriPassword(target), UrlOption(target, "password")})
    if (!form.empty()) forms.push_back(std::move(form));
  return forms;
}

PgSession::PgSession(const DatabaseUrl& url, const std::string& application_name, PgAccess access,
                     const Cancellation* cancellation)
    : redacted_url_(url.redacted), secrets_(PasswordForms(url.target)), cancellation_(cancellation) {
  secrets_.push_back(url.password);
  // Longest first, so a shorter form never leaves part of a longer one behind.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  // The access mode travels in the startup packet (no round trip of its own), after the URL's own
  // options. Entries before dbname are defaults the URL may override; those after it win.
  const std::string options = WithOption(UrlOption(url.target, "options"), access);
  std::vector<const char*> keywords = {"connect_timeout",  "keepalives_idle",           "keepalives_interval",
                                       "keepalives_count", "fallback_application_name", "dbname",
                                       "options"};
  std::vector<const char*> values = {"10", "30", "10", "3", "orchestrator", url.target.c_str(), options.c_str()};
  if (!application_name.empty()) {
    keywords.push_back("application_name");
    values.push_back(application_name.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  Connect(keywords.data(), values.data());
}

void PgSession::Connect(const char* const* keywords, const char* const* values) {
  using std::chrono::steady_clock;
  const std::string failed = "cannot connect to PostgreSQL at " + redacted_url_ + ": ";
  conn_.reset(PQconnectStartParams(keywords, values, /*expand_dbname=*/1));
  if (!conn_) throw DatabaseError(failed + "out of memory");
  const steady_clock::time_point started = steady_clock::now();
  const ConnectBound bound = BoundOf(conn_.get());
  const steady_clock::time_point deadline = started + bound.total;
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED || PQstatus(conn_.get()) == CONNECTION_BAD)
      throw DatabaseError(failed + Clean(PQerrorMessage(conn_.get())));
    const steady_clock::time_point now = steady_clock::now();
    if (now >= deadline)
      throw DatabaseError(failed + "no answer within " + std::to_string(bound.total.count()) + " s (connect_timeout " +
                          std::to_string(bound.per_host.count()) + " s per host): is the server up and reachable?");
    if (cancellation_ != nullptr && cancellation_->cancelled() && now - started >= std::chrono::seconds(1))
      throw DatabaseError("connecting to PostgreSQL at " + redacted_url_ +
                          " was cancelled: the pass was asked to stop");
    pollfd socket{PQsocket(conn_.get()), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const auto wait = std::min<steady_clock::duration>(deadline - now, std::chrono::milliseconds(100));
    const int ready = ::poll(&socket, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    if (ready < 0 && errno != EINTR) throw DatabaseError(failed + "cannot wait for the server's answer");
    if (ready > 0) state = PQconnectPoll(conn_.get());
  }
}

std::string PgSession::ServerVersion() const {
  // 150018 is 15.18; before PostgreSQL 10 the number was major.minor.patch (90624 is 9.6.24).
  const int number = PQserverVersion(conn_.get());
  if (number >= 100000) return "PostgreSQL " + std::to_string(number / 10000) + "." + std::to_string(number % 10000);
  return "PostgreSQL " + std::to_string(number / 10000) + "." + std::to_string(number / 100 % 100) + "." +
         std::to_string(number % 100);
}

std::string PgSession::Clean(std::string libpq_text) const { return OneLine(Redact(std::move(libpq_text), secrets_)); }

void PgSession::Fail(std::string_view what, const pg_result* result, Tables tables) const {
  std::string message = ErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = PQerrorMessage(conn_.get());
  message = std::string(what) + " failed on " + redacted_url_ + ": " + Clean(std::move(message));
  const std::string state = ErrorField(result, PG_DIAG_SQLSTATE);
  if (tables == Tables::kOrchestrator && state == kUndefinedTable) {
    message += " (" + std::string(kMissingTablesHint) + ")";
  } else if (tables == Tables::kApplication && (state == kUndefinedTable || state == kUndefinedColumn)) {
    message += " (" + std::string(kSchemaHint) + ")";
  }
  throw DatabaseError(message);
}

PgResult PgSession::Exec(const std::string& sql, const SqlRow& params, std::string_view what) {
  std::vector<const char*> values;
  for (const std::optional<std::string>& param : params) values.push_back(param ? param->c_str() : nullptr);
  if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                        nullptr, 0) != 1)
    Fail(what, nullptr);
  AwaitAnswer(what);
  PgResult result(PQgetResult(conn_.get()));
  while (PgResult rest{PQgetResult(conn_.get())}) {
  }  // a statement's results end with a null one
  return result;
}

void PgSession::AwaitAnswer(std::string_view what) {
  using std::chrono::steady_clock;
  const steady_clock::time_point sent = steady_clock::now();
  bool cancel_sent = false;
  while (PQisBusy(conn_.get())) {
    pollfd socket{PQsocket(conn_.get()), POLLIN, 0};
    const int ready = ::poll(&socket, 1, cancellation_ == nullptr ? -1 : 100);
    if (ready < 0 && errno != EINTR)
      throw DatabaseError(std::string(what) + " failed on " + redacted_url_ + ": cannot wait for the server's answer");
    if (ready > 0 && PQconsumeInput(conn_.get()) != 1) Fail(what, nullptr);
    const bool stop =
        cancellation_ != nullptr && cancellation_->cancelled() && steady_clock::now() - sent >= std::chrono::seconds(1);
    if (stop && !cancel_sent) {
      cancel_sent = true;
      const std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn_.get()), PQfreeCancel);
      char error[256] = "";
      if (cancel) PQcancel(cancel.get(), error, sizeof error);
    }
  }
  if (cancel_sent) {
    while (PgResult rest{PQgetResult(conn_.get())}) {
    }
    throw DatabaseError(std::string(what) + " on " + redacted_url_ + " was cancelled: the pass was asked to stop");
  }
}

PgResult PgSession::Run(const std::string& sql, const SqlRow& params, std::string_view what) {
  PgResult result = Exec(sql, params, what);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Fail(what, result.get());
  return result;
}

std::vector<SqlRow> PgSession::Query(const std::string& sql, const SqlRow& params, std::string_view what) {
  return RowsOf(Run(sql, params, what).get());
}

int64_t PgSession::Command(const std::string& sql, const SqlRow& params, std::string_view what) {
  const PgResult result = Run(sql, params, what);
  const std::string changed = PQcmdTuples(result.get());
  return changed.empty() ? 0 : SingleInteger({{changed}}, what);
}

void PgSession::Execute(const std::string& sql, std::string_view what) {
  if (PQsendQuery(conn_.get(), sql.c_str()) != 1) Fail(what, nullptr);
  AwaitAnswer(what);
  // Several statements answer one result each; the first that failed is the one to report.
  PgResult result(PQgetResult(conn_.get()));
  while (PgResult next{PQgetResult(conn_.get())}) {
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) result = std::move(next);
  }
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) Fail(what, result.get());
}

bool PgSession::TableExists(std::string_view table) {
  const std::string what = "looking for table " + std::string(table);
  const std::vector<SqlRow> rows = Query("SELECT (to_regclass($1) IS NOT NULL)::integer", {std::string(table)}, what);
  return SingleInteger(rows, what) == 1;
}

PgTransaction::PgTransaction(PgSession& session, std::string_view what, PgAccess access)
    : session_(session), what_(what) {
  session_.Execute(access == PgAccess::kReadOnly ? "BEGIN READ ONLY" : "BEGIN READ WRITE", what_);
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  try {
    session_.Execute("ROLLBACK", what_);
  } catch (const DatabaseError&) {
    // The connection is gone, and the server rolled the transaction back with it.
  }
}

void PgTransaction::Commit() {
  open_ = false;
  session_.Execute("COMMIT", what_);
}

}  // namespace orch
