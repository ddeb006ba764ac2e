#include "smiles/storage/reading_writer.h"

#include <gtest/gtest.h>

#include "energy_vectors.h"
#include "readings.h"
#include "smiles/core/error.h"
#include "smiles/storage/migrator.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

using test::make_reading;
using test::utc;
using test::with_energy;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override { Migrator(pool).upgrade(); }
  std::string q(const std::string& sql) { return db.scalar(sql); }
  std::string cache(const char* column) {
    return q(std::string("SELECT ") + column +
             " FROM production_cache WHERE serial_number = '116100000001' AND port_number = 1");
  }

  test::TestDatabase db;
  ConnectionPool pool{db.config()};
};

TEST_F(WriterTest, StoresOneInverterRowPerPollAndOnePortRowPerPort) {
  ReadingWriter writer(pool, {});
  const auto r = make_reading(utc("2026-06-01T10:00:00"), 3, 4);
  writer.write({&r, 1});
  EXPECT_EQ(q("SELECT count(*) FROM inverter_data"), "3");
  EXPECT_EQ(q("SELECT count(*) FROM port_data"), "12");
  EXPECT_EQ(q("SELECT count(*) FROM inverters"), "3");
  EXPECT_EQ(q("SELECT port_count FROM inverters WHERE serial_number = '116100000002'"), "4");
  EXPECT_EQ(q("SELECT dtu_name || ' ' || inverter_type FROM inverters LIMIT 1"), "roof HM");
  EXPECT_EQ(q("SELECT serial_number || ' ' || transport || ' ' || address FROM dtus"),
            "10F700000001 tcp tcp://10.0.0.5:502?unit=1");
  EXPECT_EQ(q("SELECT temperature FROM inverter_data WHERE serial_number = '116100000001'"),
            "-2.5");
  EXPECT_EQ(q("SELECT to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
              "FROM port_data LIMIT 1"),
            "2026-06-01 10:00:00");
  EXPECT_EQ(q("SELECT pv_current FROM port_data LIMIT 1"), "7.31");
  EXPECT_EQ(q("SELECT count(*) FROM port_data"), "12");
}

TEST_F(WriterTest, ReplayWritesNoDuplicates) {
  ReadingWriter writer(pool, {});
  std::vector<DtuReading> batch;
  for (int m = 0; m < 5; ++m) {
    batch.push_back(
        make_reading(utc("2026-06-01T10:00:00") + std::chrono::minutes{m}, 2, 2, m + 1));
  }
  writer.write(batch);
  writer.write(batch);
  writer.write({batch.data() + 2, 2});
  EXPECT_EQ(q("SELECT count(*) FROM inverter_data"), "10");
  EXPECT_EQ(q("SELECT count(*) FROM port_data"), "20");
  EXPECT_EQ(q("SELECT to_char(first_seen AT TIME ZONE 'UTC', 'HH24:MI') || '-' || "
              "to_char(last_seen AT TIME ZONE 'UTC', 'HH24:MI') FROM inverters LIMIT 1"),
            "10:00-10:04");
}

// The production cache follows the served-energy model exactly as the live state
// does: the shared vectors (tests/support/energy_vectors.h), one reading per batch, the
// production day from PostgreSQL's zone data.
TEST_F(WriterTest, TheCacheFollowsTheSharedEnergyVectors) {
  ReadingWriter writer(pool, {test::kEnergyResetHour, test::kEnergyZone});
  for (const auto& v : test::energy_vectors()) {
    const auto r =
        with_energy(make_reading(utc(v.utc), 1, 1), static_cast<std::uint32_t>(v.today_wh),
                    static_cast<std::uint64_t>(v.total_wh), static_cast<std::uint8_t>(v.link));
    writer.write({&r, 1});
    EXPECT_EQ(cache("total_production"), std::to_string(v.served_total)) << v.utc;
    EXPECT_EQ(cache("today_production"), std::to_string(v.served_today)) << v.utc;
    EXPECT_EQ(cache("held"), v.held ? "t" : "f") << v.utc;
  }
  // Raw readings are stored as read.
  EXPECT_EQ(q("SELECT count(*) FROM port_data WHERE total_production = 0"), "4");
  EXPECT_EQ(q("SELECT max(total_production) FROM port_data"), "999999");
  // A late replay of an older reading changes nothing.
  const auto before = q("SELECT row(production_cache.*)::text FROM production_cache");
  const auto old = with_energy(make_reading(utc("2026-06-01T12:00:00"), 1, 1), 9000, 100900);
  writer.write({&old, 1});
  EXPECT_EQ(q("SELECT row(production_cache.*)::text FROM production_cache"), before);
}

TEST_F(WriterTest, OneBatchSpanningMidnightKeepsTheLatestDay) {
  ReadingWriter writer(pool, {0, "UTC"});
  std::vector<DtuReading> batch = {
      with_energy(make_reading(utc("2026-06-01T23:50:00")), 7000, 2'007'000),
      with_energy(make_reading(utc("2026-06-02T00:10:00")), 15, 2'007'015),
  };
  writer.write(batch);
  EXPECT_EQ(cache("today_production"), "15");
  EXPECT_EQ(cache("production_day"), "2026-06-02");
}

}  // namespace
}  // namespace smiles::storage
