// A read-only SQLite file with the checks an import makes before writing anything.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smiles::storage {

// One prepared statement; rows are read with step() and the typed accessors.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  bool step();  // false at the end; throws SourceRefused when the file is damaged
  [[nodiscard]] int columns() const { return sqlite3_column_count(stmt_); }
  [[nodiscard]] int type(int column) const { return sqlite3_column_type(stmt_, column); }
  [[nodiscard]] bool is_null(int column) const { return type(column) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  [[nodiscard]] double real(int column) const { return sqlite3_column_double(stmt_, column); }
  // Text of any column type (numbers as SQLite prints them); valid until the next step().
  [[nodiscard]] std::string_view text(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteFile {
 public:
  // Not thread-safe: one thread at a time may use the file and its statements.
  // Opens read-only and checks: an SQLite header, not truncated, not locked by a
  // writer (waits up to lock_wait_ms). Holds a read transaction until destroyed,
  // so everything read comes from one consistent snapshot. Throws SourceRefused.
  explicit SqliteFile(const std::string& path, int lock_wait_ms = 2000);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  [[nodiscard]] std::vector<std::string> tables() const;
  [[nodiscard]] std::vector<std::string> columns(const std::string& table) const;
  [[nodiscard]] std::int64_t count(const std::string& table) const;
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace smiles::storage
