// `hoymiles-smiles import mysql` end to end: the S-Miles v2 MySQL DDL loaded into a
// real MariaDB (fixtures/smiles_v2_mysql.sql, whose server runs in Europe/Berlin), the
// real binary, a real PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "import_checks.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"
#include "test_mysql.h"

namespace smiles::storage {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::cli_path;
using test::CommandResult;
using test::count;
using test::fingerprint;
using test::public_tables;
using test::run_command;
using test::summary;
using test::TempDir;
using test::TestDatabase;
using test::TestMysql;

constexpr const char* kFixture = SMILES_FIXTURES_DIR "/smiles_v2_mysql.sql";

CommandResult import(const TestDatabase& db, const std::string& from,
                     std::vector<std::string> args = {}) {
  std::vector<std::string> argv{cli_path(), "import",         "mysql",  "--from",
                                from,       "--database-url", db.url(), "--no-progress"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, 300s);
}

long staging_schemas(const TestDatabase& db) {
  return std::stol(
      db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'smiles_mysql_import%'"));
}

void expect_no_password(const CommandResult& r, const TestMysql& my) {
  EXPECT_EQ(r.out.find(my.password()), std::string::npos) << "password in stdout";
  EXPECT_EQ(r.err.find(my.password()), std::string::npos) << "password in stderr";
}

TEST(MysqlImport, EveryTableMovesWithExactCountsTimesInUtcAndACleanVerify) {
  TestMysql my;
  my.load_v2_fixture(kFixture, 240);
  // The trap the fixture sets: a session in the server's zone (Europe/Berlin) sees the
  // 60 minutes of the fall-back hour twice.
  ASSERT_EQ(
      my.scalar("SELECT COUNT(*) - COUNT(DISTINCT CAST(timestamp AS CHAR)) FROM port_data WHERE "
                "serial_number = '114180000002'"),
      "60");
  TempDir dir("smiles-mysql");
  TestDatabase db;
  const auto rejects = (dir.path() / "rejects.csv").string();
  const auto r =
      import(db, my.url(), {"--timezone", "Europe/Berlin", "--verify", "--rejects", rejects});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_no_password(r, my);
  EXPECT_NE(r.out.find("session time zone set to UTC"), std::string::npos) << r.out;

  // read, imported, already present, rejected (the summary, before verify's table)
  const auto imported = r.out.substr(0, r.out.find("verify:"));
  EXPECT_EQ(summary(imported, "inverter_data"),
            (std::vector<long>{720, 480, 0, 0}));  // one row per port of each poll: collapsed
  EXPECT_EQ(summary(imported, "port_data"),
            (std::vector<long>{721, 720, 0, 1}));  // the zero date rejected
  EXPECT_EQ(summary(imported, "system_metrics"),
            (std::vector<long>{49, 48, 0, 0}));  // the duplicate collapsed
  EXPECT_EQ(summary(imported, "config_cache"), (std::vector<long>{2, 2, 0, 0}));
  EXPECT_EQ(summary(imported, "inverters"), (std::vector<long>{3, 3, 0, 0}));
  EXPECT_EQ(count(db, "inverter_data"), 480);
  EXPECT_EQ(count(db, "port_data"), 720);
  EXPECT_EQ(count(db, "system_metrics"), 48);
  EXPECT_EQ(count(db, "config_cache WHERE key <> 'smiles_mysql_import'"), 2);
  EXPECT_EQ(staging_schemas(db), 0);

  // Every poll keeps its own instant, the fall-back hour included.
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT \"timestamp\") || ' ' || min(\"timestamp\") AT TIME "
                      "ZONE 'UTC' || ' ' || max(\"timestamp\") AT TIME ZONE 'UTC' FROM port_data "
                      "WHERE serial_number = '114180000002'"),
            "240 2025-10-26 00:00:00 2025-10-26 03:59:00");
  // Port 2's rows a second late (every third poll) belong to their poll.
  EXPECT_EQ(count(db, "port_data WHERE extract(second FROM \"timestamp\") <> 0"), 0);
  EXPECT_EQ(count(db, "port_data WHERE serial_number = '116180000001'"), 480);
  // FLOATs exact (MySQL's own text would say 38.873 -> 38.873, 12345.678 -> 12345.7).
  EXPECT_EQ(db.scalar("SELECT pv_power FROM port_data WHERE serial_number = '116180000001' AND "
                      "port_number = 1 AND \"timestamp\" = '2025-10-26 00:01:00+00'"),
            "38.873");
  // NULLs stay NULL.
  EXPECT_EQ(count(db, "inverter_data WHERE temperature IS NULL"), 2 * 35);
  EXPECT_EQ(count(db, "port_data WHERE pv_current IS NULL"), 3 * 22);
  // JSON kept.
  EXPECT_EQ(db.scalar("SELECT value ->> 'host' FROM config_cache WHERE key = 'dtu_config'"),
            "192.168.1.50");
  EXPECT_EQ(count(db, "system_metrics WHERE tags ->> 'dtu' = 'roof'"), 24);
  EXPECT_EQ(count(db, "system_metrics WHERE tags IS NULL"), 24);
  // Inverters typed from their serials, ports counted, the DTU named.
  EXPECT_EQ(db.scalar("SELECT string_agg(serial_number || ':' || inverter_type || ':' || "
                      "port_count, ',' ORDER BY serial_number) FROM inverters"),
            "114180000002:HM:1,116180000001:HM:2,116490000003:HMS:0");
  EXPECT_EQ(db.scalar("SELECT string_agg(dtu_name, ',') FROM dtus"), "roof");
  // The cache: every port of the readings, and the one the old cache alone knew.
  EXPECT_EQ(count(db, "production_cache"), 4);
  EXPECT_EQ(db.scalar("SELECT total_production FROM production_cache WHERE serial_number = "
                      "'116490000003'"),
            "12345");
  EXPECT_EQ(db.scalar("SELECT total_production FROM production_cache WHERE serial_number = "
                      "'116180000001' AND port_number = 2"),
            "200478");

