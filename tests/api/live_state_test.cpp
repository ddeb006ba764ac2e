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
  const auto inv = live.inverter("116100000001", utc("2026-06-01T10:02:00"));
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->first_seen, utc("2026-06-01T10:00:00"));
  EXPECT_EQ(inv->timestamp, utc("2026-06-01T10:01:00"));
  EXPECT_EQ(inv->latest.ports[0].pv_power_w, 201);
  live.record_failure("roof", "no answer", utc("2026-06-01T10:02:00"));
  const auto h = live.health()[0];
  EXPECT_EQ(h.status, "error");
  EXPECT_EQ(h.query_count, 3U);
  EXPECT_EQ(h.error_count, 1U);
  EXPECT_EQ(h.last_success, utc("2026-06-01T10:01:00"));
  EXPECT_EQ(live.last_success(), utc("2026-06-01T10:01:00"));
}

// Every view serves the same energy: the inverter's ports, /ports, production, summary.
TEST(LiveState, EveryViewServesTheModelsEnergy) {
  LiveState live(utc_day);
  const auto t = utc("2026-06-01T10:00:00");
  EXPECT_FALSE(live.energy_known());
  live.record_success(with_energy(make_reading(t, 1, 1), 1000, 5'000'000));
  EXPECT_TRUE(live.energy_known());
  live.record_success(
      with_energy(make_reading(t + std::chrono::minutes{1}, 1, 1), 0, 0));  // upload zeros
  live.record_success(
      with_energy(make_reading(t + std::chrono::minutes{2}, 1, 1), 9, 9'999'999, 0));  // unlinked
  live.record_success(with_energy(make_reading(t + std::chrono::minutes{3}, 1, 1), 900, 4'999'000));
  const auto now = t + std::chrono::minutes{4};
  auto p = live.production(now);
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].today_production_wh, 1000U);
  EXPECT_EQ(p[0].total_production_wh, 5'000'000U);
  EXPECT_TRUE(p[0].held);
  const auto s = live.summary(now);
  EXPECT_EQ(s.total_wh, 5'000'000U);
  EXPECT_EQ(s.today_wh, 1000U);
  EXPECT_EQ(s.ports_held, 1);
  const auto view = live.inverter("116100000001", now);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->latest.ports[0].total_production_wh, 5'000'000U);  // not the raw 4,999,000
  EXPECT_EQ(view->latest.ports[0].today_production_wh, 1000U);
  EXPECT_TRUE(view->energy_held[0]);
  EXPECT_EQ(live.inverters(now)[0].latest.ports[0].total_production_wh, 5'000'000U);
}

TEST(LiveState, TodayRestartsWithTheDayFromTheLifetimeCounter) {
  LiveState live(utc_day);
  live.record_success(with_energy(make_reading(utc("2026-06-01T23:50:00"), 1, 1), 7000, 2'007'000));
  EXPECT_EQ(live.production(utc("2026-06-01T23:59:00"))[0].today_production_wh, 7000U);
  EXPECT_EQ(live.production(utc("2026-06-02T00:05:00"))[0].today_production_wh, 0U);  // day passed
  // The DTU has not reset its own counter yet (7012): today is 12 all the same.
  live.record_success(with_energy(make_reading(utc("2026-06-02T00:10:00"), 1, 1), 7012, 2'007'012));
  EXPECT_EQ(live.production(utc("2026-06-02T00:11:00"))[0].today_production_wh, 12U);
  live.record_success(with_energy(make_reading(utc("2026-06-01T23:55:00"), 1, 1), 7100, 2'007'100));
  const auto late = live.production(utc("2026-06-02T00:12:00"))[0];  // an older reading: ignored
  EXPECT_EQ(late.today_production_wh, 12U);
  EXPECT_EQ(late.total_production_wh, 2'007'012U);
}

TEST(LiveState, SeedsKeepTheNewerValuesAndSnapshotsRoundTrip) {
  LiveState live(utc_day);
  PortEnergy seeded;
  seeded.total = 9'000'000;
  seeded.baseline = 8'999'950;
  seeded.day = "2026-06-01";
  seeded.raw_total = 9'000'000;
  seeded.last_updated = seeded.latest = utc("2026-06-01T09:00:00");
  live.seed({{{"116100000001", 1, seeded}}, {}});
  EXPECT_TRUE(live.energy_known());
  live.record_success(with_energy(make_reading(utc("2026-06-01T10:00:00"), 1, 1), 60, 8'000'000));
  auto p = live.production(utc("2026-06-01T10:01:00"));
  EXPECT_EQ(p[0].total_production_wh, 9'000'000U);  // a lower reading is held
  EXPECT_EQ(p[0].today_production_wh, 50U);
  const auto snap = live.snapshot();
  ASSERT_EQ(snap.ports.size(), 1U);
  ASSERT_EQ(snap.inverters.size(), 1U);
  LiveState restarted(utc_day);
  seeded.total = 1;  // an older, lower state (the database lagging behind) loses
  seeded.latest = utc("2026-06-01T08:00:00");
  restarted.seed({{{"116100000001", 1, seeded}}, {}});
  restarted.seed(snap);
  p = restarted.production(utc("2026-06-01T10:01:00"));
  EXPECT_EQ(p[0].total_production_wh, 9'000'000U);
  EXPECT_EQ(p[0].today_production_wh, 50U);
  const auto view = restarted.inverter("116100000001", utc("2026-06-01T10:01:00"));
  ASSERT_TRUE(view);  // a known inverter, before any poll
  EXPECT_EQ(view->latest.ports[0].total_production_wh, 9'000'000U);
}

}  // namespace
}  // namespace smiles::api
