// production_cache rows as PostgreSQL arrays for INSERT ... SELECT * FROM unnest(...):
// one array per column, filled from the served-energy states (core/energy.h).
#pragma once

#include <string>
#include <vector>

#include "pg_arrays.h"
#include "smiles/core/energy.h"
#include "smiles/core/time.h"

namespace smiles::storage {

struct CacheRows {
  std::vector<std::string> serial, port, today, total, day, updated, raw, offset, held, latest,
      suspect_first, suspect_last, suspect_count, suspect_low;

  void add(const std::string& serial_number, int port_number, const PortEnergy& e) {
    serial.push_back(serial_number);
    port.push_back(std::to_string(port_number));
    today.push_back(std::to_string(e.today_wh(e.day)));
    total.push_back(std::to_string(e.total));
    day.push_back(e.day);
    updated.push_back(format_iso8601_utc(e.last_updated));
    raw.push_back(std::to_string(e.raw_total));
    offset.push_back(std::to_string(e.offset));
    held.push_back(e.held ? "true" : "false");
    latest.push_back(format_iso8601_utc(e.latest));
    suspect_first.push_back(std::to_string(e.suspect_first));
    suspect_last.push_back(std::to_string(e.suspect_last));
    suspect_count.push_back(std::to_string(e.suspect_count));
    suspect_low.push_back(e.suspect_low ? "true" : "false");
  }
  [[nodiscard]] bool empty() const { return serial.empty(); }
};

}  // namespace smiles::storage