  // The rejected row, with its reason.
  std::ifstream in(rejects);
  const std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(csv.find("port_data,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("timestamp is not a valid time: 0000-00-00 00:00:00"), std::string::npos)
      << csv;

  // verify: in source, found, differing, missing
  EXPECT_NE(r.out.find("verify: OK"), std::string::npos) << r.out;
  EXPECT_EQ(summary(r.out, "port_data"), (std::vector<long>{720, 720, 0, 0}));
  EXPECT_EQ(summary(r.out, "inverter_data"), (std::vector<long>{480, 480, 0, 0}));
}

TEST(MysqlImport, ADryRunWritesNothingAndASecondRunAddsNothing) {
  TestMysql my;
  my.load_v2_fixture(kFixture, 120);
  TestDatabase db;
  auto r = import(db, my.url(), {"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("dry run: nothing was written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would reject port_data"), std::string::npos) << r.out;
  EXPECT_EQ(summary(r.out, "inverter_data")[1], 240) << r.out;  // importable
  EXPECT_EQ(public_tables(db), 0);
  EXPECT_EQ(staging_schemas(db), 0);

  TempDir dir("smiles-mysql");
  const auto rejects = (dir.path() / "r.csv").string();
  ASSERT_EQ(import(db, my.url(), {"--rejects", rejects}).exit_code, 0);
  std::map<std::string, std::string> before;
  const std::vector<std::string> tables{"inverter_data", "port_data",        "system_metrics",
                                        "inverters",     "production_cache", "config_cache",
                                        "energy_days",   "power_5min"};
  for (const auto& t : tables) before[t] = fingerprint(db, t);
  r = import(db, my.url(), {"--rejects", rejects, "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto first_part = r.out.substr(0, r.out.find("verify:"));
  EXPECT_EQ(summary(first_part, "inverter_data"), (std::vector<long>{360, 0, 240, 0}));
  EXPECT_EQ(summary(first_part, "port_data"), (std::vector<long>{361, 0, 360, 1}));
  EXPECT_EQ(summary(first_part, "system_metrics"), (std::vector<long>{25, 0, 24, 0}));
  for (const auto& t : tables) EXPECT_EQ(fingerprint(db, t), before[t]) << t;
  EXPECT_NE(r.out.find("verify: OK"), std::string::npos) << r.out;
}

TEST(MysqlImport, WhatIsNotAV2DatabaseIsRefusedWithNothingWritten) {
  TestDatabase db;
  {
    TestMysql my;
    my.exec("CREATE TABLE readings (id INT PRIMARY KEY, v FLOAT)");
    const auto r = import(db, my.url());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("none of the S-Miles v2 tables"), std::string::npos) << r.err;
    expect_no_password(r, my);
  }
  {
    TestMysql my;
    my.load_v2_fixture(kFixture, 5);
    my.exec(
        "ALTER TABLE port_data MODIFY pv_power VARCHAR(20); ALTER TABLE port_data DROP "
        "COLUMN port_number");
    const auto r = import(db, my.url());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("not an S-Miles v2 database, nothing was written"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("port_data has no column port_number (the S-Miles v2 DDL declares "
                         "port_number INT)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("port_data.pv_power is varchar; the S-Miles v2 DDL declares FLOAT"),
              std::string::npos)
        << r.err;
  }
  TestMysql my;
  my.load_v2_fixture(kFixture, 5);
  // A wrong password: refused, and neither password is shown.
  auto url = my.url();
  const auto at = url.find(my.password());
  ASSERT_NE(at, std::string::npos);
  auto wrong = url;
  wrong.replace(at, my.password().size(), "Wr0ng-pass-77");
  auto r = import(db, wrong);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refused the login"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find("Wr0ng-pass-77"), std::string::npos) << r.err;
  // Nobody listening: unreachable (exit 3). A URL that is not one: bad arguments (2).
  r = import(db, "mysql://smiles:" + my.password() + "@127.0.0.1:1/" + my.name());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  expect_no_password(r, my);
  r = import(db, "postgresql://u@h/db");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("mysql://user:password@host:3306/database"), std::string::npos) << r.err;
  EXPECT_EQ(public_tables(db), 0);
  EXPECT_EQ(staging_schemas(db), 0);

  // The password may come from the environment instead of the URL.
  auto no_password = url;
  no_password.replace(at - 1, my.password().size() + 1, "");
  r = run_command({"env", "SMILES_MYSQL_PASSWORD=" + my.password(), cli_path(), "import", "mysql",
                   "--from", no_password, "--database-url", db.url(), "--no-progress"},
                  120s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count(db, "port_data"), 15);
}

long poll_until(const std::function<long()>& value, long at_least) {
  long v = 0;
  for (int i = 0; i < 6000 && v < at_least; ++i) {
    std::this_thread::sleep_for(5ms);
    try {
      v = value();
    } catch (const std::exception&) {  // the staging table is not there yet
    }
  }
  return v;
}

// kill -9 while staging, start again: the same rows as a clean run, none twice.
TEST(MysqlImport, KilledImportResumesToExactlyTheRowsOfACleanRun) {
  TestMysql my;
  const int polls = 40000;
  my.load_v2_fixture(kFixture, polls);
  TempDir dir("smiles-mysql");
  TestDatabase clean;
  auto r = import(clean, my.url(), {"--rejects", (dir.path() / "r0.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(count(clean, "port_data"), 3L * polls);

  TestDatabase db;
  ASSERT_EQ(run_command({cli_path(), "db", "upgrade", "--database-url", db.url()}, 60s).exit_code,
            0);
  long staged = 0;
  for (long stop_after : {10000L, 60000L}) {
    ChildProcess child({cli_path(), "import", "mysql", "--from", my.url(), "--database-url",
                        db.url(), "--no-progress", "--batch-rows", "2000", "--rejects",
                        (dir.path() / "r1.csv").string()});
    poll_until([&] { return count(db, "smiles_mysql_import.port_data"); }, stop_after);
    child.stop(SIGKILL);
    const long n = count(db, "smiles_mysql_import.port_data");
    EXPECT_GT(n, staged) << "the import made progress before the kill";
    staged = n;
    EXPECT_EQ(count(db, "port_data"), 0) << "nothing is carried over before all is staged";
  }
  EXPECT_LT(staged, 3L * polls) << "killed before the end";
  r = import(db, my.url(), {"--rejects", (dir.path() / "r2.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(summary(r.out, "port_data"), (std::vector<long>{3L * polls + 1, 3L * polls, 0, 1}));
  for (const char* t : {"inverter_data", "port_data", "system_metrics", "inverters",
                        "production_cache", "energy_days", "power_5min"}) {
    EXPECT_EQ(fingerprint(db, t), fingerprint(clean, t)) << t;
  }
  EXPECT_EQ(staging_schemas(db), 0);
}

}  // namespace
}  // namespace smiles::storage
