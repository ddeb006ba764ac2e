// A plain libpq connection for COPY in CSV format, which libpqxx 6.4 cannot
// request (its COPY helpers only speak the text format).
#pragma once

#include <libpq-fe.h>

#include "smiles/storage/database_config.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace smiles::storage {

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
