// A MySQL/MariaDB connection through MariaDB Connector/C, for reading the Python
// bridge's v2 databases: session time zone UTC ('+00:00', so TIMESTAMP columns show
// the UTC they store), utf8mb4, text protocol, results streamed row by row.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/storage/mysql_v2_importer.h"

struct st_mysql;

namespace smiles::storage {

class MysqlClient {
 public:
  using Row = std::vector<std::optional<std::string_view>>;  // NULL: nullopt

  // Throws DatabaseUnavailable (unreachable, connection lost) or SourceRefused (login
  // refused, unknown database). Messages never hold the password.
  explicit MysqlClient(const MysqlSource& source);
  ~MysqlClient();
  MysqlClient(const MysqlClient&) = delete;
  MysqlClient& operator=(const MysqlClient&) = delete;

  // Runs `sql`, handing each row to `row` as it arrives (the views live for the
  // call); returns the rows. The result is not held in memory.
  std::uint64_t stream(const std::string& sql, const std::function<void(const Row&)>& row);
  // A small result, held.
  std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql);
  void exec(const std::string& sql);
  // `text` as a quoted SQL string literal.
  [[nodiscard]] std::string quote(std::string_view text) const;
  [[nodiscard]] std::string server() const;  // "MariaDB 10.11.6" / "MySQL 8.0.36"

 private:
  [[noreturn]] void fail(const std::string& what) const;
  st_mysql* db_ = nullptr;
  std::string where_;  // describe(source), for messages
};

}  // namespace smiles::storage
