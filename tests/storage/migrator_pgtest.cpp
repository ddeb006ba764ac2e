#include "smiles/storage/migrator.h"

#include <gtest/gtest.h>

#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

using test::TestDatabase;

bool has_table(const TestDatabase& db, std::string_view table) {
  return db.scalar("SELECT to_regclass('public." + std::string(table) + "') IS NOT NULL") == "t";
}

TEST(Migrator, EmptyDatabaseIsUpgradedToTheLatestSchema) {
  TestDatabase db;
  ConnectionPool pool(db.config());
  Migrator migrator(pool);
  auto s = migrator.status();
  EXPECT_EQ(s.shape, SchemaShape::kEmpty);
  EXPECT_EQ(s.pending.size(), builtin_migrations().size());
  EXPECT_NE(format_status(s).find("upgrade would apply"), std::string::npos);

  const auto result = migrator.upgrade();
  EXPECT_EQ(result.applied_versions.size(), builtin_migrations().size());
  s = migrator.status();
  EXPECT_TRUE(s.up_to_date());
  EXPECT_EQ(s.current_version, builtin_migrations().back().version);
  for (auto table : schema::kTables) EXPECT_TRUE(has_table(db, table)) << table;
  EXPECT_TRUE(migrator.verify().empty());
  EXPECT_TRUE(migrator.upgrade().applied_versions.empty());  // idempotent
  EXPECT_NE(format_status(migrator.status()).find("up to date"), std::string::npos);
}

TEST(Migrator, ChecksumMismatchIsRefused) {
  TestDatabase db;
  ConnectionPool pool(db.config());
  Migrator migrator(pool);
  migrator.upgrade();
  db.exec("UPDATE schema_migrations SET checksum = 'deadbeefdeadbeef' WHERE version = 1");
  const auto s = migrator.status();
  ASSERT_EQ(s.problems.size(), 1U);
  EXPECT_NE(s.problems[0].find("checksum"), std::string::npos);
  EXPECT_THROW(migrator.upgrade(), SchemaError);
  EXPECT_FALSE(migrator.verify().empty());
}

TEST(Migrator, NewerSchemaIsRefused) {
  TestDatabase db;
  ConnectionPool pool(db.config());
  Migrator migrator(pool);
  migrator.upgrade();
  db.exec(
      "INSERT INTO schema_migrations (version, name, checksum, execution_ms) "
      "VALUES (9999, 'from_the_future', 'x', 1)");
  try {
    migrator.upgrade();
    FAIL() << "expected SchemaError";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("newer hoymiles-smiles"), std::string::npos) << e.what();
  }
}

