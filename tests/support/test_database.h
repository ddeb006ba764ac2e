// Test support: a fresh PostgreSQL database per test on the throwaway cluster that
// scripts/test starts (SMILES_TEST_DATABASE_URL). A missing server fails the test.
#pragma once

#include <string>

#include "smiles/storage/database_config.h"

namespace smiles::test {

class TestDatabase {
 public:
  TestDatabase();   // creates smiles_test_<random>; throws if the server is unreachable
  ~TestDatabase();  // drops it (terminating leftover sessions)
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string url() const;
  [[nodiscard]] storage::DatabaseConfig config(int pool_size = 4, int max_overflow = 2) const;
  // Runs SQL on this database and returns the first column of the first row ("" if none).
  std::string scalar(const std::string& sql) const;
  void exec(const std::string& sql) const;

 private:
  std::string admin_url_;
  std::string name_;
};

// The admin URL from the environment; throws with a clear message when unset.
std::string admin_database_url();

// Stops / starts the throwaway server (pg_ctl as its owner). For RUN_SERIAL tests only.
void stop_postgres(const std::string& mode = "immediate");
void start_postgres();
// SIGSTOP / SIGCONT to every process of the throwaway server (postmaster and its
// children): a hung server whose kernel still answers TCP. For RUN_SERIAL tests only.
void freeze_postgres();
void thaw_postgres();

}  // namespace smiles::test
