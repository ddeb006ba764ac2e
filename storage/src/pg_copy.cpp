#include "pg_copy.h"

#include <charconv>
#include <cmath>
#include <memory>
#include <pqxx/tablewriter>
#include <vector>

#include "smiles/storage/errors.h"

namespace smiles::storage {

namespace {
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;
}

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
  throw StorageError(what + ": " + why);
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
  while (Result more{PQgetResult(conn_), &PQclear}) {
  }
}

std::uint64_t PgCopyConnection::copy_in(
    const std::string& sql, const std::function<std::size_t(char*, std::size_t)>& source) {
  Result start(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) fail(sql.substr(0, 80), start.get());
  std::vector<char> buf(1 << 20);
  try {
    for (;;) {
      const auto n = source(buf.data(), buf.size());
      if (n == 0) break;
      if (PQputCopyData(conn_, buf.data(), static_cast<int>(n)) != 1)
        fail("sending COPY data", nullptr);
    }
  } catch (...) {
    PQputCopyEnd(conn_, "aborted by the client");
    while (Result more{PQgetResult(conn_), &PQclear}) {
    }
    throw;
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) fail("ending COPY", nullptr);
  Result end(PQgetResult(conn_), &PQclear);
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) fail(sql.substr(0, 80), end.get());
  const std::uint64_t rows = std::stoull(PQcmdTuples(end.get()));
  while (Result more{PQgetResult(conn_), &PQclear}) {
  }
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