TEST(Migrator, FailedMigrationRollsBackCompletely) {
  TestDatabase db;
  ConnectionPool pool(db.config());
  auto migrations = builtin_migrations();
  const int good = migrations.back().version;
  migrations.push_back({good + 1, "half_done",
                        "CREATE TABLE half_done (id int);\n"
                        "INSERT INTO inverters (serial_number, first_seen, "
                        "last_seen) VALUES ('X', now(), now());\n"
                        "SELECT 1 / 0;"});
  Migrator migrator(pool, migrations);
  try {
    migrator.upgrade();
    FAIL() << "expected SchemaError";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("version " + std::to_string(good)), std::string::npos);
  }
  EXPECT_FALSE(has_table(db, "half_done"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverters"), "0");
  EXPECT_EQ(db.scalar("SELECT max(version) FROM schema_migrations"), std::to_string(good));
  const auto s = migrator.status();
  ASSERT_EQ(s.pending.size(), 1U);
  EXPECT_EQ(s.pending[0].name, "half_done");
  // The previous version keeps working with the binary that knows it.
  EXPECT_TRUE(Migrator(pool).verify().empty());
}

TEST(Migrator, UnknownAndLegacyShapesAreRecognised) {
  TestDatabase unknown;
  unknown.exec("CREATE TABLE inverters (serial_number text)");
  ConnectionPool pool_u(unknown.config());
  EXPECT_EQ(Migrator(pool_u).status().shape, SchemaShape::kUnknown);
  EXPECT_THROW(Migrator(pool_u).upgrade(), SchemaError);

  TestDatabase legacy;
  legacy.exec(
      "CREATE TABLE inverter_data (id BIGSERIAL PRIMARY KEY, serial_number text, "
      "timestamp timestamp)");
  ConnectionPool pool_l(legacy.config());
  EXPECT_EQ(Migrator(pool_l).status().shape, SchemaShape::kLegacyPythonV2);
}

// Migration 2 makes system_metrics rows unique (imports rely on ON CONFLICT) and
// removes exact duplicates an older database may hold first.
TEST(Migrator, SystemMetricsIdentityRemovesDuplicatesAndStopsNewOnes) {
  TestDatabase db;
  ConnectionPool pool(db.config(1, 0));
  auto first = builtin_migrations();
  ASSERT_GE(first.size(), 2U);
  first.resize(1);
  Migrator(pool, first).upgrade();
  const std::string row = "INSERT INTO system_metrics VALUES ('2025-01-01T00:00:00Z', 'p', ";
  for (int i = 0; i < 2; ++i) {
    db.exec(row + "1.5, '{\"port\": 1}')");
    db.exec(row + "1.5, NULL)");
    db.exec(row + "NULL, NULL)");
  }
  db.exec(row + "2.5, '{\"port\": 1}')");  // another value: another sample
  Migrator(pool).upgrade();
  EXPECT_EQ(db.scalar("SELECT count(*) FROM system_metrics"), "4");
  for (const char* again : {"1.5, '{\"port\": 1}')", "1.5, NULL)", "NULL, NULL)"}) {
    db.exec(row + again + " ON CONFLICT DO NOTHING");
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM system_metrics"), "4");
  // schema::system_metrics_identity() (the importers' duplicate removal and --verify)
  // names the unique index's own expressions: PostgreSQL infers the index from them.
  std::string target;
  for (const auto& part : schema::system_metrics_identity()) {
    target += (target.empty() ? "" : ", ") + part;
  }
  db.exec(row + "1.5, '{\"port\": 1}') ON CONFLICT (" + target + ") DO NOTHING");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM system_metrics"), "4");
  // One index: the identity, which begins with the time and serves reads by time,
  // its parts in identity()'s order (numbers before the name: a cheaper build).
  EXPECT_EQ(db.scalar("SELECT string_agg(indexrelid::regclass::text, ',') FROM pg_index "
                      "WHERE indrelid = 'system_metrics'::regclass"),
            "system_metrics_identity_idx");
  const auto parts = schema::system_metrics_identity();
  db.exec("CREATE TABLE smiles_probe (LIKE system_metrics)");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    // PostgreSQL's own spelling of the part, from an index on identity()'s text.
    const auto probe = "smiles_probe_" + std::to_string(i);
    db.exec("CREATE INDEX " + probe + " ON smiles_probe (" + parts[i] + ")");
    EXPECT_EQ(db.scalar("SELECT pg_get_indexdef('system_metrics_identity_idx'::regclass, " +
                        std::to_string(i + 1) + ", true)"),
              db.scalar("SELECT pg_get_indexdef('" + probe + "'::regclass, 1, true)"))
        << parts[i];
  }
  db.exec("DROP TABLE smiles_probe");
}

TEST(Migration, ChecksumChangesWithTheSql) {
  Migration a{1, "x", "CREATE TABLE a (id int);"};
  Migration b = a;
  b.sql += " ";
  EXPECT_EQ(a.checksum().size(), 16U);
  EXPECT_NE(a.checksum(), b.checksum());
  EXPECT_EQ(a.checksum(), Migration(a).checksum());
}

}  // namespace
}  // namespace smiles::storage
