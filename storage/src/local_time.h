// Naive local times to instants as PostgreSQL reads them in a session time zone,
// without sending it each one: the zone's offset (local minus UTC) is asked once per
// hour of every month met, and per second in the hours where it changes. So a bulk
// load can send timestamptz in binary and still give every row the instant the text
// path ('2024-03-31 02:30:00' read by the server) would give it, gaps and repeated
// hours of daylight saving included.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "smiles/core/time.h"

namespace smiles::storage {

// PostgreSQL's epoch (2000-01-01 00:00 UTC) in Unix seconds.
inline constexpr std::int64_t kPgEpochUnixSeconds = 946684800;

class LocalTimeConverter {
 public:
  // Offsets in seconds (local minus UTC) of `count` naive local times, the first at
  // `first` (naive seconds since 1970-01-01 00:00), then every `step` seconds.
  using OffsetSource =
      std::function<std::vector<std::int32_t>(std::int64_t first, int count, int step)>;

  explicit LocalTimeConverter(OffsetSource source) : source_(std::move(source)) {}

  // The instant of a naive local time in microseconds since 2000-01-01 00:00 UTC
  // (timestamptz's binary form). `f` comes from parse_iso8601_fields(text) without a
  // zone; a fraction of more than 6 digits is rounded as PostgreSQL rounds it.
  std::int64_t pg_micros(const Iso8601Fields& f, std::string_view text);

 private:
  // Offset (local minus UTC, seconds) PostgreSQL applies to this naive local time.
  std::int32_t offset(const Iso8601Fields& f);

  struct Month {
    std::vector<std::int32_t> hourly;  // at each hour from the 1st 00:00, one past the end
    std::unordered_map<int, std::vector<std::int32_t>> seconds;  // hours with a change
  };
  Month& month(int year, int month_number);

  OffsetSource source_;
  std::unordered_map<int, Month> months_;
  int last_key_ = -1;
  Month* last_ = nullptr;
};

}  // namespace smiles::storage
