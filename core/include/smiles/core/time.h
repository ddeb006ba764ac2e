// The one ISO-8601 module: the formatter every output uses (JSON, tables, logs,
// manifests) and the one strict parser every input uses (query parameters, settings,
// command-line times, imported naive timestamps).
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "smiles/core/reading.h"

namespace smiles {

// "2026-11-22T02:01:19.123Z" (millisecond precision, always with Z).
inline std::string format_iso8601_utc(Timestamp t) {
  // floor, not truncation: before 1970 a fraction belongs to the earlier millisecond.
  const auto ms_total = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms_total / 1000);
  auto ms = static_cast<int>(ms_total % 1000);
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// "2026-06-01": a calendar date.
inline std::string format_iso8601_date(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// Years parse_iso8601 accepts: the timestamp type (64-bit nanoseconds) ends in 2262.
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 2261;

// The parts of YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|+HH:MM|-HH:MM].
struct Iso8601Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  long micros = 0;           // the fraction, to microseconds (more digits are cut)
  bool has_time = false;     // HH:MM given
  bool has_seconds = false;  // :SS given
  int fraction_digits = 0;   // digits after the '.'
  bool has_zone = false;     // Z or an offset given
  int offset_minutes = 0;    // east of UTC
};

// Strict: digits exactly where shown (no signs, no spaces inside a field), a valid
// calendar date, hours 0-23, minutes and seconds 0-59, offsets up to 23:59, years
// kMinYear-kMaxYear. Nothing may follow.
inline std::optional<Iso8601Fields> parse_iso8601_fields(std::string_view text) {
  std::size_t pos = 0;
  auto number = [&](std::size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
  };
  auto literal = [&](char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
  };
  Iso8601Fields f;
  if (!number(4, f.year) || !literal('-') || !number(2, f.month) || !literal('-') ||
      !number(2, f.day)) {
    return std::nullopt;
  }
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    f.has_time = true;
    if (!number(2, f.hour) || !literal(':') || !number(2, f.minute)) return std::nullopt;
    if (literal(':')) {
      f.has_seconds = true;
      if (!number(2, f.second)) return std::nullopt;
      if (literal('.')) {
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (f.fraction_digits < 6) f.micros = f.micros * 10 + (text[pos] - '0');
          ++f.fraction_digits;
          ++pos;
        }
        if (f.fraction_digits == 0) return std::nullopt;
        for (int k = f.fraction_digits; k < 6; ++k) f.micros *= 10;
      }
    }
    if (literal('Z')) {
      f.has_zone = true;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      const int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!number(2, oh) || !literal(':') || !number(2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      f.has_zone = true;
      f.offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (f.year < kMinYear || f.year > kMaxYear || f.hour > 23 || f.minute > 59 || f.second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{f.year},
                                        std::chrono::month{static_cast<unsigned>(f.month)},
                                        std::chrono::day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) return std::nullopt;
  return f;
}

// The instant of a parsed time; a time without a zone is taken as UTC.
inline Timestamp to_timestamp(const Iso8601Fields& f) {
  const std::chrono::year_month_day ymd{std::chrono::year{f.year},
                                        std::chrono::month{static_cast<unsigned>(f.month)},
                                        std::chrono::day{static_cast<unsigned>(f.day)}};
  return Timestamp{std::chrono::sys_days{ymd}.time_since_epoch()} + std::chrono::hours{f.hour} +
         std::chrono::minutes{f.minute - f.offset_minutes} + std::chrono::seconds{f.second} +
         std::chrono::microseconds{f.micros};
}

inline std::optional<Timestamp> parse_iso8601(std::string_view text) {
  const auto f = parse_iso8601_fields(text);
  if (!f) return std::nullopt;
  return to_timestamp(*f);
}

}  // namespace smiles
