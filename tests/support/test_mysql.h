// Test support: a fresh MySQL/MariaDB database per test on the throwaway MariaDB that
// scripts/test starts (SMILES_TEST_MYSQL_URL). A missing server fails the test.
#pragma once

#include <string>

namespace smiles::test {

class TestMysql {
 public:
  TestMysql();   // creates smiles_test_<random>; throws if the server is unreachable
  ~TestMysql();  // drops it
  TestMysql(const TestMysql&) = delete;
  TestMysql& operator=(const TestMysql&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  // mysql://user:password@host:port/<name>
  [[nodiscard]] std::string url() const;
  [[nodiscard]] const std::string& password() const { return password_; }
  // Runs SQL (several statements allowed) in this database, in the server's own time
  // zone unless the SQL sets one.
  void exec(const std::string& sql) const;
  // The first column of the first row of the last statement ("" if none, "NULL").
  [[nodiscard]] std::string scalar(const std::string& sql) const;
  // Loads the S-Miles v2 fixture (tests/storage/fixtures/smiles_v2_mysql.sql) with
  // `polls` polls.
  void load_v2_fixture(const std::string& fixture_path, int polls) const;

 private:
  std::string base_url_;  // without the database
  std::string password_;
  std::string name_;
};

}  // namespace smiles::test
