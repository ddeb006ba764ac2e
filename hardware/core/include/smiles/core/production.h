// The served-energy rules for one PV port, in one place for C++ (the production
// cache applies the same rules in SQL, see storage/src/reading_writer.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "smiles/core/reading.h"

namespace smiles {

struct PortEnergy {
  std::string day;          // production day of `today` ("YYYY-MM-DD"; "" = none yet)
  std::uint32_t today = 0;  // largest "today" seen in that day
  std::uint64_t total = 0;  // largest total ever seen
  Timestamp last_updated{};
};

// Readings of unlinked inverters, or with a zero total (the DTU's cloud-upload and
// night blocks), never replace a good value.
inline bool is_good_energy_reading(std::uint8_t link_status, std::uint64_t total_wh) {
  return link_status != 0 && total_wh != 0;
}

// Folds one good reading into `e`: the total never decreases; "today" restarts with
// the first reading of a later production day and otherwise only grows.
inline void merge_energy(PortEnergy& e, const std::string& day, std::uint32_t today_wh,
                         std::uint64_t total_wh, Timestamp when) {
  if (e.day.empty() || day > e.day) {
    e.day = day;
    e.today = today_wh;
  } else if (day == e.day) {
    e.today = std::max(e.today, today_wh);
  }
  e.total = std::max(e.total, total_wh);
  e.last_updated = std::max(e.last_updated, when);
}

}  // namespace smiles
