// The energy history tables (migration 4): energy per inverter and closed production
// day (energy_days) and month (energy_months), and five-minute power per inverter
// (power_5min). The writer keeps them
// in the transaction that stores the readings; rebuild_energy_history() fills them
// from stored readings (migration 4 on an existing database, adopted history).
#pragma once

#include <cstdint>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

#include "smiles/core/energy.h"
#include "smiles/core/reading.h"
#include "smiles/storage/production_rules.h"

namespace smiles::storage {

inline constexpr int kPowerBucketSeconds = 300;

// The start of the power bucket `at` falls in.
Timestamp power_bucket(Timestamp at);

// A production day a port has left, and the energy it served that day.
struct ClosedDay {
  std::string serial_number;  // of the port's inverter
  std::string day;            // YYYY-MM-DD
  std::uint64_t wh = 0;
};

// `e` as it is when a reading closes its day (see closes_day() in core/energy.h).
ClosedDay closed_day(const std::string& serial, const PortEnergy& e);

// Prepares the statements below on a writer connection.
void prepare_energy_history(pqxx::connection& c);

// Adds closed days to their inverter's day and month.
void write_closed_days(pqxx::transaction_base& tx, const std::vector<ClosedDay>& days);

// Adds the readings' power to their buckets. Only for readings stored just now (each
// counted once).
void add_power(pqxx::transaction_base& tx, std::span<const DtuReading> readings);

// A replay (a batch some of whose readings were stored before): moves the rows of
// the temporary table staging_port into port_data and adds the power of the readings
// that were new. staging_inverter must be merged first.
void merge_staged_ports(pqxx::transaction_base& tx);

// Replaces energy_days, energy_months and power_5min with what the stored readings
// give: every port's readings folded in time order as the writer folds them, the day
// a port is in now (production_cache's) left to production_cache. Returns the port-days
// counted.
std::int64_t rebuild_energy_history(pqxx::transaction_base& tx, const ProductionRules& rules);

}  // namespace smiles::storage
