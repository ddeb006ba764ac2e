// Adopting a database of the S-Miles v2 Python bridge in place.
//
// In one transaction: the old tables move to schema smiles_legacy_v2 (kept, as the
// rollback path, until the operator drops it), migration 1 creates schema v2, and
// every distinct reading is copied over: naive timestamps converted from the old
// bridge's TIMEZONE to UTC, the per-port duplicates of inverter_data collapsed to
// one row per inverter per poll, exact duplicates dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

namespace smiles::storage {

struct Migration;

inline constexpr const char* kLegacySchema = "smiles_legacy_v2";
// Where rollback_adoption() puts the v2 tables (and anything written since adoption).
inline constexpr const char* kRolledBackSchema = "smiles_v2_rolled_back";

struct LegacyTablePlan {
  std::string table;
  std::int64_t rows = 0;  // in the old table
  std::int64_t kept = 0;  // distinct rows after conversion
};

struct LegacyPlan {
  std::string timezone;     // naive timestamps are read as local time here
  std::string first_naive;  // oldest reading as stored (naive)
  std::string last_naive;
  std::string first_utc;  // the same converted
  std::string last_utc;
  std::vector<LegacyTablePlan> tables;
};

// Counts what adoption would do; reads only.
LegacyPlan plan_legacy_adoption(pqxx::transaction_base& tx, const std::string& timezone);
std::string format_legacy_plan(const LegacyPlan& plan);

// Performs the adoption inside `tx` (the caller commits). `v1` is the migration that
// creates schema v2; it is recorded as applied.
void adopt_legacy(pqxx::transaction_base& tx, const Migration& v1, const std::string& timezone,
                  int reset_hour);

// Undoes an adoption: the v2 tables move to schema smiles_v2_rolled_back (nothing is
// dropped), the old tables return to public. Throws SchemaError when there is no
// adoption to undo. The caller commits.
void rollback_adoption(pqxx::transaction_base& tx);

// Drops the old tables kept by adoption (schema smiles_legacy_v2), once the operator
// is satisfied. Returns false when there is nothing to drop.
bool drop_legacy(pqxx::transaction_base& tx);

}  // namespace smiles::storage
