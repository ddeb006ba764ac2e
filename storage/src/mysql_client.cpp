#include "mysql_client.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "smiles/storage/errors.h"

namespace smiles::storage {

namespace {

bool unreachable(unsigned code) {
  return code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR || code == CR_UNKNOWN_HOST ||
         code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
         code == CR_SERVER_LOST_EXTENDED || code == CR_IPSOCK_ERROR;
}

}  // namespace

MysqlClient::MysqlClient(const MysqlSource& source) : where_(describe(source)) {
  db_ = mysql_init(nullptr);
  if (db_ == nullptr) throw StorageError("MySQL client: out of memory");
  const unsigned connect_timeout = 10;
  const unsigned io_timeout = 600;
  mysql_optionsv(db_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(db_, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_optionsv(db_, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_optionsv(db_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // TIMESTAMP is stored in UTC and shown in the session's zone: show UTC.
  mysql_optionsv(db_, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
  if (mysql_real_connect(db_, source.socket.empty() ? source.host.c_str() : nullptr,
                         source.user.c_str(), source.password.c_str(), source.database.c_str(),
                         source.port, source.socket.empty() ? nullptr : source.socket.c_str(),
                         0) == nullptr) {
    const unsigned code = mysql_errno(db_);
    const std::string message = mysql_error(db_);
    mysql_close(db_);
    db_ = nullptr;
    if (unreachable(code)) {
      throw DatabaseUnavailable("cannot reach MySQL at " + where_ + ": " + message);
    }
    if (code == ER_ACCESS_DENIED_ERROR || code == ER_DBACCESS_DENIED_ERROR) {
      throw SourceRefused("MySQL refused the login at " + where_ +
                          " (check the user and password in --from): " + message);
    }
    if (code == ER_BAD_DB_ERROR) {
      throw SourceRefused("MySQL at " + where_ + " has no such database: " + message);
    }
    throw SourceRefused("cannot open MySQL at " + where_ + ": " + message);
  }
}

MysqlClient::~MysqlClient() {
  if (db_ != nullptr) mysql_close(db_);
}

void MysqlClient::fail(const std::string& what) const {
  const unsigned code = mysql_errno(db_);
  const std::string message = what + " (MySQL at " + where_ + "): " + mysql_error(db_);
  if (unreachable(code)) throw DatabaseUnavailable(message);
  throw StorageError(message);
}

std::uint64_t MysqlClient::stream(const std::string& sql,
                                  const std::function<void(const Row&)>& row) {
  if (mysql_real_query(db_, sql.data(), sql.size()) != 0) fail("query failed");
  MYSQL_RES* result = mysql_use_result(db_);
  if (result == nullptr) {
    if (mysql_field_count(db_) == 0) return 0;
    fail("reading the result failed");
  }
  const unsigned n = mysql_num_fields(result);
  Row values(n);
  std::uint64_t count = 0;
  try {
    while (MYSQL_ROW r = mysql_fetch_row(result)) {
      const unsigned long* lengths = mysql_fetch_lengths(result);
      for (unsigned i = 0; i < n; ++i) {
        if (r[i] == nullptr) {
          values[i].reset();
        } else {
          values[i].emplace(r[i], lengths[i]);
        }
      }
      row(values);
      ++count;
    }
  } catch (...) {
    mysql_free_result(result);  // reads (and drops) the rest of the result
    throw;
  }
  const bool failed = mysql_errno(db_) != 0;
  mysql_free_result(result);
  if (failed) fail("reading rows failed");
  return count;
}

std::vector<std::vector<std::optional<std::string>>> MysqlClient::rows(const std::string& sql) {
  std::vector<std::vector<std::optional<std::string>>> out;
  stream(sql, [&](const Row& r) {
    auto& row = out.emplace_back();
    for (const auto& v : r) {
      row.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
    }
  });
  return out;
}

void MysqlClient::exec(const std::string& sql) {
  stream(sql, [](const Row&) {});
}

std::string MysqlClient::quote(std::string_view text) const {
  std::string out(text.size() * 2 + 3, '\0');
  out[0] = '\'';
  const auto n = mysql_real_escape_string(db_, out.data() + 1, text.data(), text.size());
  out.resize(n + 1);
  return out + "'";
}

std::string MysqlClient::server() const {
  const std::string version = mysql_get_server_info(db_);
  return (version.find("MariaDB") != std::string::npos ? "MariaDB " : "MySQL ") +
         version.substr(0, version.find('-'));
}

}  // namespace smiles::storage
