// The served-energy model: what the bridge says a PV port has produced, in one place
// for every layer (live state, the production cache the writer keeps, rebuilds from
// history). Raw readings are stored as the DTU sent them; what is *served* follows
// these rules, so Home Assistant's `total_increasing` statistics never see a decrease
// that is not the daily reset:
//
// Lifetime total (per port): never decreases.
//   - A reading counts ("good") when its inverter is linked and its total is not 0;
//     the DTU's cloud-upload and night blocks (zeros, unlinked) are held over.
//   - A total below the served one is a glitch and held over, unless it is a counter
//     reset: kConfirmations good readings in a row below half the last good raw total,
//     each at least the one before. Then the served total continues from where it was
//     and grows with the new counter: nothing is added, nothing lost but the energy
//     between the last old reading and the first new one, which no reading shows.
//   - A rise faster than kMaxPortWhPerHour (plus kSlackWh) since the last good reading
//     is held until the next good reading confirms it (is at least as high); a lone
//     spike is dropped.
//
// Today (per port) = served total now - served total when the production day began
// (the last good total before its boundary). It restarts exactly at the boundary,
// whatever the DTU's own daily counter does (many reset at UTC midnight, or on a clock
// of their own). The DTU's daily counter is used only where no earlier total exists:
// the first reading ever of a port sets the day's baseline to total - DTU today.
//
// The production day: the date of the local wall-clock time (TIMEZONE) minus
// RESET_HOUR hours. On DST days the day still starts at RESET_HOUR on the wall clock.
// The SQL form is storage's production_day_sql(); both run the same test vectors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "smiles/core/reading.h"
#include "smiles/core/time.h"

namespace smiles {

// A wall-clock date and time in the bridge's time zone.
struct LocalDateTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "YYYY-MM-DD": the date of `local` minus `reset_hour` hours (0..23) on the wall clock.
inline std::string production_day(const LocalDateTime& local, int reset_hour) {
  using namespace std::chrono;
  // Calendar arithmetic on the wall-clock fields only, no time zone involved.
  const auto shifted = sys_days{year{local.year} / local.month / local.day} +
                       hours{local.hour - reset_hour} + minutes{local.minute} +
                       seconds{local.second};
  return format_iso8601_date(floor<days>(shifted));
}

// One port's values in one reading.
struct EnergySample {
  Timestamp at{};
  std::uint8_t link_status = 0;  // of its inverter; 0 = not linked
  std::uint64_t total_wh = 0;    // the DTU's lifetime counter
  std::uint32_t today_wh = 0;    // the DTU's daily counter
};

// A good reading: linked, and a total (the DTU's upload and night blocks have none).
inline bool is_good_energy_reading(std::uint8_t link_status, std::uint64_t total_wh) {
  return link_status != 0 && total_wh != 0;
}

inline constexpr std::uint32_t kConfirmations = 3;        // readings to accept a counter reset
inline constexpr std::uint64_t kMaxPortWhPerHour = 3000;  // no PV port produces more
inline constexpr std::uint64_t kSlackWh = 50;

// What fold_energy() did with a reading.
enum class EnergyStep {
  kTaken,         // the served total follows it
  kFirst,         // the first good reading ever: total and baseline set
  kNotGood,       // upload or night block: held over
  kLower,         // below the served total: a glitch, held over
  kImplausible,   // a rise no port can produce: held until confirmed
  kCounterReset,  // the DTU's counter restarted: served total continues
  kStale,         // older than a reading already folded: ignored
};

struct PortEnergy {
  std::uint64_t total = 0;      // served lifetime total, Wh; never decreases
  std::uint64_t baseline = 0;   // served total when `day` began
  std::string day;              // production day of `baseline`; "" = nothing known yet
  Timestamp last_updated{};     // the latest good reading taken
  Timestamp latest{};           // the latest reading folded, taken or not
  std::uint64_t raw_total = 0;  // the DTU's counter at last_updated
  std::int64_t offset = 0;      // served = raw + offset (moves at a counter reset)
  bool held = false;            // the latest reading was not taken
  // A rise or drop waiting for confirmation by the next readings.
  std::uint64_t suspect_first = 0;
  std::uint64_t suspect_last = 0;
  std::uint32_t suspect_count = 0;
  bool suspect_low = false;

