// LocalTimeConverter with offsets from a made-up zone: what it asks for, and the
// instants it gives. (Against PostgreSQL's own reading of real zones:
// SqliteImport.BulkLoadReadsLocalTimesAsTheServerDoes.)
#include "local_time.h"

#include <gtest/gtest.h>

#include <vector>

#include "smiles/core/error.h"

namespace smiles::storage {
namespace {

// A zone at +1 h that moves to +2 h at 2024-03-31 01:59:30 UTC (local 02:59:30 at +1),
// so the change falls inside an hour, not on it.
constexpr std::int64_t kChangeUtc = 1711850370;

struct FakeZone {
  std::vector<std::tuple<std::int64_t, int, int>> asked;
  std::int32_t at(std::int64_t naive) const {
    // Naive times from the change on (skipped ones included) take the new offset.
    return naive - 3600 < kChangeUtc ? 3600 : 7200;
  }
  LocalTimeConverter converter() {
    return LocalTimeConverter([this](std::int64_t first, int count, int step) {
      asked.emplace_back(first, count, step);
      std::vector<std::int32_t> out;
      out.reserve(static_cast<std::size_t>(count));
      for (int i = 0; i < count; ++i) out.push_back(at(first + std::int64_t{i} * step));
      return out;
    });
  }
};

std::int64_t unix_of(const std::string& naive_utc) {
  const auto f = parse_iso8601_fields(naive_utc);
  return std::chrono::duration_cast<std::chrono::seconds>(to_timestamp(*f).time_since_epoch())
      .count();
}

std::int64_t micros(LocalTimeConverter& c, const std::string& text) {
  const auto f = parse_iso8601_fields(text);
  EXPECT_TRUE(f.has_value()) << text;
  return c.pg_micros(*f, text);
}

TEST(LocalTime, OffsetsAreAskedPerMonthAndPerSecondOnlyWhereTheyChange) {
  FakeZone zone;
  auto c = zone.converter();
  const std::int64_t pg = kPgEpochUnixSeconds;
  EXPECT_EQ(micros(c, "2024-03-01 00:00:00"), (unix_of("2024-02-29 23:00:00") - pg) * 1000000);
  EXPECT_EQ(micros(c, "2024-03-31 12:00:00.25"),
            (unix_of("2024-03-31 10:00:00") - pg) * 1000000 + 250000);
  ASSERT_EQ(zone.asked.size(), 1U);  // March, hour by hour, 31 days and one hour more
  EXPECT_EQ(zone.asked[0], std::make_tuple(unix_of("2024-03-01 00:00:00"), 31 * 24 + 1, 3600));

  // The hour with the change, second by second.
  EXPECT_EQ(micros(c, "2024-03-31 02:59:29"), (unix_of("2024-03-31 01:59:29") - pg) * 1000000);
  EXPECT_EQ(micros(c, "2024-03-31 02:59:31"), (unix_of("2024-03-31 00:59:31") - pg) * 1000000);
  ASSERT_EQ(zone.asked.size(), 2U);
  EXPECT_EQ(zone.asked[1], std::make_tuple(unix_of("2024-03-31 02:00:00"), 3600, 1));
  micros(c, "2024-03-31 02:10:00");
  micros(c, "2024-03-02 02:10:00");
  EXPECT_EQ(zone.asked.size(), 2U);  // both kept

  // Another month is asked for once.
  micros(c, "2024-04-01 00:00:00");
  micros(c, "2024-04-30 23:59:59");
  ASSERT_EQ(zone.asked.size(), 3U);
  EXPECT_EQ(std::get<1>(zone.asked[2]), 30 * 24 + 1);
}

TEST(LocalTime, LongFractionsRoundAsPostgreSqlRoundsThem) {
  FakeZone zone;
  auto c = zone.converter();
  const auto base = micros(c, "2024-01-10 10:00:00");
  EXPECT_EQ(micros(c, "2024-01-10 10:00:00.1234564"), base + 123456);
  EXPECT_EQ(micros(c, "2024-01-10 10:00:00.1234566"), base + 123457);
  EXPECT_EQ(micros(c, "2024-01-10 10:00:00.000000499"), base);
  // Rounded up into the next second, with the offset of the second it was written in.
  EXPECT_EQ(micros(c, "2024-01-10 10:00:00.9999996"), base + 1000000);
  EXPECT_EQ(micros(c, "2024-03-31 02:59:29.9999999"),
            (unix_of("2024-03-31 01:59:30") - kPgEpochUnixSeconds) * 1000000);
}

TEST(LocalTime, AShortAnswerIsAnError) {
  LocalTimeConverter c([](std::int64_t, int count, int) {
    return std::vector<std::int32_t>(static_cast<std::size_t>(count - 1), 0);
  });
  const auto f = parse_iso8601_fields("2024-05-05 05:05:05");
  EXPECT_THROW(c.pg_micros(*f, "2024-05-05 05:05:05"), Error);
}

}  // namespace
}  // namespace smiles::storage
