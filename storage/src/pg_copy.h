// COPY, in one place. Every bulk write goes through here:
// - rows are encoded in COPY's text format by the copy_* functions below (the
//   writer's readings, the SQLite importer's metrics);
// - copy_text() sends them into a table inside a libpqxx transaction;
// - PgCopyConnection is a plain libpq connection for COPY in CSV format (archives),
//   which libpqxx 6.4 cannot request (its COPY helpers only speak the text format).
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/storage/database_config.h"

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

class PgCopyConnection {
 public:
  // Throws DatabaseUnavailable when the server cannot be reached.
  explicit PgCopyConnection(const DatabaseConfig& config);  // throws DatabaseUnavailable
  ~PgCopyConnection();
  PgCopyConnection(const PgCopyConnection&) = delete;
  PgCopyConnection& operator=(const PgCopyConnection&) = delete;

  // Runs a command; returns its first value ("" if none). Throws StorageError.
  std::string exec(const std::string& sql);
  // Runs a query; returns its first column.
  std::vector<std::string> column(const std::string& sql);
  // COPY ... TO STDOUT: `sink` gets each row (a line, newline included).
  void copy_out(const std::string& sql, const std::function<void(std::string_view)>& sink);
  // COPY ... FROM STDIN: `source` fills the buffer and returns the bytes it put
  // there, 0 at the end. Returns the rows copied.
  std::uint64_t copy_in(const std::string& sql,
                        const std::function<std::size_t(char*, std::size_t)>& source);
  [[nodiscard]] std::string quote_identifier(std::string_view name) const;
  [[nodiscard]] std::string quote_literal(std::string_view text) const;

 private:
  [[noreturn]] void fail(const std::string& what, PGresult* result);
  PGconn* conn_ = nullptr;
};

}  // namespace smiles::storage
