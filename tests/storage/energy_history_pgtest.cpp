// The energy history (migration 4): energy per production day kept by the writer with
// the served-energy rules, the five-minute power rollup, their rebuild from stored
// readings (migration 4 on an existing database, archive imports), and the queries
// behind /api/energy and /api/power.
#include <gtest/gtest.h>

#include <map>

#include "energy_vectors.h"
#include "readings.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/reading_writer.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

using std::chrono::minutes;
using test::make_reading;
using test::utc;
using test::with_energy;

class EnergyHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Migrator(pool, MigratorOptions{"", rules}).upgrade(); }
  std::string q(const std::string& sql) { return db.scalar(sql); }

  // day -> Wh of every period in [from, to].
  std::map<std::string, std::int64_t> energy(EnergyPeriod period, const std::string& from,
                                             const std::string& to,
                                             std::optional<std::string> serial = {}) {
    std::map<std::string, std::int64_t> out;
    for (const auto& b : model.energy({period, from, to, std::move(serial)}))
      out[b.period_start] = b.wh;
    return out;
  }
  // Everything the rollups hold, as text (to compare a rebuild with the writer's).
  std::string history() {
    return q("SELECT string_agg(production_day || ' ' || serial_number || ' ' || wh, ';' ORDER BY "
             "production_day, serial_number) FROM energy_days") +
           "|" +
           q("SELECT string_agg(month || ' ' || serial_number || ' ' || wh, ';' ORDER BY month, "
             "serial_number) FROM energy_months") +
           "|" +
           q("SELECT string_agg(bucket || ' ' || serial_number || ' ' || sum_w || ' ' || samples, "
             "';' ORDER BY bucket, serial_number) FROM power_5min");
  }

  ProductionRules rules{test::kEnergyResetHour, test::kEnergyZone};
  test::TestDatabase db;
  ConnectionPool pool{db.config()};
  PgReadModel model{pool, rules};
};

// Readings of the shared vectors (one port), as they arrive from a DTU.
std::vector<DtuReading> vector_readings() {
  std::vector<DtuReading> out;
  for (const auto& v : test::energy_vectors()) {
    out.push_back(
        with_energy(make_reading(utc(v.utc), 1, 1), static_cast<std::uint32_t>(v.today_wh),
                    static_cast<std::uint64_t>(v.total_wh), static_cast<std::uint8_t>(v.link)));
  }
  return out;
}

// A day's energy is what "today" served at its last reading: zero blocks, a glitch, a
// spike, the DTU's own counter resetting at UTC midnight and a counter reset add
// nothing and lose nothing.
TEST_F(EnergyHistoryTest, DaysFollowTheSharedEnergyVectors) {
  std::map<std::string, long long> expected;
  for (const auto& v : test::energy_vectors()) {
    const auto day = q(std::string("SELECT ((timestamptz '") + v.utc + "' AT TIME ZONE '" +
                       test::kEnergyZone + "'))::date");
    expected[day] = v.served_today;  // the last reading of the day wins
  }
  ASSERT_EQ(expected.size(), 2U);
  for (const bool one_batch : {false, true}) {
    SCOPED_TRACE(one_batch ? "one batch (a spool replay)" : "one reading per batch");
    db.exec(
        "TRUNCATE port_data, inverter_data, production_cache, energy_days, energy_months, "
        "power_5min");
    ReadingWriter writer(pool, rules);
    const auto readings = vector_readings();
    if (one_batch) {
      writer.write(readings);
    } else {
      for (const auto& r : readings) writer.write({&r, 1});
    }
    const auto days = energy(EnergyPeriod::kDay, "2026-05-31", "2026-06-03");
    ASSERT_EQ(days.size(), 4U);
    EXPECT_EQ(days.at("2026-05-31"), 0);
    EXPECT_EQ(days.at("2026-06-03"), 0);
    std::int64_t sum = 0;
    for (const auto& [day, wh] : expected) {
      EXPECT_EQ(days.at(day), wh) << day;
      sum += days.at(day);
    }
    // Nothing more and nothing less than the served total grew by since the first
    // reading's day began.
    const auto& first = test::energy_vectors().front();
    const auto& last = test::energy_vectors().back();
    EXPECT_EQ(sum, last.served_total - (first.total_wh - first.today_wh));
    const auto months = energy(EnergyPeriod::kMonth, "2026-06-15", "2026-06-15");
    EXPECT_EQ(months, (std::map<std::string, std::int64_t>{{"2026-06-01", sum}}));
  }
}

