// The energy history tables (migration 4): closed production days per port
// (energy_days) and five-minute power per inverter (power_5min). The writer keeps them
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

// A production day a port has left: its served totals at the start and the end.
struct ClosedDay {
  std::string serial_number;
  int port_number = 0;
  std::string day;  // YYYY-MM-DD
  std::uint64_t start_wh = 0;
  std::uint64_t end_wh = 0;
  Timestamp last_reading{};
};

// `e` as it is when a reading closes its day (see closes_day() in core/energy.h).
ClosedDay closed_day(const std::string& serial, int port, const PortEnergy& e);

// Prepares the statements below on a writer connection.
void prepare_energy_history(pqxx::connection& c);

// Upserts closed days.
void write_closed_days(pqxx::transaction_base& tx, const std::vector<ClosedDay>& days);

// Adds the readings' power to their buckets. Only for readings stored just now (each
// counted once).
void add_power(pqxx::transaction_base& tx, std::span<const DtuReading> readings);

// Counts the buckets the readings fall in again from port_data: for a batch some of
// whose readings were stored before (a replay).
void recount_power(pqxx::transaction_base& tx, std::span<const DtuReading> readings);

// Replaces energy_days and power_5min with what the stored readings give: every
// port's readings folded in time order as the writer folds them, the day still open
// left to production_cache. Returns the energy_days rows written.
std::int64_t rebuild_energy_history(pqxx::transaction_base& tx, const ProductionRules& rules);

}  // namespace smiles::storage
