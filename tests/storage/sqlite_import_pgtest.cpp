// `hoymiles-smiles import sqlite` end to end: generated v1 files (scripts/make-v1-db),
// the real binary, a real PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "import_checks.h"
#include "process.h"
#include "smiles/storage/schema.h"
#include "temp_dir.h"
#include "test_database.h"

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

// Writes a v1 file; returns the generator's account of the oddities it put in.
nlohmann::json make_v1(const std::string& path, std::vector<std::string> args = {}) {
  std::vector<std::string> argv{"python3", SMILES_SOURCE_DIR "/scripts/make-v1-db", path};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv, 120s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

CommandResult import(const TestDatabase& db, const std::string& file,
                     std::vector<std::string> args = {}) {
  std::vector<std::string> argv{cli_path(),       "import", "sqlite",       file,
                                "--database-url", db.url(), "--no-progress"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, 120s);
}

CommandResult cli(std::vector<std::string> argv) {
  argv.insert(argv.begin(), cli_path());
  return run_command(argv, 120s);
}

TEST(SqliteImport, EveryOddityIsImportedOrRejectedWithExactCounts) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "hoymiles-smiles.db";
  const auto odd = make_v1(file, {"--metrics", "20000", "--oddities"});
  TestDatabase db;
  const auto rejects = dir.path() / "rejects.csv";
  auto r = import(db, file, {"--timezone", "Europe/Berlin", "--rejects", rejects});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  const long bad = odd["rejects"]["metrics"];
  const long dups = odd["duplicates"];
  ASSERT_GT(bad, 0);
  ASSERT_GT(dups, 0);
  EXPECT_EQ(summary(r.out, "metrics"), (std::vector<long>{20000, 20000 - bad - dups, dups, bad}));
  EXPECT_EQ(count(db, "system_metrics"), 20000 - bad - dups);
  EXPECT_EQ(summary(r.out, "production_cache"), (std::vector<long>{9, 8, 0, 1}));
  EXPECT_EQ(summary(r.out, "config_cache"), (std::vector<long>{6, 6, 0, 0}));

  // NULL tags stay NULL; tags and config values that are not JSON become JSON strings.
  EXPECT_EQ(count(db, "system_metrics WHERE tags IS NULL"), odd["null_tags"].get<long>());
  EXPECT_EQ(count(db, "system_metrics WHERE jsonb_typeof(tags) = 'string'"),
            odd["bad_tags"].get<long>());
  EXPECT_EQ(db.scalar("SELECT value #>> '{}' FROM config_cache WHERE key = 'broken'"), "{not json");
  EXPECT_EQ(db.scalar("SELECT value ->> 'hour' FROM config_cache WHERE key = 'last_reset'"), "23");

  // Naive local times, with and without fraction, read in Europe/Berlin (CET here).
  EXPECT_EQ(db.scalar("SELECT min(\"timestamp\") AT TIME ZONE 'UTC' FROM system_metrics"),
            "2024-03-30 11:00:00");
  EXPECT_GT(odd["no_fraction"].get<long>(), 0);

  // An inverter per serial met, its type from the serial.
  EXPECT_EQ(count(db, "inverters"), 4);
  EXPECT_EQ(db.scalar("SELECT string_agg(inverter_type, ',' ORDER BY serial_number) FROM "
                      "inverters"),
            "MI,HM,HMS,HM");
  EXPECT_EQ(db.scalar("SELECT max(port_count) FROM inverters"), "2");

  // Every rejected row is in the reject file with its reason.
  std::ifstream in(rejects);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "table,rowid,reason,values");
  long lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    std::istringstream fields(line);
    std::string table, rowid, reason;
    std::getline(fields, table, ',');
    std::getline(fields, rowid, ',');
    std::getline(fields, reason, ',');
    EXPECT_TRUE(table == "metrics" || table == "production_cache") << line;
    EXPECT_GT(std::stol(rowid), 0) << line;
    EXPECT_FALSE(reason.empty()) << line;
  }
  EXPECT_EQ(lines, bad + 1);

  // A second run imports nothing and changes nothing.
  const auto before = fingerprint(db, "system_metrics");
  r = import(db, file, {"--timezone", "Europe/Berlin", "--rejects", rejects});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(summary(r.out, "metrics"), (std::vector<long>{20000, 0, 20000 - bad, bad}));
  EXPECT_EQ(summary(r.out, "production_cache"), (std::vector<long>{9, 0, 8, 1}));
  EXPECT_EQ(fingerprint(db, "system_metrics"), before);
  EXPECT_NE(r.out.find("inverters added: 0"), std::string::npos) << r.out;
}