// A day without readings books nothing; the energy measured across the gap counts on
// the day it was measured. Months and years add days up; a serial selects one inverter.
TEST_F(EnergyHistoryTest, GapsCountOnTheDayMeasuredAndPeriodsAddUp) {
  rules = {0, "UTC"};
  ReadingWriter writer(pool, rules);
  std::vector<DtuReading> rs = {
      with_energy(make_reading(utc("2026-01-30T10:00:00"), 2, 2), 1000, 50000),
      with_energy(make_reading(utc("2026-01-30T15:00:00"), 2, 2), 3000, 52000),
      // Nothing on the 31st; on 1 Feb the counter is 5000 Wh higher than at the end of 30 Jan.
      with_energy(make_reading(utc("2026-02-01T09:00:00"), 2, 2), 900, 57000),
      with_energy(make_reading(utc("2026-02-01T16:00:00"), 2, 2), 2000, 58100),
  };
  for (const auto& r : rs) writer.write({&r, 1});
  PgReadModel utc_model(pool, rules);
  std::map<std::string, std::int64_t> days;
  for (const auto& b : utc_model.energy({EnergyPeriod::kDay, "2026-01-30", "2026-02-01", {}}))
    days[b.period_start] = b.wh;
  // 4 ports: 30 Jan from 49000 (the first reading's DTU today) to 52000 = 3000 each.
  EXPECT_EQ(days, (std::map<std::string, std::int64_t>{
                      {"2026-01-30", 4 * 3000}, {"2026-01-31", 0}, {"2026-02-01", 4 * 6100}}));
  std::map<std::string, std::int64_t> months;
  for (const auto& b : utc_model.energy({EnergyPeriod::kMonth, "2026-01-15", "2026-02-15", {}}))
    months[b.period_start] = b.wh;
  EXPECT_EQ(months,
            (std::map<std::string, std::int64_t>{{"2026-01-01", 12000}, {"2026-02-01", 24400}}));
  const auto years = utc_model.energy({EnergyPeriod::kYear, "2025-01-01", "2026-12-31", {}});
  ASSERT_EQ(years.size(), 2U);
  EXPECT_EQ(years[1].wh, 36400);
  const auto one = utc_model.energy(
      {EnergyPeriod::kYear, "2026-01-01", "2026-01-01", std::string("116100000002")});
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].wh, 18200);  // two of the four ports
}

// The power curve: the mean of each inverter's good readings per step; zero blocks
// (no total) are not readings of power. A replayed batch counts once.
TEST_F(EnergyHistoryTest, PowerIsTheMeanOfGoodReadingsAndReplaysCountOnce) {
  rules = {0, "UTC"};
  ReadingWriter writer(pool, rules);
  std::vector<DtuReading> batch;
  for (int m = 0; m < 10; ++m) {
    auto r = make_reading(utc("2026-06-01T10:00:00") + minutes{m}, 1, 2, m + 1);
    if (m == 3) r = with_energy(r, 0, 0);  // a zero block: powers are read but not counted
    batch.push_back(r);
  }
  writer.write({batch.data(), 5});
  writer.write(batch);                  // half stored before: only the new half counts
  writer.write(batch);                  // replayed whole
  writer.write({batch.data() + 4, 3});  // and in part
  EXPECT_EQ(q("SELECT sum(samples) FROM power_5min"), "9");  // each good reading once
  PgReadModel utc_model(pool, rules);
  auto curve = utc_model.power({"2026-06-01", 300, {}});
  EXPECT_EQ(curve.from, utc("2026-06-01T00:00:00"));
  EXPECT_EQ(curve.to, utc("2026-06-02T00:00:00"));
  ASSERT_EQ(curve.inverters.size(), 1U);
  const auto& points = curve.inverters[0].points;
  ASSERT_EQ(points.size(), 2U);
  // Seed s: ports 100 s + 1 and 100 s + 2, so the inverter has 200 s + 3 W.
  // 10:00-10:04: seeds 1, 2, 3, 5 (4 is the zero block); 10:05-10:09: seeds 6..10.
  EXPECT_EQ(points[0].at, utc("2026-06-01T10:00:00"));
  EXPECT_DOUBLE_EQ(points[0].watts, (203 + 403 + 603 + 1003) / 4.0);
  EXPECT_DOUBLE_EQ(points[1].watts, 200.0 * 8 + 3);
  curve = utc_model.power({"2026-06-01", 3600, {}});
  ASSERT_EQ(curve.inverters[0].points.size(), 1U);
  EXPECT_DOUBLE_EQ(curve.inverters[0].points[0].watts,
                   (203 + 403 + 603 + 1003 + 1203 + 1403 + 1603 + 1803 + 2003) / 9.0);
  EXPECT_TRUE(utc_model.power({"2026-06-02", 300, {}}).inverters.empty());
}

// The local day of the curve: midnight to midnight in TIMEZONE (23 hours on the
// spring DST day in Berlin).
TEST_F(EnergyHistoryTest, ThePowerDayIsTheLocalDay) {
  const auto curve = model.power({"2026-03-29", 300, {}});
  EXPECT_EQ(curve.from, utc("2026-03-28T23:00:00"));
  EXPECT_EQ(curve.to, utc("2026-03-29T22:00:00"));
}

// What the writer keeps equals what a rebuild from the readings makes (migration 4 on
// a database with history, archive imports), and migration 4 runs it.
TEST_F(EnergyHistoryTest, RebuildAndMigrationFourEqualWhatTheWriterKept) {
  ReadingWriter writer(pool, rules);
  for (const auto& r : vector_readings()) writer.write({&r, 1});
  for (int d = 0; d < 3; ++d) {  // more days, two inverters, with a night between
    for (int h = 6; h < 18; h += 2) {
      const auto t = utc("2026-06-03T00:00:00") + std::chrono::days{d} + std::chrono::hours{h};
      const auto r = with_energy(make_reading(t, 2, 2, h), 100, 200000 + d * 5000 + h * 300);
      writer.write({&r, 1});
    }
  }
  const auto kept = history();
  ASSERT_NE(q("SELECT count(*) FROM energy_days"), "0");
  ASSERT_NE(q("SELECT count(*) FROM power_5min"), "0");
  EXPECT_GT(rebuild_energy_history(pool, rules), 0);
  EXPECT_EQ(history(), kept);
  db.exec(
      "DROP TABLE energy_days, energy_months, power_5min; DELETE FROM schema_migrations "
      "WHERE version = 4");
  const auto applied = Migrator(pool, MigratorOptions{"", rules}).upgrade().applied_versions;
  EXPECT_EQ(applied, std::vector<int>{4});
  EXPECT_EQ(history(), kept);
}

}  // namespace
}  // namespace smiles::storage
