// The production cache rebuilt from stored readings (adopted history).
#pragma once

#include <cstdint>
#include <pqxx/transaction_base>

#include "smiles/storage/production_rules.h"

namespace smiles::storage {

// Replaces production_cache with what the served-energy model (core/energy.h) makes of
// port_data: every port's readings in time order, with its inverter's link status of
// the same poll. Writes only the columns of schema v1 (adoption runs it before later
// migrations). Returns the ports written.
std::int64_t rebuild_production_cache(pqxx::transaction_base& tx, const ProductionRules& rules);

}  // namespace smiles::storage
