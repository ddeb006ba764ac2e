// The bridge's time zone (TIMEZONE) and the production day of core/energy.h in it.
// The process's TZ is set once at start; the C library's zone data convert.
#pragma once

#include <functional>
#include <string>

#include "smiles/core/energy.h"

namespace smiles::bridge {

// Sets the process time zone. Throws ConfigError for a zone the system does not know.
void use_time_zone(const std::string& tz);

// Wall-clock date and time of `t` in the process time zone.
LocalDateTime local_time(Timestamp t);

// t -> production day ("YYYY-MM-DD") for RESET_HOUR `reset_hour`.
std::function<std::string(Timestamp)> production_day_function(int reset_hour);

}  // namespace smiles::bridge
