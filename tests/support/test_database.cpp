#include "test_database.h"

#include <fstream>

#include <unistd.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <stdexcept>

#include "process.h"

namespace smiles::test {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string{} : std::string(v);
}

std::string with_database(const std::string& url, const std::string& db) {
  const auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + db;
}

std::vector<std::string> as_owner(std::vector<std::string> argv) {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

}  // namespace

std::string admin_database_url() {
  const auto url = env("SMILES_TEST_DATABASE_URL");
  if (url.empty()) {
    throw std::runtime_error(
        "SMILES_TEST_DATABASE_URL is not set: run the suite through scripts/test, which starts "
        "a throwaway PostgreSQL");
  }
  return url;
}

TestDatabase::TestDatabase() : admin_url_(admin_database_url()) {
  std::random_device rd;
  name_ = "smiles_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 1000000);
  pqxx::connection admin(admin_url_);
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + name_);
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {  // server stopped by the test: the cluster is thrown away anyway
  }
}

std::string TestDatabase::url() const { return with_database(admin_url_, name_); }

storage::DatabaseConfig TestDatabase::config(int pool_size, int max_overflow) const {
  storage::DatabaseConfig c;
  c.url = url();
  c.pool_size = pool_size;
  c.max_overflow = max_overflow;
  c.connect_timeout = std::chrono::seconds{2};
  return c;
}

std::string TestDatabase::scalar(const std::string& sql) const {
  pqxx::connection c(url());
  pqxx::nontransaction tx(c);
  const auto r = tx.exec(sql);
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return {};
  return r[0][0].as<std::string>();
}

void TestDatabase::exec(const std::string& sql) const {
  pqxx::connection c(url());
  pqxx::nontransaction(c).exec(sql);
}

void stop_postgres(const std::string& mode) {
  const auto r = run_command(as_owner(
      {env("SMILES_PG_BIN") + "/pg_ctl", "-D", env("SMILES_PG_DATA"), "-m", mode, "-w", "stop"}));
  if (r.exit_code != 0) throw std::runtime_error("pg_ctl stop failed: " + r.err);
}

void start_postgres() {
  const auto r = run_command(
      as_owner({env("SMILES_PG_BIN") + "/pg_ctl", "-D", env("SMILES_PG_DATA"), "-l",
                env("SMILES_PG_LOG"), "-o", env("SMILES_PG_OPTS"), "-w", "-t", "60", "start"}));
  if (r.exit_code != 0) throw std::runtime_error("pg_ctl start failed: " + r.err + r.out);
}

namespace {
void signal_postgres(const char* signal) {
  std::ifstream pid_file(env("SMILES_PG_DATA") + "/postmaster.pid");
  std::string postmaster;
  if (!std::getline(pid_file, postmaster) || postmaster.empty()) {
    throw std::runtime_error("no postmaster.pid: is the server running?");
  }
  // Children first on SIGSTOP (none can be forked while they stop), the postmaster
  // first on SIGCONT.
  const auto r = run_command(
      {"sh", "-c",
       std::string(signal) == "STOP"
           ? "kill -STOP $(pgrep -P " + postmaster + ") && kill -STOP " + postmaster
           : "kill -CONT " + postmaster + " && kill -CONT $(pgrep -P " + postmaster + ")"});
  if (r.exit_code != 0)
    throw std::runtime_error(std::string("kill -") + signal + " failed: " + r.err);
}
}  // namespace

void freeze_postgres() { signal_postgres("STOP"); }
void thaw_postgres() { signal_postgres("CONT"); }

}  // namespace smiles::test
