#include "pg_copy.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <pqxx/tablewriter>
#include <vector>

#include "smiles/storage/errors.h"

namespace smiles::storage {

namespace {
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Reads and drops the results still pending, leaving the connection idle.
void drain(PGconn* conn) {
  while (Result more{PQgetResult(conn), &PQclear}) {
  }
}
}  // namespace

PgCopyConnection::PgCopyConnection(const DatabaseConfig& config) {
  validate_conninfo(config);
  conn_ = PQconnectdb(conninfo(config).c_str());
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw DatabaseUnavailable("cannot connect to " + describe(config) + ": " +
                              safe_libpq_message(config, why));
  }
}

PgCopyConnection::~PgCopyConnection() { PQfinish(conn_); }

void PgCopyConnection::fail(const std::string& what, PGresult* result) {
  std::string why = result != nullptr ? PQresultErrorMessage(result) : "";
  if (why.empty()) why = PQerrorMessage(conn_);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  if (PQstatus(conn_) != CONNECTION_OK) throw DatabaseUnavailable(what + ": " + why);
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  throw PgStatementError(what + ": " + why, state != nullptr ? state : "");
}

std::string PgCopyConnection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(sql.substr(0, 80), r.get());
  if (status == PGRES_TUPLES_OK && PQntuples(r.get()) > 0 && PQnfields(r.get()) > 0) {
    return PQgetvalue(r.get(), 0, 0);
  }
  return PQcmdTuples(r.get());
}

std::vector<std::string> PgCopyConnection::column(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) fail(sql.substr(0, 80), r.get());
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
  return out;
}

void PgCopyConnection::copy_out(const std::string& sql,
                                const std::function<void(std::string_view)>& sink) {
  Result start(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(start.get()) != PGRES_COPY_OUT) fail(sql.substr(0, 80), start.get());
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn_, &buf, 0);
    if (n > 0) {
      std::unique_ptr<char, decltype(&PQfreemem)> hold(buf, &PQfreemem);
      sink(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == -1) break;
    fail("reading COPY data", nullptr);
  }
  Result end(PQgetResult(conn_), &PQclear);
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) fail(sql.substr(0, 80), end.get());
  drain(conn_);
}

namespace {
// Ends the COPY in progress with an error and drains its results.
void abort_copy(PGconn* conn) {
  PQputCopyEnd(conn, "aborted by the client");
  drain(conn);
}
}  // namespace

std::uint64_t PgCopyConnection::copy_in(
    const std::string& sql, const std::function<std::size_t(char*, std::size_t)>& source) {
  std::vector<char> buf(1 << 20);
  return copy_in_with(sql, [&] {
    for (;;) {
      const auto n = source(buf.data(), buf.size());
      if (n == 0) return;
      put_copy_data(std::string_view(buf.data(), n));
    }
  });
}

std::uint64_t PgCopyConnection::copy_in(const std::string& sql,
                                        const std::vector<std::string_view>& pieces) {
  return copy_in_with(sql, [&] {
    for (const auto piece : pieces) {
      if (!piece.empty()) put_copy_data(piece);
    }
  });
}

void PgCopyConnection::put_copy_data(std::string_view data) {
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1)
    fail("sending COPY data", nullptr);
}

std::uint64_t PgCopyConnection::copy_in_with(const std::string& sql,
                                             const std::function<void()>& send) {
  Result start(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) fail(sql.substr(0, 80), start.get());
  try {
    send();
  } catch (...) {
    abort_copy(conn_);
    throw;
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) fail("ending COPY", nullptr);
  Result end(PQgetResult(conn_), &PQclear);
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
    drain(conn_);  // first: the connection must be idle for what the caller does next
    fail(sql.substr(0, 80), end.get());
  }
  const std::uint64_t rows = std::stoull(PQcmdTuples(end.get()));
  drain(conn_);
  return rows;
}

std::string PgCopyConnection::quote_identifier(std::string_view name) const {
  std::unique_ptr<char, decltype(&PQfreemem)> q(PQescapeIdentifier(conn_, name.data(), name.size()),
                                                &PQfreemem);
  return q ? std::string(q.get()) : std::string();
}

std::string PgCopyConnection::quote_literal(std::string_view text) const {
  std::unique_ptr<char, decltype(&PQfreemem)> q(PQescapeLiteral(conn_, text.data(), text.size()),
                                                &PQfreemem);
  return q ? std::string(q.get()) : std::string();
}

void copy_field(std::string& out, std::string_view v) {
  std::size_t pos = 0;
  for (;;) {
    const auto special = v.find_first_of("\\\t\n\r", pos);
    out.append(v.data() + pos, (special == std::string_view::npos ? v.size() : special) - pos);
    if (special == std::string_view::npos) return;
    out += '\\';
    switch (v[special]) {
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += '\\';
    }
    pos = special + 1;
  }
}

void copy_double(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void copy_integer(std::string& out, long long v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void copy_null(std::string& out) { out += "\\N"; }

namespace {
template <typename T>
void append_big_endian(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  char bytes[sizeof(T)];
  for (std::size_t i = sizeof(T); i-- > 0;) {
    bytes[i] = static_cast<char>(u & 0xffU);
    u = static_cast<U>(u >> 8U);
  }
  out.append(bytes, sizeof(T));
}
}  // namespace

void binary_header(std::string& out) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
  out.append(kSignature, 11);
  append_big_endian<std::int32_t>(out, 0);  // flags
  append_big_endian<std::int32_t>(out, 0);  // header extension length
}

void binary_trailer(std::string& out) { append_big_endian<std::int16_t>(out, -1); }

void binary_row(std::string& out, std::int16_t fields) { append_big_endian(out, fields); }

void binary_null(std::string& out) { append_big_endian<std::int32_t>(out, -1); }

void binary_text(std::string& out, std::string_view v) {
  append_big_endian(out, static_cast<std::int32_t>(v.size()));
  out.append(v);
}

void binary_jsonb(std::string& out, std::string_view json) {
  append_big_endian(out, static_cast<std::int32_t>(json.size() + 1));
  out += '\1';
  out.append(json);
}

void binary_double(std::string& out, double v) {
  append_big_endian<std::int32_t>(out, 8);
  append_big_endian(out, std::bit_cast<std::uint64_t>(v));
}

void binary_timestamptz(std::string& out, std::int64_t micros_since_2000) {
  append_big_endian<std::int32_t>(out, 8);
  append_big_endian(out, micros_since_2000);
}

void copy_text(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& columns, const std::string& text) {
  if (text.empty()) return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // tablewriter is libpqxx 6.4's only public way to send ready COPY text; the whole
  // batch goes in one message (write_raw_line adds the final newline).
  pqxx::tablewriter w(tx, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  w.write_raw_line(text);
  w.complete();
}

}  // namespace smiles::storage