// On a terminal (a pty made by script(1)) the import shows rows, rows/s and ETA.
TEST(SqliteImport, ProgressIsShownOnATerminal) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--metrics", "50000"});
  TestDatabase db;
  const std::string cmd = cli_path() + " import sqlite " + file.string() + " --database-url '" +
                          db.url() + "' --batch-rows 1000";
  const auto r = run_command({"script", "-qec", cmd, "/dev/null"}, 120s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("50000 / 50000 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rows/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ETA"), std::string::npos) << r.out;
  // Not a terminal (a pipe), without --no-progress: no progress line.
  const auto plain = cli({"import", "sqlite", file, "--database-url", db.url()});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err.find("rows/s"), std::string::npos) << plain.err;
}

TEST(SqliteImport, DryRunReadsEverythingAndWritesNothing) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  const auto odd = make_v1(file, {"--metrics", "3000", "--oddities"});
  TestDatabase db;
  const auto rejects = dir.path() / "rejects.csv";
  const auto r = import(db, file, {"--dry-run", "--rejects", rejects});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const long bad = odd["rejects"]["metrics"];
  const auto m = summary(r.out, "metrics");
  ASSERT_EQ(m.size(), 4U) << r.out;
  EXPECT_EQ(m[0], 3000);
  EXPECT_EQ(m[1], 3000 - bad);  // importable
  EXPECT_NE(r.out.find("schema would be upgraded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would reject metrics rowid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was written"), std::string::npos) << r.out;
  EXPECT_EQ(public_tables(db), 0);  // not even the schema
  EXPECT_FALSE(std::filesystem::exists(rejects));
}

TEST(SqliteImport, RefusesBadFilesBeforeWritingAnything) {
  TempDir dir("smiles-import");
  TestDatabase db;
  const auto good = dir.path() / "good.db";
  make_v1(good, {"--metrics", "20000"});

  struct Case {
    std::string name;
    std::string expect;
  };
  std::vector<Case> cases;
  {
    std::ofstream(dir.path() / "text.db") << "timestamp,metric_name\n2025-01-01,x\n";
    cases.push_back({"text.db", "not an SQLite database"});
    { const std::ofstream empty(dir.path() / "empty.db"); }
    cases.push_back({"empty.db", "empty"});
    ASSERT_EQ(run_command({"sqlite3", dir.path() / "other.db",
                           "CREATE TABLE notes (id INTEGER, body TEXT); INSERT INTO notes "
                           "VALUES (1, 'x');"})
                  .exit_code,
              0);
    cases.push_back({"other.db", "not an S-Miles v1 bridge database"});
    const auto size = std::filesystem::file_size(good);
    std::filesystem::copy_file(good, dir.path() / "truncated.db");
    std::filesystem::resize_file(dir.path() / "truncated.db", size / 2);
    cases.push_back({"truncated.db", "truncated"});
    cases.push_back({"missing.db", "cannot read"});
  }
  for (const auto& c : cases) {
    const auto r = import(db, dir.path() / c.name);
    EXPECT_EQ(r.exit_code, 1) << c.name << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(public_tables(db), 0) << c.name;
  }

  // A file the old bridge is still writing (an exclusive lock) is refused too.
  ChildProcess holder({"python3", "-c",
                       "import sqlite3, sys, time\n"
                       "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                       "c.execute('BEGIN EXCLUSIVE')\n"
                       "c.execute(\"DELETE FROM config_cache WHERE key = 'x'\")\n"
                       "print('locked', flush=True)\n"
                       "time.sleep(60)\n",
                       good});
  ASSERT_TRUE(holder.wait_for_line("locked", 10s));
  const auto r = import(db, good);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("locked by another program"), std::string::npos) << r.err;
  EXPECT_EQ(public_tables(db), 0);
  holder.stop(SIGKILL);

  // Once the lock is gone the same file imports.
  EXPECT_EQ(import(db, good).exit_code, 0);
  EXPECT_EQ(count(db, "system_metrics"), 20000);
}

