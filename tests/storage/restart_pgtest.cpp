// Tests that stop and start the PostgreSQL server (run serially, see CMake).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "readings.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/spooling_writer.h"
#include "temp_dir.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

using test::make_reading;
using test::utc;

// Restarts the server even when an assertion fails halfway.
struct ServerGuard {
  ~ServerGuard() {
    try {
      test::start_postgres();
    } catch (...) {
    }
  }
};

TEST(ServerRestart, PoolReplacesConnectionsAfterARestart) {
  test::TestDatabase db;
  ConnectionPool pool(db.config(2, 0));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
  }
  EXPECT_EQ(pool.stats().idle, 2);
  {
    ServerGuard guard;
    test::stop_postgres("fast");
    EXPECT_THROW(pool.run([](pqxx::connection& c) { pqxx::nontransaction(c).exec("SELECT 1"); }),
                 DatabaseUnavailable);
  }
  int answer = 0;
  pool.run([&](pqxx::connection& c) {
    answer = pqxx::nontransaction(c).exec1("SELECT 42")[0].as<int>();
  });
  EXPECT_EQ(answer, 42);
  EXPECT_GE(pool.stats().broken, 1U);
}

TEST(ServerRestart, EveryReadingArrivesExactlyOnceAcrossAnOutage) {
  test::TestDatabase db;
  ConnectionPool pool(db.config(2, 0));
  Migrator(pool).upgrade();
  ReadingWriter database(pool, {});
  test::TempDir dir("smiles-spool-pg");
  Spool spool({dir / "spool.bin"});
  SpoolingWriter writer(database, spool);

  const auto start = utc("2026-06-01T08:00:00");
  auto poll = [&](int i) { return make_reading(start + std::chrono::minutes{i}, 3, 2, i); };
  int stored = 0, spooled = 0;
  for (int i = 0; i < 10; ++i) {
    const auto r = poll(i);
    stored += writer.store({&r, 1}) == StoreOutcome::kStored ? 1 : 0;
  }
  {
    ServerGuard guard;
    test::stop_postgres("immediate");
    for (int i = 10; i < 25; ++i) {
      const auto r = poll(i);
      spooled += writer.store({&r, 1}) == StoreOutcome::kSpooled ? 1 : 0;
    }
    EXPECT_EQ(spool.stats().readings, 15U);
  }
  // Readings go to the spool until flush() (the bridge's watcher) has replayed it.
  {
    const auto r = poll(25);
    EXPECT_EQ(writer.store({&r, 1}), StoreOutcome::kSpooled);
  }
  EXPECT_TRUE(writer.stats().writes_failing);
  EXPECT_EQ(writer.flush(), 16U);
  EXPECT_FALSE(writer.stats().writes_failing);
  for (int i = 26; i < 30; ++i) {
    const auto r = poll(i);
    EXPECT_EQ(writer.store({&r, 1}), StoreOutcome::kStored);
  }
  EXPECT_EQ(stored, 10);
  EXPECT_EQ(spooled, 15);
  EXPECT_EQ(spool.stats().readings, 0U);
  EXPECT_EQ(writer.stats().replayed, 16U);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverter_data"), std::to_string(30 * 3));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM port_data"), std::to_string(30 * 3 * 2));
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT \"timestamp\") FROM port_data"), "30");
}

}  // namespace
}  // namespace smiles::storage
