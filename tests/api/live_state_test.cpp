#include "smiles/api/live_state.h"

#include <gtest/gtest.h>

#include "readings.h"

namespace smiles::api {
namespace {

using test::make_reading;
using test::utc;
using test::with_energy;

// UTC days, no reset hour.
std::string utc_day(Timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

TEST(LiveState, LatestValuesAndHealth) {
  LiveState live(utc_day);
  live.register_dtu("roof", "tcp://x");
  EXPECT_EQ(live.health()[0].status, "starting");
  live.record_success(make_reading(utc("2026-06-01T10:00:00"), 2, 2, 1));
  live.record_success(make_reading(utc("2026-06-01T10:01:00"), 2, 2, 2));
  const auto inv = live.inverter("116100000001");
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->first_seen, utc("2026-06-01T10:00:00"));
  EXPECT_EQ(inv->timestamp, utc("2026-06-01T10:01:00"));
  EXPECT_EQ(inv->latest.ports[0].pv_power_w, 201);
  live.record_failure("roof", "timeout", "no answer", utc("2026-06-01T10:02:00"));
  const auto h = live.health()[0];
  EXPECT_EQ(h.status, "error");
  EXPECT_EQ(h.query_count, 3U);
  EXPECT_EQ(h.error_count, 1U);
  EXPECT_EQ(h.last_success, utc("2026-06-01T10:01:00"));
  EXPECT_EQ(live.last_success(), utc("2026-06-01T10:01:00"));
}

TEST(LiveState, ServedEnergyNeverGoesDown) {
  LiveState live(utc_day);
  const auto t = utc("2026-06-01T10:00:00");
  live.record_success(with_energy(make_reading(t, 1, 1), 1000, 5'000'000));
  live.record_success(
      with_energy(make_reading(t + std::chrono::minutes{1}, 1, 1), 0, 0));  // upload zeros
  live.record_success(
      with_energy(make_reading(t + std::chrono::minutes{2}, 1, 1), 9, 9'999'999, 0));
  live.record_success(with_energy(make_reading(t + std::chrono::minutes{3}, 1, 1), 900, 4'999'000));
  auto p = live.production(t + std::chrono::minutes{4});
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].today_production_wh, 1000U);
  EXPECT_EQ(p[0].total_production_wh, 5'000'000U);
  const auto s = live.summary(t + std::chrono::minutes{4});
  EXPECT_EQ(s.total_wh, 5'000'000U);
  EXPECT_EQ(s.today_wh, 1000U);
}

TEST(LiveState, TodayRestartsWithTheDay) {
  LiveState live(utc_day);
  live.record_success(with_energy(make_reading(utc("2026-06-01T23:50:00"), 1, 1), 7000, 2'007'000));
  EXPECT_EQ(live.production(utc("2026-06-01T23:59:00"))[0].today_production_wh, 7000U);
  EXPECT_EQ(live.production(utc("2026-06-02T00:05:00"))[0].today_production_wh, 0U);  // day passed
  live.record_success(with_energy(make_reading(utc("2026-06-02T00:10:00"), 1, 1), 12, 2'007'012));
  EXPECT_EQ(live.production(utc("2026-06-02T00:11:00"))[0].today_production_wh, 12U);
  live.record_success(with_energy(make_reading(utc("2026-06-01T23:55:00"), 1, 1), 7100, 2'007'100));
  EXPECT_EQ(live.production(utc("2026-06-02T00:12:00"))[0].today_production_wh,
            12U);  // late old-day
  EXPECT_EQ(live.production(utc("2026-06-02T00:12:00"))[0].total_production_wh, 2'007'100U);
}

TEST(LiveState, SeedsDoNotOverrideLiveValues) {
  LiveState live(utc_day);
  live.seed_production({{"116100000001", 1, 50, 9'000'000, utc("2026-06-01T09:00:00")}});
  live.record_success(with_energy(make_reading(utc("2026-06-01T10:00:00"), 1, 1), 60, 8'000'000));
  const auto p = live.production(utc("2026-06-01T10:01:00"));
  EXPECT_EQ(p[0].total_production_wh, 9'000'000U);
  EXPECT_EQ(p[0].today_production_wh, 60U);
}

}  // namespace
}  // namespace smiles::api
