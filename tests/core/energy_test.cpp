// The served-energy model (core/energy.h) on its own: fold_energy() through the shared
// vectors, and the rules one by one.
#include "smiles/core/energy.h"

#include <gtest/gtest.h>

#include <map>

#include "energy_vectors.h"
#include "ha_statistics.h"
#include "readings.h"

namespace smiles {
namespace {

using test::utc;

// Berlin's production day for the vectors' instants in June (CEST, UTC+2).
std::string berlin_summer_day(Timestamp t) {
  return production_day(
      [&] {
        const auto secs =
            std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count() + 2 * 3600;
        const std::time_t tt = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        return LocalDateTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                             tm.tm_hour,        tm.tm_min,     tm.tm_sec};
      }(),
      test::kEnergyResetHour);
}

TEST(Energy, TheSharedVectors) {
  PortEnergy e;
  for (const auto& v : test::energy_vectors()) {
    const Timestamp at = utc(v.utc);
    fold_energy(e,
                {at, static_cast<std::uint8_t>(v.link), static_cast<std::uint64_t>(v.total_wh),
                 static_cast<std::uint32_t>(v.today_wh)},
                berlin_summer_day(at));
    EXPECT_EQ(e.total, static_cast<std::uint64_t>(v.served_total)) << v.utc;
    EXPECT_EQ(e.today_wh(berlin_summer_day(at)), static_cast<std::uint32_t>(v.served_today))
        << v.utc;
    EXPECT_EQ(e.held, v.held) << v.utc;
  }
}

// The energy history's rule in memory (the writer keeps it in SQL:
// energy_history_pgtest runs the same vectors): a day closes when a reading of a
// later day comes, with what "today" served at its last reading; nothing is added or
// lost between the days.
TEST(Energy, AClosedDayHoldsWhatTodayServedAtItsLastReading) {
  PortEnergy e;
  std::map<std::string, std::uint64_t> closed, expected;
  for (const auto& v : test::energy_vectors()) {
    const Timestamp at = utc(v.utc);
    const auto day = berlin_summer_day(at);
    if (closes_day(e, at, day)) closed[e.day] = e.total - e.baseline;
    fold_energy(e,
                {at, static_cast<std::uint8_t>(v.link), static_cast<std::uint64_t>(v.total_wh),
                 static_cast<std::uint32_t>(v.today_wh)},
                day);
    expected[day] = static_cast<std::uint64_t>(v.served_today);
  }
  ASSERT_EQ(expected.size(), 2U);
  EXPECT_EQ(closed, (std::map<std::string, std::uint64_t>{*expected.begin()}));
  EXPECT_EQ(e.today_wh(e.day), expected.rbegin()->second);  // the open day
  const auto& first = test::energy_vectors().front();
  EXPECT_EQ(closed.begin()->second + e.today_wh(e.day),
            static_cast<std::uint64_t>(test::energy_vectors().back().served_total -
                                       (first.total_wh - first.today_wh)));
  // An older reading, or one of the same day, closes nothing.
  EXPECT_FALSE(closes_day(e, e.latest, "2099-01-01"));
  EXPECT_FALSE(closes_day(e, e.latest + std::chrono::seconds{1}, e.day));
}

TEST(Energy, ProductionDayIsTheWallClockMinusTheResetHour) {
  EXPECT_EQ(production_day({2026, 3, 29, 3, 0, 0}, 3), "2026-03-29");
  EXPECT_EQ(production_day({2026, 3, 29, 2, 59, 59}, 3), "2026-03-28");
  EXPECT_EQ(production_day({2026, 1, 1, 0, 30, 0}, 1), "2025-12-31");
  EXPECT_EQ(production_day({2024, 3, 1, 0, 0, 0}, 1), "2024-02-29");
  EXPECT_EQ(production_day({2026, 6, 1, 23, 59, 59}, 0), "2026-06-01");
}

TEST(Energy, TodayIsZeroOnANewDayUntilItsFirstReading) {
  PortEnergy e;
  fold_energy(e, {utc("2026-06-01T12:00:00"), 1, 5000, 700}, "2026-06-01");
  EXPECT_EQ(e.today_wh("2026-06-01"), 700U);
  EXPECT_EQ(e.today_wh("2026-06-02"), 0U);
  EXPECT_EQ(e.total, 5000U);
}

TEST(Energy, OldReadingsAreIgnored) {
  PortEnergy e;
  fold_energy(e, {utc("2026-06-01T12:00:00"), 1, 5000, 700}, "2026-06-01");
  EXPECT_EQ(fold_energy(e, {utc("2026-06-01T11:00:00"), 1, 9000, 900}, "2026-06-01"),
            EnergyStep::kStale);
  EXPECT_EQ(e.total, 5000U);
}

TEST(Energy, ALowReadingThatStaysAboveHalfIsNeverAReset) {
  PortEnergy e;
  fold_energy(e, {utc("2026-06-01T12:00:00"), 1, 5000, 700}, "2026-06-01");
  for (int i = 1; i <= 10; ++i) {  // a DTU repeating an older total for a while
    EXPECT_EQ(fold_energy(e, {utc("2026-06-01T12:00:00") + std::chrono::minutes{i}, 1, 4990, 690},
                          "2026-06-01"),
              EnergyStep::kLower);
  }
  EXPECT_EQ(e.total, 5000U);
  EXPECT_EQ(e.offset, 0);
  EXPECT_EQ(fold_energy(e, {utc("2026-06-01T12:30:00"), 1, 5010, 710}, "2026-06-01"),
            EnergyStep::kTaken);
  EXPECT_EQ(e.total, 5010U);  // nothing counted twice
}

TEST(Energy, AResetNeedsRisingReadings) {
  PortEnergy e;
  const auto t = utc("2026-06-01T12:00:00");
  fold_energy(e, {t, 1, 5000, 700}, "2026-06-01");
  // Low values that do not rise are noise, not a new counter.
  for (const auto& [minutes, raw] : {std::pair{1, 30}, {2, 20}, {3, 10}, {4, 5}}) {
    EXPECT_EQ(
        fold_energy(e, {t + std::chrono::minutes{minutes}, 1, std::uint64_t(raw), 0}, "2026-06-01"),
        EnergyStep::kLower);
  }
  EXPECT_EQ(e.total, 5000U);
}

}  // namespace
}  // namespace smiles

namespace smiles::test {
namespace {

// The recorder model the energy tests judge with behaves as Home Assistant's
// recorder.py does on the same states.
TEST(HomeAssistantStatistics, TotalIncreasingAsTheRecorderCompilesIt) {
  TotalIncreasing m;
  m.observe(100);  // the zero point
  m.observe(150);
  EXPECT_DOUBLE_EQ(m.sum(), 50);
  m.observe(140);  // a dip under 10 %: followed down, not a new cycle
  EXPECT_DOUBLE_EQ(m.sum(), 40);
  EXPECT_EQ(m.resets(), 0);
  EXPECT_EQ(m.dips(), 1);
  m.observe(200);
  EXPECT_DOUBLE_EQ(m.sum(), 100);
  m.observe(10);  // below 0.9 x 200: a new cycle, the 10 counts again
  EXPECT_EQ(m.resets(), 1);
  EXPECT_DOUBLE_EQ(m.sum(), 110);
  m.observe(-5);  // negative states are skipped
  m.observe(20);
  EXPECT_DOUBLE_EQ(m.sum(), 120);
}

}  // namespace
}  // namespace smiles::test
