// How "today" and "total" in the production cache evolve (RESET_HOUR, TIMEZONE).
#pragma once

#include <string>

namespace smiles::storage {

struct ProductionRules {
  int reset_hour = 0;            // local hour at which "today" starts (RESET_HOUR)
  std::string timezone = "UTC";  // IANA name (TIMEZONE), resolved by PostgreSQL
};

}  // namespace smiles::storage
