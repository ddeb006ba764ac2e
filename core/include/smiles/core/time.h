// ISO-8601 UTC formatting shared by every output (JSON, tables, logs).
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "smiles/core/reading.h"

namespace smiles {

// "2026-11-22T02:01:19.123Z" (millisecond precision, always with Z).
inline std::string format_iso8601_utc(Timestamp t) {
  const auto ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
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

}  // namespace smiles
