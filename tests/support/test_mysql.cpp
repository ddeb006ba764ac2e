#include "test_mysql.h"

#include <mysql.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "smiles/storage/mysql_v2_importer.h"

namespace smiles::test {

namespace {

std::string base_url() {
  const char* url = std::getenv("SMILES_TEST_MYSQL_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error(
        "SMILES_TEST_MYSQL_URL is not set: run the tests with scripts/test, which starts a "
        "throwaway MariaDB");
  }
  return url;
}

// Runs `sql` on `database` ("" for none); returns the first value of the last result.
std::string run(const std::string& url, const std::string& database, const std::string& sql) {
  auto source = storage::parse_mysql_url(url + (database.empty() ? "mysql" : database));
  if (database.empty()) source.database.clear();
  MYSQL* db = mysql_init(nullptr);
  if (mysql_real_connect(db, source.host.c_str(), source.user.c_str(), source.password.c_str(),
                         source.database.empty() ? nullptr : source.database.c_str(), source.port,
                         nullptr, CLIENT_MULTI_STATEMENTS) == nullptr) {
    const std::string e = mysql_error(db);
    mysql_close(db);
    throw std::runtime_error("test MariaDB unreachable: " + e);
  }
  std::string first;
  auto fail = [&] {
    const std::string e = mysql_error(db);
    mysql_close(db);
    throw std::runtime_error("MariaDB: " + e + " in: " + sql.substr(0, 300));
  };
  if (mysql_real_query(db, sql.data(), sql.size()) != 0) fail();
  for (;;) {
    if (MYSQL_RES* r = mysql_store_result(db)) {
      if (MYSQL_ROW row = mysql_fetch_row(r)) first = row[0] != nullptr ? row[0] : "NULL";
      mysql_free_result(r);
    } else if (mysql_field_count(db) != 0) {
      fail();
    }
    const int more = mysql_next_result(db);
    if (more > 0) fail();
    if (more < 0) break;
  }
  mysql_close(db);
  return first;
}

}  // namespace

TestMysql::TestMysql() : base_url_(base_url()) {
  password_ = storage::parse_mysql_url(base_url_ + "x").password;
  std::random_device rd;
  name_ = "smiles_test_" + std::to_string(rd() % 1000000000);
  run(base_url_, "", "CREATE DATABASE " + name_);
}

TestMysql::~TestMysql() {
  try {
    run(base_url_, "", "DROP DATABASE IF EXISTS " + name_);
  } catch (const std::exception&) {  // the server is going anyway
  }
}

std::string TestMysql::url() const { return base_url_ + name_; }

void TestMysql::exec(const std::string& sql) const { run(base_url_, name_, sql); }

std::string TestMysql::scalar(const std::string& sql) const { return run(base_url_, name_, sql); }

void TestMysql::load_v2_fixture(const std::string& fixture_path, int polls) const {
  std::ifstream in(fixture_path);
  if (!in) throw std::runtime_error("cannot read " + fixture_path);
  std::stringstream text;
  text << in.rdbuf();
  std::string sql = text.str();
  const std::string from = "SET @polls = 240;";
  const auto at = sql.find(from);
  if (at == std::string::npos) throw std::runtime_error("fixture has no SET @polls = 240;");
  sql.replace(at, from.size(), "SET @polls = " + std::to_string(polls) + ";");
  exec(sql);
}

}  // namespace smiles::test