TEST(SqliteImport, OldFilesWithoutMetricsAndEmptyFilesImport) {
  TempDir dir("smiles-import");
  TestDatabase db;
  make_v1(dir.path() / "old.db", {"--no-metrics-table"});
  auto r = import(db, dir.path() / "old.db");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no such table in this file"), std::string::npos) << r.out;
  EXPECT_EQ(count(db, "production_cache"), 8);
  EXPECT_EQ(count(db, "system_metrics"), 0);

  TestDatabase empty_db;
  make_v1(dir.path() / "empty.db", {"--empty"});
  r = import(empty_db, dir.path() / "empty.db");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(summary(r.out, "metrics"), (std::vector<long>{0, 0, 0, 0}));
  EXPECT_EQ(count(empty_db, "config_cache"), 0);
}

long poll_until(const std::function<long()>& value, long at_least) {
  long v = 0;
  for (int i = 0; i < 3000 && v < at_least; ++i) {
    std::this_thread::sleep_for(5ms);
    v = value();
  }
  return v;
}

// kill -9 at any moment, start again: the same rows as a clean run, none twice.
TEST(SqliteImport, KilledImportResumesToExactlyTheRowsOfACleanRun) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--metrics", "300000", "--oddities"});
  TestDatabase clean;
  ASSERT_EQ(import(clean, file, {"--rejects", dir.path() / "r0.csv"}).exit_code, 0);
  const long all = count(clean, "system_metrics");

  TestDatabase db;
  ASSERT_EQ(cli({"db", "upgrade", "--database-url", db.url()}).exit_code, 0);
  const auto indexes = [&] {
    return db.scalar(
        "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE "
        "tablename = 'system_metrics'");
  };
  const auto index_list = indexes();
  const auto importer = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{
        cli_path(),     "import", "sqlite",        file,        "--database-url",     db.url(),
        "--batch-rows", "2000",   "--no-progress", "--rejects", dir.path() / "r1.csv"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv);
  };

  // Into the empty table the load is one transaction: killed while copying, it
  // leaves the table empty with its indexes.
  {
    // Rows not committed yet are not visible, but the file they fill grows (read
    // without touching the table, which the import holds locked).
    const auto heap = db.scalar("SELECT pg_relation_filepath('system_metrics')");
    auto child = importer({});
    const long bytes = poll_until(
        [&] { return std::stol(db.scalar("SELECT (pg_stat_file('" + heap + "')).size")); },
        4L << 20);
    child->stop(SIGKILL);
    EXPECT_GE(bytes, 4L << 20) << "killed while copying";
    EXPECT_EQ(count(db, "system_metrics"), 0);
    EXPECT_EQ(indexes(), index_list);
  }
  // In batches (each its own transaction), killed twice at different points.
  long last = 0;
  for (long stop_after : {20000L, 150000L}) {
    auto child = importer({"--bulk-min-rows", "1000000000"});
    poll_until([&] { return count(db, "system_metrics"); }, stop_after);
    child->stop(SIGKILL);
    const long n = count(db, "system_metrics");
    EXPECT_GT(n, last) << "the import made progress before the kill";
    last = n;
  }
  EXPECT_LT(last, all) << "killed before the end";
  const auto r = import(db, file, {"--rejects", dir.path() / "r2.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(fingerprint(db, "system_metrics"), fingerprint(clean, "system_metrics"));
  EXPECT_EQ(fingerprint(db, "production_cache"), fingerprint(clean, "production_cache"));
  EXPECT_EQ(fingerprint(db, "config_cache"), fingerprint(clean, "config_cache"));
  EXPECT_EQ(db.scalar("SELECT string_agg(serial_number || inverter_type || port_count || "
                      "first_seen || last_seen, ',' ORDER BY serial_number) FROM inverters"),
            clean.scalar("SELECT string_agg(serial_number || inverter_type || port_count || "
                         "first_seen || last_seen, ',' ORDER BY serial_number) FROM inverters"));
  EXPECT_EQ(indexes(), index_list);
}

// Duplicates in a file loaded in bulk are removed when the unique index is built.
TEST(SqliteImport, BulkLoadRemovesTheFilesDuplicates) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  const auto odd = make_v1(file, {"--metrics", "30000", "--oddities"});
  TestDatabase bulk, batches;
  auto r = import(bulk, file, {"--bulk-min-rows", "0", "--rejects", dir.path() / "r.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const long dups = odd["duplicates"];
  EXPECT_EQ(summary(r.out, "metrics")[2], dups) << r.out;
  r = import(batches, file, {"--bulk-min-rows", "1000000000", "--rejects", dir.path() / "r.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(fingerprint(bulk, "system_metrics"), fingerprint(batches, "system_metrics"));
  // The bulk load stored the rows in the unique index's order (what makes building the
  // index cheap): a row that follows a greater one is where the file itself goes back
  // in time, once here (a sample written again much later, then removed). The
  // batches keep the file's order, which is not the index's within a poll.
  std::string key;
  for (const auto& part : schema::system_metrics_identity())
    key += (key.empty() ? "" : ", ") + part;
  const auto out_of_order = [&](const TestDatabase& db) {
    return std::stol(db.scalar("SELECT count(*) FILTER (WHERE before > here) FROM (SELECT row(" +
                               key + ") AS here, lag(row(" + key +
                               ")) OVER (ORDER BY ctid) AS before FROM system_metrics) s"));
  };
  EXPECT_LE(out_of_order(bulk), 1);
  EXPECT_GT(out_of_order(batches), 1000);
}

// A bulk load sends instants (COPY binary) that it works out from the zone's offsets;
// the batches send the naive text for the server to read. Both must give every row
// the same instant: around the changes of daylight saving time (a skipped and a
// repeated hour, a 30-minute change, a half-hour zone, the CET zone that is also an
// abbreviation), in 1900 and 2261, and with fractions of more than 6 digits.
TEST(SqliteImport, BulkLoadReadsLocalTimesAsTheServerDoes) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--empty"});
  const auto fill = run_command({"python3", "-c", R"py(
import datetime, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
changes = ["2024-03-31 02:00", "2024-10-27 02:00", "2024-03-10 02:00", "2024-11-03 01:00",
           "2024-04-07 01:30", "2024-10-06 02:00", "1916-04-30 23:00", "1980-04-06 02:00"]
times = []
for change in changes:
    start = datetime.datetime.fromisoformat(change) - datetime.timedelta(minutes=90)
    times += [(start + datetime.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S.%f")
              for s in range(0, 3 * 3600, 7)]
times += ["1900-01-01 00:00:00", "1901-06-01 12:00:00.5", "2261-12-31 23:59:59.999999",
          "2024-03-31 01:59:59.9999996", "2024-10-27 02:59:59.99999951", "2024-03-31 02:30:00",
          "2024-07-01T12:00:00", "2024-12-31 23:59:59.123456789"]
db.executemany("INSERT INTO metrics (timestamp, metric_name, metric_value, tags) VALUES (?, 'pv_power', ?, ?)",
               [(t, i, '{"serial_number": "112176397250", "port": 1}') for i, t in enumerate(times)])
db.commit()
print(len(times))
)py",
                                 file.string()},
                                60s);
  ASSERT_EQ(fill.exit_code, 0) << fill.err;
  const long rows = std::stol(fill.out);
  for (const std::string zone :
       {"Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "CET", "UTC"}) {
    SCOPED_TRACE(zone);
    TestDatabase bulk, batches;
    auto r = import(bulk, file, {"--timezone", zone, "--bulk-min-rows", "0", "--verify"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(summary(r.out, "metrics"), (std::vector<long>{rows, rows, 0, 0})) << r.out;
    EXPECT_NE(r.out.find("verify: OK"), std::string::npos) << r.out;
    r = import(batches, file, {"--timezone", zone, "--bulk-min-rows", "1000000000"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(fingerprint(bulk, "system_metrics"), fingerprint(batches, "system_metrics"));
    const std::string instants =
        "SELECT string_agg(extract(epoch FROM \"timestamp\")::text, ',' ORDER BY metric_value) "
        "FROM system_metrics";
    EXPECT_EQ(bulk.scalar(instants), batches.scalar(instants));
  }
}

// Only zone names count: unknown names and POSIX rules (UTC+3 is three hours west)
// are refused before anything is written.
TEST(SqliteImport, UnknownTimeZonesAreRefusedWithNothingWritten) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--metrics", "500"});
  TestDatabase db;
  for (const std::string zone : {"Mars/Olympus", "UTC+3", "Berlin", "Europe/Berlin'; --"}) {
    SCOPED_TRACE(zone);
    const auto r = import(db, file, {"--timezone", zone});
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE((r.out + r.err).find("unknown time zone '" + zone + "'"), std::string::npos)
        << r.out << r.err;
  }
  EXPECT_EQ(count(db, "system_metrics"), 0);
  EXPECT_EQ(count(db, "config_cache"), 0);
  // Zone names with digits and signs are names too.
  for (const std::string zone : {"Etc/GMT+3", "EST5EDT", "America/Port-au-Prince"}) {
    SCOPED_TRACE(zone);
    TestDatabase ok;
    const auto r = import(ok, file, {"--timezone", zone, "--bulk-min-rows", "0"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(count(ok, "system_metrics"), 500);
  }
}

TEST(SqliteImport, VerifyComparesCountsAndChecksums) {
  TempDir dir("smiles-import");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--metrics", "5000", "--oddities"});
  TestDatabase db;
  auto r = import(db, file, {"--verify", "--rejects", dir.path() / "r.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verify: OK"), std::string::npos) << r.out;

  db.exec("DELETE FROM system_metrics WHERE ctid IN (SELECT ctid FROM system_metrics LIMIT 7)");
  db.exec(
      "UPDATE production_cache SET total_production = total_production + 1 "
      "WHERE port_number = 1");
  r = import(db, file, {"--verify-only"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("verify: FAILED"), std::string::npos) << r.out;
  const auto m = summary(r.out, "system_metrics");  // in file, found, differing, missing
  ASSERT_EQ(m.size(), 4U) << r.out;
  EXPECT_EQ(m[0] - m[1], 7);
  EXPECT_EQ(m[3], 7);
  const auto p = summary(r.out, "production_cache");
  EXPECT_EQ(p[2], 4);  // differing: the database kept its own values
  EXPECT_EQ(p[3], 0);
  // verify-only wrote nothing back.
  EXPECT_EQ(count(db, "system_metrics"), m[1]);
  // An import repairs it; verify agrees.
  r = import(db, file, {"--verify", "--rejects", dir.path() / "r.csv"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(summary(r.out, "system_metrics"), (std::vector<long>{m[0], m[0], 0, 0}));
  EXPECT_EQ(summary(r.out, "production_cache")[2], 4);  // kept, not overwritten
}

const std::vector<std::string> kAllTables{"dtus",          "inverters",        "inverter_data",
                                          "port_data",     "production_cache", "config_cache",
                                          "system_metrics"};

// export -> import archive: every table equal row for row; again: nothing new.
TEST(Archive, ExportImportRoundTripIsEqualRowForRowAndIdempotent) {
  TempDir dir("smiles-archive");
  const auto file = dir.path() / "v1.db";
  make_v1(file, {"--metrics", "20000", "--oddities"});
  TestDatabase source;
  ASSERT_EQ(import(source, file, {"--rejects", dir.path() / "r.csv"}).exit_code, 0);
  // Readings as the bridge writes them, with NULLs, quotes and commas in text.
  source.exec(
      "INSERT INTO dtus VALUES ('roof, \"east\"', '10F700822465', 'tcp', 'tcp://10.0.0.5:502', "
      "now()), ('garage', NULL, 'rtu', 'rtu:///dev/ttyUSB0?baud=9600', NULL)");
  source.exec(
      "INSERT INTO inverter_data SELECT '116100000007', '2025-06-01T00:00:00Z'::timestamptz + "
      "n * interval '1 minute', 230.1 + n / 10.0, 50.01, NULL, 3, 0, 0, 1 FROM "
      "generate_series(1, 3000) n");
  source.exec(
      "INSERT INTO port_data SELECT '116100000007', p, '2025-06-01T00:00:00Z'::timestamptz + "
      "n * interval '1 minute', 31.5, 0.1 + 0.2, 1e-7 * n, n, 1000000000000 + n FROM "
      "generate_series(1, 3000) n, generate_series(1, 4) p");

  const auto archive = dir.path() / "export";
  auto r = cli({"export", archive, "--database-url", source.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(archive / "manifest.json"));

  TestDatabase copy;
  r = cli({"import", "archive", archive, "--database-url", copy.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("manifest verified"), std::string::npos) << r.out;
  for (const auto& t : kAllTables) {
    EXPECT_EQ(fingerprint(copy, t), fingerprint(source, t)) << t;
  }
  EXPECT_EQ(count(copy, "port_data"), 12000);

  r = cli({"import", "archive", archive, "--database-url", copy.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto m = summary(r.out, "port_data");  // rows, imported, already present, differing
  EXPECT_EQ(m, (std::vector<long>{12000, 0, 12000, 0}));
  for (const auto& t : kAllTables) EXPECT_EQ(fingerprint(copy, t), fingerprint(source, t)) << t;

  // Exporting into a directory that holds files is refused.
  r = cli({"export", archive, "--database-url", source.url()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
}

TEST(Archive, DamagedOrIncompleteArchivesAreRefusedWithoutWriting) {
  TempDir dir("smiles-archive");
  TestDatabase source;
  ASSERT_EQ(cli({"db", "upgrade", "--database-url", source.url()}).exit_code, 0);
  source.exec(
      "INSERT INTO port_data SELECT '116100000007', 1, '2025-06-01T00:00:00Z'::timestamptz + "
      "n * interval '1 minute', 31.5, 1.5, 47.25, n, 5000 + n FROM generate_series(1, 500) n");
  const auto archive = dir.path() / "export";
  ASSERT_EQ(cli({"export", archive, "--database-url", source.url()}).exit_code, 0);

  TestDatabase target;
  // A changed value: the file checksum no longer matches.
  {
    std::fstream f(archive / "port_data.csv", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('9');
  }
  auto r = cli({"import", "archive", archive, "--database-url", target.url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
  EXPECT_EQ(public_tables(target), 0);

  // No manifest: an export that did not finish.
  std::filesystem::remove(archive / "manifest.json");
  r = cli({"import", "archive", archive, "--database-url", target.url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("manifest.json"), std::string::npos) << r.err;
  EXPECT_EQ(public_tables(target), 0);
}

}  // namespace
}  // namespace smiles::storage
