// COPY, in one place. Every bulk write goes through here:
// - rows are encoded in COPY's text format by the copy_* functions below (the
//   writer's readings, the SQLite importer's metrics);
// - copy_text() sends them into a table inside a libpqxx transaction;
// - rows in COPY's binary format by the binary_* functions (the SQLite importer's
//   bulk load: no text to parse on the server);
// - PgCopyConnection is a plain libpq connection for COPY in CSV or binary format
//   (archives, bulk loads), which libpqxx 6.4 cannot request (its COPY helpers only
//   speak the text format).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/storage/database_config.h"
#include "smiles/storage/errors.h"

namespace smiles::storage {

// COPY text format: fields separated by tabs, rows by newlines; \N is NULL;
// backslash, tab, newline and CR are escaped. Each appends one field to `out`.
void copy_field(std::string& out, std::string_view v);
void copy_double(std::string& out, double v);  // shortest text that reads back equal
void copy_integer(std::string& out, long long v);
void copy_null(std::string& out);

// COPY text rows (separated, not terminated, by newlines) into `table`'s `columns`,
// in one message, as part of `tx`. Nothing is sent for empty text.
void copy_text(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& columns, const std::string& text);

// COPY binary format. A stream is the header, rows, then the trailer; a row is its
// field count, then each field as a 32-bit length and its bytes (-1: NULL).
void binary_header(std::string& out);
void binary_trailer(std::string& out);
void binary_row(std::string& out, std::int16_t fields);
void binary_null(std::string& out);
void binary_text(std::string& out, std::string_view v);      // text (server encoding)
void binary_jsonb(std::string& out, std::string_view json);  // jsonb: version 1 and the text
void binary_double(std::string& out, double v);              // float8
// timestamptz: microseconds since 2000-01-01 00:00:00 UTC.
void binary_timestamptz(std::string& out, std::int64_t micros_since_2000);

// A statement PostgreSQL refused, with its SQLSTATE (e.g. 23505, a unique violation).
class PgStatementError : public StorageError {
 public:
  PgStatementError(const std::string& what, std::string sqlstate)
      : StorageError(what), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

class PgCopyConnection {
 public:
  // Throws DatabaseUnavailable when the server cannot be reached.
  explicit PgCopyConnection(const DatabaseConfig& config);  // throws DatabaseUnavailable
  ~PgCopyConnection();
  PgCopyConnection(const PgCopyConnection&) = delete;
  PgCopyConnection& operator=(const PgCopyConnection&) = delete;

  // Runs a command; returns its first value, or the rows it affected. Throws
  // PgStatementError when refused, DatabaseUnavailable when the connection broke.
  std::string exec(const std::string& sql);
  // Runs a query; returns its first column.
  std::vector<std::string> column(const std::string& sql);
  // COPY ... TO STDOUT: `sink` gets each row (a line, newline included).
  void copy_out(const std::string& sql, const std::function<void(std::string_view)>& sink);
  // COPY ... FROM STDIN: `source` fills the buffer and returns the bytes it put
  // there, 0 at the end. Returns the rows copied.
  std::uint64_t copy_in(const std::string& sql,
                        const std::function<std::size_t(char*, std::size_t)>& source);
  // COPY ... FROM STDIN of data already encoded, sent piece by piece.
  std::uint64_t copy_in(const std::string& sql, const std::vector<std::string_view>& pieces);
  [[nodiscard]] std::string quote_identifier(std::string_view name) const;
  [[nodiscard]] std::string quote_literal(std::string_view text) const;

 private:
  [[noreturn]] void fail(const std::string& what, PGresult* result);
  std::uint64_t copy_in_with(const std::string& sql, const std::function<void()>& send);
  void put_copy_data(std::string_view data);
  PGconn* conn_ = nullptr;
};

}  // namespace smiles::storage
