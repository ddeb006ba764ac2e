// The one ISO-8601 parser and formatter (core/time.h), table-driven.
#include "smiles/core/time.h"

#include <gtest/gtest.h>

namespace smiles {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

Timestamp day(int y, unsigned m, unsigned d) {
  return Timestamp{std::chrono::sys_days{std::chrono::year{y} / m / d}.time_since_epoch()};
}

TEST(Iso8601, AcceptedFormsAndTheirInstants) {
  const struct {
    const char* text;
    Timestamp expected;
  } cases[] = {
      {"2026-06-01", day(2026, 6, 1)},
      {"2026-06-01T12:30", day(2026, 6, 1) + hours{12} + minutes{30}},
      {"2026-06-01 12:30:15", day(2026, 6, 1) + hours{12} + minutes{30} + std::chrono::seconds{15}},
      {"2026-06-01T12:30:15Z",
       day(2026, 6, 1) + hours{12} + minutes{30} + std::chrono::seconds{15}},
      {"2026-06-01T12:30:15.25Z",
       day(2026, 6, 1) + hours{12} + minutes{30} + std::chrono::seconds{15} + microseconds{250000}},
      {"2026-06-01T12:30:15.1234567Z",  // digits beyond microseconds are cut
       day(2026, 6, 1) + hours{12} + minutes{30} + std::chrono::seconds{15} + microseconds{123456}},
      {"2026-06-01T12:30+02:00", day(2026, 6, 1) + hours{10} + minutes{30}},
      {"2026-06-01T00:15-01:30", day(2026, 6, 1) + hours{1} + minutes{45}},
      {"2024-02-29", day(2024, 2, 29)},
      {"1900-01-01", day(1900, 1, 1)},
      {"2261-12-31T23:59:59Z",
       day(2261, 12, 31) + hours{23} + minutes{59} + std::chrono::seconds{59}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_iso8601(c.text), c.expected) << c.text;
  }
}

TEST(Iso8601, RefusedForms) {
  for (const char* text : {"",
                           "2026",
                           "2026-6-01",
                           "2026-06-1",
                           "2026-+6-01",
                           "+026-06-01",
                           "2026-06- 1",
                           "2026-06-01T-1:00Z",
                           "2026-06-01T00:-5Z",
                           "2026-06-01T12:-1Z",
                           "2026-06-01T12:00:+1Z",
                           "2026-06-01T12:00+-1:00",
                           "2026-06-01T12:00+24:00",
                           "2026-06-01T12:00+02",
                           "2026-06-01T24:00",
                           "2026-06-01T12:60",
                           "2026-06-01T12:00:60",
                           "2026-06-01T12:00:00.",
                           "2026-06-01T12:00Z ",
                           " 2026-06-01",
                           "2026-02-29",
                           "2026-13-01",
                           "2026-00-10",
                           "2026-06-31",
                           "2263-01-01",
                           "2262-04-11",
                           "1899-12-31",
                           "1717238400",
                           "2026-06-01T",
                           "2026-06-01Tfoo"}) {
    EXPECT_FALSE(parse_iso8601(text)) << "'" << text << "'";
  }
}

TEST(Iso8601, FieldsSayWhatWasGiven) {
  const auto f = parse_iso8601_fields("2026-06-01 08:00:01.5");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->has_time);
  EXPECT_TRUE(f->has_seconds);
  EXPECT_EQ(f->fraction_digits, 1);
  EXPECT_FALSE(f->has_zone);
  const auto g = parse_iso8601_fields("2026-06-01T08:00Z");
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->has_seconds);
  EXPECT_TRUE(g->has_zone);
}

// What the API serves reads back to the same instant (to the millisecond it shows).
TEST(Iso8601, TheFormatterReadsBack) {
  for (const auto t : {day(2026, 6, 1) + hours{12} + microseconds{345000}, day(1970, 1, 1),
                       day(1969, 12, 31) + hours{23} + std::chrono::minutes{59} +
                           std::chrono::seconds{59} + microseconds{999500},
                       day(2261, 12, 31) + hours{23}, day(1969, 12, 31) + microseconds{999000},
                       day(1960, 1, 1) + microseconds{1500}}) {
    const auto text = format_iso8601_utc(t);
    EXPECT_EQ(parse_iso8601(text), std::chrono::floor<std::chrono::milliseconds>(t)) << text;
  }
}

}  // namespace
}  // namespace smiles
