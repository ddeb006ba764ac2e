// Adopting an S-Miles v2 Python database, built by tests/storage/fixtures/smiles_v2_python.sql.
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

std::string fixture() {
  std::ifstream in(SMILES_FIXTURES_DIR "/smiles_v2_python.sql");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LegacyTest : public ::testing::Test {
 protected:
  void SetUp() override { db.exec(fixture()); }
  std::string count(const std::string& table) { return db.scalar("SELECT count(*) FROM " + table); }

  test::TestDatabase db;
  ConnectionPool pool{db.config()};
};

TEST_F(LegacyTest, StatusShowsWhatAdoptionWillDo) {
  Migrator migrator(pool, MigratorOptions{"Europe/Berlin", 0});
  const auto s = migrator.status();
  ASSERT_EQ(s.shape, SchemaShape::kLegacyPythonV2);
  ASSERT_TRUE(s.legacy);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> t;
  for (const auto& table : s.legacy->tables) t[table.table] = {table.rows, table.kept};
  EXPECT_EQ(t["inverter_data"], std::make_pair(std::int64_t{6188}, std::int64_t{2592}));
  EXPECT_EQ(t["port_data"], std::make_pair(std::int64_t{6188}, std::int64_t{6048}));
  EXPECT_EQ(t["system_metrics"], std::make_pair(std::int64_t{874}, std::int64_t{864}));
  EXPECT_EQ(t["inverters"], std::make_pair(std::int64_t{3}, std::int64_t{3}));
  EXPECT_EQ(s.legacy->first_naive, "2025-10-25 00:00:00");
  EXPECT_EQ(s.legacy->first_utc, "2025-10-24T22:00:00Z");
  const auto text = format_status(s);
  EXPECT_NE(text.find("adoption plan"), std::string::npos) << text;
  EXPECT_EQ(count("inverter_data"), "6188");  // status changed nothing
}

TEST_F(LegacyTest, UpgradeAdoptsKeepingEveryDistinctReading) {
  Migrator migrator(pool, MigratorOptions{"Europe/Berlin", 0});
  const auto result = migrator.upgrade();
  ASSERT_FALSE(result.applied_versions.empty());
  EXPECT_EQ(result.applied_versions.front(), 1);
  EXPECT_TRUE(migrator.status().up_to_date());
  EXPECT_TRUE(migrator.verify().empty());

  EXPECT_EQ(count("inverter_data"), "2592");  // one row per inverter per poll
  EXPECT_EQ(count("port_data"), "6048");
  EXPECT_EQ(count("system_metrics"), "864");
  EXPECT_EQ(count("inverters"), "3");
  EXPECT_EQ(count("production_cache"), "3");
  EXPECT_EQ(count("config_cache"), "2");
  EXPECT_EQ(count("dtus"), "1");
  // The old tables are kept untouched as the rollback path.
  EXPECT_EQ(count("smiles_legacy_v2.inverter_data"), "6188");
  EXPECT_EQ(count("smiles_legacy_v2.port_data"), "6188");

  // Naive local time -> UTC, on both sides of the end of DST (CEST +2, CET +1).
  auto utc_of = [&](const char* naive) {
    return db.scalar(
        "SELECT to_char(p.\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM port_data p "
        "JOIN smiles_legacy_v2.port_data l ON l.serial_number = p.serial_number AND "
        "l.port_number = p.port_number AND l.total_production = p.total_production "
        "WHERE l.timestamp = '" +
        std::string(naive) + "' LIMIT 1");
  };
  EXPECT_EQ(utc_of("2025-10-25 12:00:00"), "2025-10-25 10:00");
  EXPECT_EQ(utc_of("2025-10-27 12:00:00"), "2025-10-27 11:00");
  EXPECT_EQ(db.scalar("SELECT value::text FROM config_cache WHERE key = 'dtu_serial'"),
            "\"10F712345678\"");
  EXPECT_EQ(db.scalar("SELECT inverter_type FROM inverters WHERE serial_number = '114412345679'"),
            "HMS");

  // The adopted database works with the writer and the read model.
  ReadingWriter writer(pool, {0, "Europe/Berlin"});
  const auto r = test::make_reading(test::utc("2025-10-28T10:00:00"), 1, 1);
  writer.write({&r, 1});
  PgReadModel model(pool, {0, "Europe/Berlin"});
  EXPECT_EQ(model.inverters(std::nullopt).size(), 4U);
  EXPECT_EQ(model.port_history("116112345680", 4, {}).size(), 100U);
}

TEST_F(LegacyTest, FailedAdoptionChangesNothing) {
  EXPECT_THROW(Migrator(pool, MigratorOptions{"Mars/Olympus", 0}).upgrade(), ConfigError);
  db.exec("CREATE SCHEMA smiles_legacy_v2");
  EXPECT_THROW(Migrator(pool, MigratorOptions{"Europe/Berlin", 0}).upgrade(), SchemaError);
  EXPECT_EQ(count("public.inverter_data"), "6188");
  EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
  EXPECT_EQ(Migrator(pool).status().shape, SchemaShape::kLegacyPythonV2);
}

TEST_F(LegacyTest, CliDryRunPrintsThePlanAndWritesNothing) {
  auto r = test::run_command({test::cli_path(), "db", "upgrade", "--dry-run", "--timezone",
                              "Europe/Berlin", "--database-url", db.url()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("S-Miles v2 Python bridge"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inverter_data"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos) << r.out;
  EXPECT_EQ(count("inverter_data"), "6188");
  r = test::run_command({test::cli_path(), "db", "upgrade", "--timezone", "Europe/Berlin",
                         "--database-url", db.url()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count("inverter_data"), "2592");
}

}  // namespace
}  // namespace smiles::storage

namespace smiles::storage {
namespace {

TEST_F(LegacyTest, RollbackPutsTheOldTablesBackAndKeepsNewData) {
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {test::cli_path(), "db"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--database-url", db.url()});
    return test::run_command(argv);
  };
  ASSERT_EQ(cli({"upgrade", "--timezone", "Europe/Berlin"}).exit_code, 0);
  ReadingWriter writer(pool, {0, "Europe/Berlin"});
  const auto r = test::make_reading(test::utc("2025-10-28T10:00:00"), 1, 1);
  writer.write({&r, 1});
  auto out = cli({"rollback-adoption"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(count("public.inverter_data"), "6188");  // the old shape, untouched
  EXPECT_EQ(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                      "'public' AND table_name = 'inverter_data' AND column_name = 'id'"),
            "1");
  EXPECT_EQ(count("smiles_v2_rolled_back.inverter_data"), "2593");  // adopted + new
  EXPECT_EQ(db.scalar("SELECT to_regclass('public.schema_migrations') IS NULL"), "t");
  EXPECT_EQ(Migrator(pool).status().shape, SchemaShape::kLegacyPythonV2);
  EXPECT_EQ(cli({"rollback-adoption"}).exit_code, 1);  // nothing left to roll back
}

TEST_F(LegacyTest, DropLegacyRemovesOnlyTheOldTables) {
  Migrator(pool, MigratorOptions{"Europe/Berlin", 0}).upgrade();
  auto out = test::run_command({test::cli_path(), "db", "drop-legacy", "--database-url", db.url()});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'smiles_legacy_v2'"), "0");
  EXPECT_EQ(count("inverter_data"), "2592");
  EXPECT_TRUE(Migrator(pool).verify().empty());
  out = test::run_command({test::cli_path(), "db", "drop-legacy", "--database-url", db.url()});
  EXPECT_NE(out.out.find("nothing to drop"), std::string::npos);
}

}  // namespace
}  // namespace smiles::storage
