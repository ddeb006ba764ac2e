// `hoymiles-smiles db` as users run it, against the real PostgreSQL.
#include <gtest/gtest.h>

#include <future>

#include "process.h"
#include "smiles/storage/migrator.h"
#include "test_database.h"

namespace smiles::test {
namespace {

CommandResult db(const std::string& action, const std::string& url) {
  return run_command({cli_path(), "db", action, "--database-url", url});
}

TEST(CliDb, StatusUpgradeVerifyOnAnEmptyDatabase) {
  TestDatabase database;
  auto r = db("status", database.url());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("database is empty"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pending  1 schema_v2"), std::string::npos) << r.out;
  r = db("verify", database.url());
  EXPECT_EQ(r.exit_code, 1);
  r = db("upgrade", database.url());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("applied migration 1"), std::string::npos) << r.out;
  r = db("status", database.url());
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
  EXPECT_EQ(db("verify", database.url()).exit_code, 0);
}

TEST(CliDb, TwoConcurrentUpgradesApplyEachMigrationOnce) {
  for (int round = 0; round < 3; ++round) {
    TestDatabase database;
    auto a = std::async(std::launch::async, [&] { return db("upgrade", database.url()); });
    auto b = std::async(std::launch::async, [&] { return db("upgrade", database.url()); });
    const auto ra = a.get();
    const auto rb = b.get();
    EXPECT_EQ(ra.exit_code, 0) << ra.err;
    EXPECT_EQ(rb.exit_code, 0) << rb.err;
    const auto latest = std::to_string(storage::builtin_migrations().back().version);
    EXPECT_EQ(database.scalar("SELECT count(*) FROM schema_migrations"), latest);
    EXPECT_EQ(database.scalar("SELECT count(DISTINCT version) FROM schema_migrations"), latest);
  }
}

TEST(CliDb, RefusalsHaveExitCodes) {
  TestDatabase database;
  ASSERT_EQ(db("upgrade", database.url()).exit_code, 0);
  database.exec("UPDATE schema_migrations SET checksum = 'changed'");
  auto r = db("upgrade", database.url());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  r = db("status", "postgresql://nobody:secret-pw@127.0.0.1:1/x");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err.find("secret-pw"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("secret-pw"), std::string::npos) << r.out;
  EXPECT_EQ(run_command({cli_path(), "db", "explode"}).exit_code, 2);
  // The same settings and checks as serve: a bad variable is named.
  r = run_command({"env", "DB_PORT=fivefourthreetwo", cli_path(), "db", "status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("DB_PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace smiles::test
