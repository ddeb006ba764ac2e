// How "today" and "total" in the production cache evolve (RESET_HOUR, TIMEZONE).
#pragma once

#include <string>
#include <string_view>

namespace smiles::storage {

struct ProductionRules {
  int reset_hour = 0;            // local hour at which "today" starts (RESET_HOUR)
  std::string timezone = "UTC";  // IANA name (TIMEZONE), resolved by PostgreSQL
};

// SQL for the production day of a timestamptz: the local date (time zone `zone`) of
// the moment `hours` hours earlier, so that a day starts at RESET_HOUR. The arguments
// are SQL expressions (usually parameters such as "$1").
inline std::string production_day_sql(std::string_view time, std::string_view zone,
                                      std::string_view hours) {
  return "((" + std::string(time) + " AT TIME ZONE " + std::string(zone) +
         ") - make_interval(hours => " + std::string(hours) + "))::date";
}

}  // namespace smiles::storage
