#include "local_time.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

#include "smiles/core/error.h"

namespace smiles::storage {

namespace {

// Seconds since 1970-01-01 00:00 of a naive local time read as if it were UTC (the
// fraction dropped).
std::int64_t naive_seconds(const Iso8601Fields& f) {
  return std::chrono::floor<std::chrono::seconds>(to_timestamp(f).time_since_epoch()).count();
}

int days_in_month(int year, int month) {
  const std::chrono::year_month_day_last last{
      std::chrono::year{year},
      std::chrono::month_day_last{std::chrono::month{static_cast<unsigned>(month)}}};
  return static_cast<int>(static_cast<unsigned>(last.day()));
}

}  // namespace

LocalTimeConverter::Month& LocalTimeConverter::month(int year, int month_number) {
  const int key = year * 12 + (month_number - 1);
  if (key == last_key_) return *last_;
  auto it = months_.find(key);
  if (it == months_.end()) {
    const int hours = days_in_month(year, month_number) * 24;
    Month m;
    Iso8601Fields first;
    first.year = year;
    first.month = month_number;
    first.day = 1;
    m.hourly = source_(naive_seconds(first), hours + 1, 3600);
    if (m.hourly.size() != static_cast<std::size_t>(hours) + 1)
      throw Error("time zone offsets: expected " + std::to_string(hours + 1) + " values");
    it = months_.emplace(key, std::move(m)).first;
  }
  last_key_ = key;
  last_ = &it->second;
  return *last_;
}

std::int32_t LocalTimeConverter::offset(const Iso8601Fields& f) {
  auto& m = month(f.year, f.month);
  const int hour = (f.day - 1) * 24 + f.hour;
  const auto at = m.hourly[static_cast<std::size_t>(hour)];
  if (at == m.hourly[static_cast<std::size_t>(hour) + 1]) return at;
  // The offset changes within this hour: every second of it, once.
  auto it = m.seconds.find(hour);
  if (it == m.seconds.end()) {
    auto hour_start = f;
    hour_start.minute = hour_start.second = 0;
    hour_start.micros = 0;
    auto secs = source_(naive_seconds(hour_start), 3600, 1);
    if (secs.size() != 3600) throw Error("time zone offsets: expected 3600 values");
    it = m.seconds.emplace(hour, std::move(secs)).first;
  }
  return it->second[static_cast<std::size_t>(f.minute) * 60 + static_cast<std::size_t>(f.second)];
}

std::int64_t LocalTimeConverter::pg_micros(const Iso8601Fields& f, std::string_view text) {
  std::int64_t fraction = f.micros;
  if (f.fraction_digits > 6) {
    // As PostgreSQL: the fraction read as a double, times a million, rounded (which
    // may carry into the next second; the offset stays the whole second's).
    const auto dot = text.find('.');
    const std::string digits(text.substr(dot));
    fraction = static_cast<std::int64_t>(std::rint(std::strtod(digits.c_str(), nullptr) * 1e6));
  }
  return (naive_seconds(f) - offset(f) - kPgEpochUnixSeconds) * 1000000 + fraction;
}

}  // namespace smiles::storage
