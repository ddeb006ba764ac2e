// Adopting a database of the S-Miles v2 Python bridge. The fixture
// (fixtures/smiles_v2_postgres.sql) is built from that bridge's own DDL and write path
// (Studio729/hoymiles-mqtt, hoymiles_smiles/db_adapter.py, persistence.py, runners.py)
// and keeps the true instants and values in schema fixture_truth.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "process.h"
#include "readings.h"
#include "smiles/core/error.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/reading_writer.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

std::string file(const char* name) {
  std::ifstream in(std::string(SMILES_FIXTURES_DIR) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fixture's plant: 4249 polls of 4 inverters with 13 ports; 59 polls fall in the
// repeated hour of 2025-10-26.
constexpr int kPolls = 4249;
constexpr int kPorts = 13;
constexpr int kInverters = 4;

const MigratorOptions kOptions{"", {0, "Europe/Berlin"}};

class LegacyTest : public ::testing::Test {
 protected:
  void SetUp() override { db.exec(file("smiles_v2_postgres.sql")); }
  // Pools connect after the fixture set the database's time zone.
  ConnectionPool& pool() {
    if (!pool_) pool_ = std::make_unique<ConnectionPool>(db.config());
    return *pool_;
  }
  std::string count(const std::string& table) { return db.scalar("SELECT count(*) FROM " + table); }
  // Rows of `a` not in `b` plus rows of `b` not in `a`.
  std::string difference(const std::string& a, const std::string& b) {
    return db.scalar("SELECT (SELECT count(*) FROM (" + a + " EXCEPT " + b +
                     ") x) + (SELECT count(*) FROM (" + b + " EXCEPT " + a + ") y)");
  }
  void expect_untouched() {
    EXPECT_EQ(count("public.inverter_data"), std::to_string(kPolls * kPorts));
    EXPECT_EQ(count("public.port_data"), std::to_string(kPolls * kPorts));
    EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'smiles_legacy_v2'"),
              "0");
  }
  test::CommandResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {test::cli_path(), "db"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--database-url", db.url(), "--timezone", "Europe/Berlin"});
    return test::run_command(argv);
  }

  test::TestDatabase db;
  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(LegacyTest, StatusNamesTheShapeAndPlansTheAdoption) {
  const auto s = Migrator(pool(), kOptions).status();
  ASSERT_EQ(s.shape, SchemaShape::kLegacyPythonV2);
  ASSERT_TRUE(s.legacy);
  EXPECT_TRUE(s.problems.empty()) << s.problems.front();
  EXPECT_NE(s.legacy->shape.find("db_adapter.py"), std::string::npos) << s.legacy->shape;
  EXPECT_NE(s.legacy->shape.find("no secondary indexes"), std::string::npos);
  // Naive times are read in the zone the server wrote them in, not in TIMEZONE.
  EXPECT_EQ(s.legacy->source_timezone, "Europe/Berlin");
  EXPECT_NE(s.legacy->source_timezone_origin.find("TimeZone setting"), std::string::npos);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> t;
  for (const auto& table : s.legacy->tables) t[table.table] = {table.rows, table.kept};
  EXPECT_EQ(t["inverter_data"],
            std::make_pair(std::int64_t{kPolls * kPorts}, std::int64_t{kPolls * kInverters}));
  EXPECT_EQ(t["port_data"],
            std::make_pair(std::int64_t{kPolls * kPorts}, std::int64_t{kPolls * kPorts}));
  EXPECT_EQ(t["inverters"], std::make_pair(std::int64_t{4}, std::int64_t{4}));
  EXPECT_EQ(t["production_cache"].second, -1);  // rebuilt
  EXPECT_EQ(s.legacy->repeated_hour_rows, 59 * kPorts * 2);
  EXPECT_EQ(s.legacy->cache_zero_rows, kPorts);
  EXPECT_EQ(s.legacy->first_utc, "2025-10-25T00:00:00Z");
  const auto text = format_status(s);
  EXPECT_NE(text.find("adoption plan"), std::string::npos) << text;
  EXPECT_NE(text.find("repeated hour"), std::string::npos) << text;
  expect_untouched();  // status changed nothing
}

TEST_F(LegacyTest, UpgradeKeepsEveryReadingAtItsTrueInstant) {
  const auto result = Migrator(pool(), kOptions).upgrade();
  ASSERT_FALSE(result.applied_versions.empty());
  EXPECT_EQ(result.applied_versions.front(), 1);
  Migrator after(pool(), kOptions);
  EXPECT_TRUE(after.status().up_to_date());
  EXPECT_TRUE(after.verify().empty());

  // One port row per port and poll, at the poll's instant (its first row), with the
  // values the DTU sent. Nothing lost in the repeated hour, nothing shifted.
  EXPECT_EQ(count("port_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(difference("SELECT serial, port, min(inverter_at) OVER (PARTITION BY n, serial), "
                       "total_production::bigint, today_production, pv_power::text::float8 FROM "
                       "fixture_truth.readings",
                       "SELECT serial_number, port_number::int, \"timestamp\", total_production, "
                       "today_production, pv_power FROM port_data"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM port_data WHERE \"timestamp\" >= "
                      "'2025-10-26 00:00Z' AND \"timestamp\" < '2025-10-26 02:00Z'"),
            db.scalar("SELECT count(*) FROM fixture_truth.readings WHERE at >= '2025-10-26 "
                      "00:00Z' AND at < '2025-10-26 02:00Z'"));

  // One inverter row per inverter and poll, not one per port.
  EXPECT_EQ(count("inverter_data"), std::to_string(kPolls * kInverters));
  EXPECT_EQ(difference("SELECT DISTINCT serial, min(inverter_at) OVER (PARTITION BY n, serial), "
                       "link_status FROM fixture_truth.readings",
                       "SELECT serial_number, \"timestamp\", link_status::int FROM inverter_data"),
            "0");
  // REAL values arrive as the numbers the DTU sent (not 229.699996948242), NULLs stay.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverter_data WHERE link_status = 1 AND "
                      "grid_voltage::numeric <> round(grid_voltage::numeric, 1)"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverter_data WHERE grid_voltage = 229.7"),
            db.scalar("SELECT count(DISTINCT (n, serial)) FROM fixture_truth.readings WHERE "
                      "link_status = 1 AND n % 23 = 7"));
  EXPECT_NE(db.scalar("SELECT count(*) FROM inverter_data WHERE temperature IS NULL"), "0");
  EXPECT_NE(db.scalar("SELECT count(*) FROM port_data WHERE pv_current IS NULL"), "0");

  // Inverters typed from their serials, ports counted, dtu_name left as the bridge did.
  EXPECT_EQ(db.scalar("SELECT string_agg(inverter_type || ':' || port_count, ',' ORDER BY "
                      "serial_number) FROM inverters"),
            "MI:2,HM:4,HMS:1,HMT:6");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverters WHERE dtu_name IS NULL"), "4");

  // The cache from the readings with the served-energy model (the old one held the
  // zeros of the last night): the highest total; the last readings came after local
  // midnight, so "today" is the 28th's, and nothing has been produced on it yet.
  EXPECT_EQ(difference("SELECT r.serial, r.port::smallint, max(r.total_production)::bigint, 0, "
                       "'2025-10-28'::date FROM fixture_truth.readings r WHERE r.link_status = 1 "
                       "GROUP BY 1, 2",
                       "SELECT serial_number, port_number, total_production, today_production, "
                       "production_day FROM production_cache"),
            "0");

  // The old tables are kept untouched as the rollback path.
  EXPECT_EQ(count("smiles_legacy_v2.inverter_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(count("smiles_legacy_v2.port_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(db.scalar("SELECT value->>'source_timezone' FROM config_cache WHERE key = "
                      "'smiles_v2_adoption'"),
            "Europe/Berlin");

  // The adopted database works with the writer and the read model.
  ReadingWriter writer(pool(), {0, "Europe/Berlin"});
  const auto r = test::make_reading(test::utc("2025-10-28T10:00:00"), 1, 1);
  writer.write({&r, 1});
  PgReadModel model(pool(), {0, "Europe/Berlin"});
  const auto inverters = model.inverters(std::nullopt);
  EXPECT_EQ(inverters.size(), 5U);
  EXPECT_EQ(model.port_history("138212345678", 6, {}).size(), 100U);
  for (const auto& p : model.energy_states()) {
    if (p.serial_number == "114491234560") {
      EXPECT_EQ(p.energy.total, 409850U);
    }
  }
}

TEST_F(LegacyTest, TheFirstVersionsIndexedShapeAdoptsToo) {
  db.exec(file("smiles_v2_postgres_indexes.sql"));
  auto s = Migrator(pool(), kOptions).status(false);
  ASSERT_EQ(s.shape, SchemaShape::kLegacyPythonV2);
  EXPECT_NE(s.legacy->shape.find("persistence.py"), std::string::npos) << s.legacy->shape;
  EXPECT_NE(s.legacy->shape.find("with its 7 indexes"), std::string::npos);
  db.exec("DROP INDEX idx_port_data_serial; DROP INDEX idx_metrics_name");
  s = Migrator(pool(), kOptions).status(false);
  EXPECT_NE(s.legacy->shape.find("5 of the 7 indexes"), std::string::npos) << s.legacy->shape;
  Migrator(pool(), kOptions).upgrade();
  EXPECT_EQ(count("port_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(count("inverter_data"), std::to_string(kPolls * kInverters));
  // The old indexes went with their tables.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = 'smiles_legacy_v2' "
                      "AND indexname LIKE 'idx_%'"),
            "5");
}

TEST_F(LegacyTest, ReadingsOfInvertersMissingFromInvertersAreKept) {
  // The foreign keys make this impossible in the Python DDL; a data-only restore
  // without them (pg_restore --disable-triggers) does not.
  db.exec(
      "ALTER TABLE inverter_data DROP CONSTRAINT inverter_data_serial_number_fkey;"
      "ALTER TABLE port_data DROP CONSTRAINT port_data_serial_number_fkey;"
      "INSERT INTO inverter_data (serial_number, timestamp, grid_voltage, link_status) "
      "SELECT '116412340001', ts, 231.5, 1 FROM generate_series(timestamp '2025-10-27 "
      "12:00', '2025-10-27 12:09', '1 minute') ts;"
      "INSERT INTO port_data (serial_number, port_number, timestamp, pv_power, "
      "today_production, total_production) SELECT '116412340001', p, ts + interval '3 ms', "
      "100, 50, 7000 + p FROM generate_series(timestamp '2025-10-27 12:00', "
      "'2025-10-27 12:09', '1 minute') ts, generate_series(1, 4) p");
  const auto s = Migrator(pool(), kOptions).status();
  EXPECT_NE(s.legacy->shape.find("without the foreign keys"), std::string::npos);
  EXPECT_EQ(s.legacy->inverters_added, 1);
  Migrator(pool(), kOptions).upgrade();
  EXPECT_EQ(db.scalar("SELECT inverter_type || ':' || port_count || ':' || "
                      "to_char(first_seen AT TIME ZONE 'UTC', 'HH24:MI') FROM inverters WHERE "
                      "serial_number = '116412340001'"),
            "HMS:4:11:00");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM port_data WHERE serial_number = '116412340001'"), "40");
  EXPECT_EQ(db.scalar("SELECT total_production FROM production_cache WHERE serial_number = "
                      "'116412340001' AND port_number = 4"),
            "7004");
}

TEST_F(LegacyTest, ConfigAndMetricRowsCarryOver) {
  // The Python bridge never wrote these tables; its DDL allows rows, so they are kept.
  db.exec(
      "INSERT INTO config_cache (key, value, last_updated) VALUES ('dtu_serial', "
      "'\"10F712345678\"', '2025-10-25 10:00'), ('note', '{\"a\": 1}', '2025-10-25 10:00');"
      "INSERT INTO system_metrics (timestamp, metric_name, metric_value, tags) SELECT "
      "timestamp '2025-10-25 10:00' + n * interval '1 minute', 'poll_seconds', 0.1 * n, "
      "'{\"dtu\": \"DTU\"}' FROM generate_series(1, 10) n;"
      "INSERT INTO system_metrics (timestamp, metric_name, metric_value, tags) SELECT "
      "timestamp, metric_name, metric_value, tags FROM system_metrics WHERE id <= 2");
  const auto s = Migrator(pool(), kOptions).status();
  for (const auto& t : s.legacy->tables) {
    if (t.table == "system_metrics") {
      EXPECT_EQ(t.kept, 10) << t.rows;
    } else if (t.table == "config_cache") {
      EXPECT_EQ(t.kept, 2);
    }
  }
  Migrator(pool(), kOptions).upgrade();
  EXPECT_EQ(count("system_metrics"), "10");
  EXPECT_EQ(db.scalar("SELECT metric_value FROM system_metrics ORDER BY \"timestamp\" LIMIT 1"),
            "0.1");
  EXPECT_EQ(db.scalar("SELECT to_char(\"timestamp\" AT TIME ZONE 'UTC', 'HH24:MI') FROM "
                      "system_metrics ORDER BY \"timestamp\" LIMIT 1"),
            "08:01");
  EXPECT_EQ(db.scalar("SELECT value::text FROM config_cache WHERE key = 'dtu_serial'"),
            "\"10F712345678\"");
}

TEST_F(LegacyTest, TheSourceZoneIsTheServersUnlessOverridden) {
  db.exec(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone TO ''UTC''', "
      "current_database()); END $$");
  EXPECT_EQ(Migrator(pool(), kOptions).status(false).legacy->source_timezone, "UTC");
  MigratorOptions berlin = kOptions;
  berlin.source_timezone = "Europe/Berlin";
  const auto s = Migrator(pool(), berlin).status();
  EXPECT_EQ(s.legacy->source_timezone, "Europe/Berlin");
  EXPECT_EQ(s.legacy->source_timezone_origin, "--legacy-timezone");
  EXPECT_EQ(s.legacy->first_utc, "2025-10-25T00:00:00Z");
  berlin.source_timezone = "Mars/Olympus";
  EXPECT_THROW(Migrator(pool(), berlin).upgrade(), ConfigError);
  expect_untouched();
}

TEST_F(LegacyTest, AShapeItCannotAdoptIsRefusedNamingTheDifference) {
  db.exec("ALTER TABLE port_data DROP COLUMN pv_power");
  db.exec("ALTER TABLE inverter_data ALTER COLUMN grid_voltage TYPE boolean USING false");
  const auto s = Migrator(pool(), kOptions).status();
  ASSERT_EQ(s.shape, SchemaShape::kLegacyPythonV2);
  ASSERT_EQ(s.problems.size(), 2U);
  EXPECT_EQ(s.problems[0],
            "inverter_data.grid_voltage is boolean; the S-Miles v2 DDL declares REAL");
  EXPECT_EQ(s.problems[1],
            "port_data has no column pv_power (the S-Miles v2 DDL declares pv_power REAL)");
  try {
    Migrator(pool(), kOptions).upgrade();
    FAIL() << "upgrade adopted a shape it cannot";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing was changed"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("pv_power"), std::string::npos);
  }
  const auto r = cli({"upgrade"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("port_data has no column pv_power"), std::string::npos) << r.err;
  EXPECT_EQ(count("public.port_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'smiles_legacy_v2'"), "0");
}

TEST_F(LegacyTest, AFailedAdoptionChangesNothing) {
  db.exec("CREATE SCHEMA smiles_legacy_v2");
  EXPECT_THROW(Migrator(pool(), kOptions).upgrade(), SchemaError);
  EXPECT_EQ(count("public.inverter_data"), std::to_string(kPolls * kPorts));
  EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
  EXPECT_EQ(Migrator(pool()).status(false).shape, SchemaShape::kLegacyPythonV2);
}

TEST_F(LegacyTest, CliDryRunPrintsThePlanAndWritesNothing) {
  auto r = cli({"upgrade", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("S-Miles v2 Python bridge"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("db_adapter.py"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read as Europe/Berlin local time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos) << r.out;
  expect_untouched();
  r = cli({"upgrade", "--legacy-timezone", "Europe/Berlin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count("inverter_data"), std::to_string(kPolls * kInverters));
  EXPECT_NE(r.out.find("adopted the S-Miles v2 database"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inverter_data             55237        16996        38241"),
            std::string::npos)
      << r.out;
}

TEST_F(LegacyTest, RollbackPutsTheOldTablesBackAndKeepsNewData) {
  ASSERT_EQ(cli({"upgrade"}).exit_code, 0);
  ReadingWriter writer(pool(), {0, "Europe/Berlin"});
  const auto r = test::make_reading(test::utc("2025-10-28T10:00:00"), 1, 1);
  writer.write({&r, 1});
  auto out = cli({"rollback-adoption"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(count("public.inverter_data"), std::to_string(kPolls * kPorts));  // untouched
  EXPECT_EQ(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                      "'public' AND table_name = 'inverter_data' AND column_name = 'id'"),
            "1");
  EXPECT_EQ(count("smiles_v2_rolled_back.inverter_data"),
            std::to_string(kPolls * kInverters + 1));  // adopted + new
  EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
  EXPECT_EQ(Migrator(pool()).status(false).shape, SchemaShape::kLegacyPythonV2);
  EXPECT_EQ(cli({"rollback-adoption"}).exit_code, 1);  // nothing left to roll back
}

TEST_F(LegacyTest, DropLegacyRemovesOnlyTheOldTables) {
  Migrator(pool(), kOptions).upgrade();
  auto out = cli({"drop-legacy"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'smiles_legacy_v2'"), "0");
  EXPECT_EQ(count("inverter_data"), std::to_string(kPolls * kInverters));
  EXPECT_TRUE(Migrator(pool()).verify().empty());
  out = cli({"drop-legacy"});
  EXPECT_NE(out.out.find("nothing to drop"), std::string::npos);
}

}  // namespace
}  // namespace smiles::storage
