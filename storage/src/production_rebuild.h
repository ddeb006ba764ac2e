// The production cache rebuilt from stored readings (adopted history), and the fold
// of every stored reading through the served-energy model both rebuilds share.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <pqxx/transaction_base>
#include <string>
#include <utility>

#include "smiles/core/energy.h"
#include "smiles/storage/production_rules.h"

namespace smiles::storage {

using PortKey = std::pair<std::string, int>;

// Every port's stored readings in time order, with its inverter's link status of the
// same poll, folded through the served-energy model (core/energy.h). `closing` (may
// be empty) sees each port's state just before a reading closes its production day.
std::map<PortKey, PortEnergy> fold_stored_readings(
    pqxx::transaction_base& tx, const ProductionRules& rules,
    const std::function<void(const PortKey&, const PortEnergy&)>& closing);

// Replaces production_cache with the fold's final states. Writes only the columns of
// schema v1 (adoption runs it before later migrations). Returns the ports written.
std::int64_t rebuild_production_cache(pqxx::transaction_base& tx, const ProductionRules& rules);

// Adds the fold's final state, every column of the current schema, for each port
// production_cache does not hold yet (history imported beside live ports, which keep
// their state). Returns the ports added.
std::int64_t fill_production_cache(pqxx::transaction_base& tx, const ProductionRules& rules);

}  // namespace smiles::storage
