// The production-day rule in C++ (the bridge's zone data), against the shared vectors
// that storage's SQL form runs too (tests/storage/production_day_pgtest.cpp).
#include "time_zone.h"

#include <gtest/gtest.h>

#include "energy_vectors.h"
#include "readings.h"
#include "smiles/core/error.h"

namespace smiles::bridge {
namespace {

TEST(TimeZone, ProductionDayVectors) {
  for (const auto& v : test::day_vectors()) {
    use_time_zone(v.zone);
    int y, mo, d, h, mi, s;
    std::sscanf(v.utc, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s);
    const auto t =
        Timestamp{std::chrono::sys_days{std::chrono::year{y} / mo / d}.time_since_epoch()} +
        std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
    EXPECT_EQ(production_day_function(v.reset_hour)(t), v.day)
        << v.utc << " in " << v.zone << ", RESET_HOUR " << v.reset_hour;
  }
  use_time_zone("UTC");
}

TEST(TimeZone, UnknownZonesAreRefused) {
  EXPECT_THROW(use_time_zone("Mars/Olympus"), ConfigError);
  EXPECT_THROW(use_time_zone("../../etc/passwd"), ConfigError);
}

}  // namespace
}  // namespace smiles::bridge