  [[nodiscard]] bool known() const { return !day.empty(); }
  // Served "today" when the current production day is `current_day`: 0 until the
  // first reading of a new day arrives.
  [[nodiscard]] std::uint32_t today_wh(const std::string& current_day) const {
    if (!known() || current_day > day) return 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(total - baseline, 0xFFFFFFFFULL));
  }
};

// One port's state with its key (what the production cache and the state file hold).
struct PortEnergyRecord {
  std::string serial_number;
  int port_number = 0;
  PortEnergy energy;
};

// Served energy of one port, as the API, the metrics and the push messages show it.
struct ProductionEntry {
  std::string serial_number;
  int port_number = 0;
  std::uint32_t today_production_wh = 0;  // 0 until the current production day has a reading
  std::uint64_t total_production_wh = 0;
  Timestamp last_updated;  // the latest good reading
  bool held = false;       // the latest reading was not taken (upload, night, glitch)
};

// Whether folding a reading at `at` of production day `day` closes the day `e` is in
// (fold_energy then starts the new one): `e` as it is then holds the closed day's
// baseline (start) and total (end).
inline bool closes_day(const PortEnergy& e, Timestamp at, const std::string& day) {
  return e.known() && at > e.latest && day > e.day;
}

// Folds one reading of production day `day` into `e`. Readings of one port must come
// in time order; older ones are ignored.
inline EnergyStep fold_energy(PortEnergy& e, const EnergySample& s, const std::string& day) {
  if (e.known() && s.at <= e.latest) return EnergyStep::kStale;
  e.latest = std::max(e.latest, s.at);
  if (e.known() && day > e.day) {  // a new production day: its baseline is the total now
    e.baseline = e.total;
    e.day = day;
  }
  if (!is_good_energy_reading(s.link_status, s.total_wh)) {
    e.held = e.known();
    return EnergyStep::kNotGood;
  }
  const std::uint64_t raw = s.total_wh;
  if (!e.known()) {
    e.total = raw;
    e.raw_total = raw;
    e.offset = 0;
    e.baseline = raw - std::min<std::uint64_t>(raw, s.today_wh);
    e.day = day;
    e.last_updated = s.at;
    e.held = false;
    return EnergyStep::kFirst;
  }
  auto take = [&](std::uint64_t served, EnergyStep step) {
    e.total = std::max(e.total, served);
    e.raw_total = raw;
    e.last_updated = s.at;
    e.held = false;
    e.suspect_count = 0;
    return step;
  };
  const std::int64_t candidate = static_cast<std::int64_t>(raw) + e.offset;
  if (candidate >= static_cast<std::int64_t>(e.total)) {
    const auto rise = static_cast<std::uint64_t>(candidate) - e.total;
    const double hours =
        std::chrono::duration<double, std::ratio<3600>>(s.at - e.last_updated).count();
    const auto plausible =
        static_cast<std::uint64_t>(std::max(0.0, hours) * static_cast<double>(kMaxPortWhPerHour)) +
        kSlackWh;
    const bool confirms = e.suspect_count > 0 && !e.suspect_low && raw >= e.suspect_last;
    if (rise <= plausible || confirms)
      return take(static_cast<std::uint64_t>(candidate), EnergyStep::kTaken);
    e.suspect_low = false;
    e.suspect_first = e.suspect_last = raw;
    e.suspect_count = 1;
    e.held = true;
    return EnergyStep::kImplausible;
  }
  // Below the served total: a glitch, or the first readings of a restarted counter.
  if (raw < e.raw_total / 2) {
    if (e.suspect_count > 0 && e.suspect_low && raw >= e.suspect_last) {
      ++e.suspect_count;
      e.suspect_last = raw;
    } else {
      e.suspect_low = true;
      e.suspect_first = e.suspect_last = raw;
      e.suspect_count = 1;
    }
    if (e.suspect_count >= kConfirmations) {
      // Served continues from the total, growing with the new counter from its first
      // reading on.
      e.offset = static_cast<std::int64_t>(e.total) - static_cast<std::int64_t>(e.suspect_first);
      return take(static_cast<std::uint64_t>(static_cast<std::int64_t>(raw) + e.offset),
                  EnergyStep::kCounterReset);
    }
  } else {
    e.suspect_count = 0;
  }
  e.held = true;
  return EnergyStep::kLower;
}

}  // namespace smiles
