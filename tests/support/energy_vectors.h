// Test vectors of the served-energy model (core/energy.h), run against every form of
// it: fold_energy() in memory (LiveState), the writer's production cache in
// PostgreSQL, and the production-day rule in C++ and in SQL.
#pragma once

#include <string>
#include <vector>

namespace smiles::test {

// The production day of an instant in a time zone with a reset hour: the date of the
// local wall-clock time minus the reset hour. Both DST days of Europe/Berlin in 2026
// (2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00) with RESET_HOUR 0 and 3, where
// "the local date of (t - 3 h)" is an hour late in March and an hour early in October.
struct DayVector {
  const char* utc;
  const char* zone;
  int reset_hour;
  const char* day;
};

inline const std::vector<DayVector>& day_vectors() {
  static const std::vector<DayVector> v = {
      {"2026-03-28T22:59:59Z", "Europe/Berlin", 0, "2026-03-28"},
      {"2026-03-28T23:00:00Z", "Europe/Berlin", 0, "2026-03-29"},
      {"2026-03-28T23:00:00Z", "Europe/Berlin", 3, "2026-03-28"},
      {"2026-03-29T00:59:59Z", "Europe/Berlin", 3, "2026-03-28"},  // 01:59:59 CET
      {"2026-03-29T01:00:00Z", "Europe/Berlin", 3, "2026-03-29"},  // 03:00 CEST
      {"2026-03-29T01:00:00Z", "Europe/Berlin", 0, "2026-03-29"},
      {"2026-10-24T21:59:59Z", "Europe/Berlin", 0, "2026-10-24"},  // 23:59:59 CEST
      {"2026-10-24T22:00:00Z", "Europe/Berlin", 0, "2026-10-25"},
      {"2026-10-25T00:59:59Z", "Europe/Berlin", 3, "2026-10-24"},  // 02:59:59 CEST
      {"2026-10-25T01:00:00Z", "Europe/Berlin", 3, "2026-10-24"},  // 02:00 CET, again
      {"2026-10-25T01:59:59Z", "Europe/Berlin", 3, "2026-10-24"},  // 02:59:59 CET
      {"2026-10-25T02:00:00Z", "Europe/Berlin", 3, "2026-10-25"},  // 03:00 CET
      {"2026-10-25T22:59:59Z", "Europe/Berlin", 0, "2026-10-25"},
      {"2026-10-25T23:00:00Z", "Europe/Berlin", 0, "2026-10-26"},
      {"2026-06-01T23:59:59Z", "UTC", 0, "2026-06-01"},
      {"2026-06-02T00:00:00Z", "UTC", 0, "2026-06-02"},
      {"2026-06-02T04:59:59Z", "UTC", 5, "2026-06-01"},
      {"2026-06-01T18:29:59Z", "Asia/Kolkata", 0, "2026-06-01"},  // UTC+5:30
      {"2026-06-01T18:30:00Z", "Asia/Kolkata", 0, "2026-06-02"},
      {"2026-03-08T06:59:59Z", "America/New_York", 3, "2026-03-07"},  // 01:59:59 EST
      {"2026-03-08T07:00:00Z", "America/New_York", 3, "2026-03-08"},  // 03:00 EDT
      {"2027-01-01T04:59:59Z", "America/New_York", 0, "2026-12-31"},
  };
  return v;
}

// One port's readings in order and what must be served after each: a night, zero
// blocks, the DTU's own daily counter resetting at UTC midnight while the production
// day is Europe/Berlin's, a glitch, a spike, a counter reset.
struct EnergyStepVector {
  const char* utc;     // the reading's time
  int link;            // its inverter's link status
  long long total_wh;  // the DTU's lifetime counter
  long long today_wh;  // the DTU's daily counter
  long long served_total;
  long long served_today;  // at the reading's own time
  bool held;
};

inline const char* kEnergyZone = "Europe/Berlin";
inline constexpr int kEnergyResetHour = 0;

inline const std::vector<EnergyStepVector>& energy_vectors() {
  static const std::vector<EnergyStepVector> v = {
      // The first reading ever: today's baseline from the DTU's daily counter.
      {"2026-06-01T10:00:00Z", 1, 100000, 3000, 100000, 3000, false},
      {"2026-06-01T10:05:00Z", 1, 100050, 3050, 100050, 3050, false},
      {"2026-06-01T10:10:00Z", 0, 0, 0, 100050, 3050, true},  // cloud upload
      {"2026-06-01T10:15:00Z", 1, 0, 0, 100050, 3050, true},  // zeros, linked
      {"2026-06-01T10:20:00Z", 1, 100120, 3120, 100120, 3120, false},
      {"2026-06-01T10:25:00Z", 1, 100110, 3110, 100120, 3120, true},   // a glitch: lower
      {"2026-06-01T10:30:00Z", 1, 999999, 3200, 100120, 3120, true},   // a spike no port makes
      {"2026-06-01T10:35:00Z", 1, 100180, 3180, 100180, 3180, false},  // the spike is dropped
      {"2026-06-01T19:00:00Z", 1, 101000, 4000, 101000, 4000, false},
      {"2026-06-01T20:00:00Z", 0, 0, 0, 101000, 4000, true},  // night, unlinked
      // Midnight in Berlin (22:00Z): "today" restarts there; the DTU's counter (UTC)
      // still says 4000 until 00:00Z.
      {"2026-06-01T22:05:00Z", 0, 0, 0, 101000, 0, true},
      {"2026-06-02T03:00:00Z", 1, 101000, 0, 101000, 0, false},  // the DTU reset at 00:00Z
      {"2026-06-02T05:00:00Z", 1, 101300, 300, 101300, 300, false},
      // The counter restarts (three readings below half, rising): served continues.
      {"2026-06-02T05:05:00Z", 1, 10, 310, 101300, 300, true},
      {"2026-06-02T05:10:00Z", 1, 20, 320, 101300, 300, true},
      {"2026-06-02T05:15:00Z", 1, 30, 330, 101320, 320, false},
      {"2026-06-02T05:20:00Z", 1, 80, 380, 101370, 370, false},
      // A rise the next reading confirms (the bridge was away for a while: not here,
      // 5 minutes, 3 kWh: too fast) is taken when confirmed.
      {"2026-06-02T05:25:00Z", 1, 3080, 3380, 101370, 370, true},
      {"2026-06-02T05:30:00Z", 1, 3090, 3390, 104380, 3380, false},
  };
  return v;
}

}  // namespace smiles::test
