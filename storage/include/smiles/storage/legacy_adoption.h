// Adopting a PostgreSQL database of the S-Miles v2 Python bridge in place.
//
// What that bridge wrote (Studio729/hoymiles-mqtt, hoymiles_smiles/db_adapter.py and
// persistence.py): naive TIMESTAMPs filled by PostgreSQL's NOW(), so in the server's
// TimeZone; one inverter_data row per *port* of every poll, each row its own
// transaction milliseconds apart; REAL values; a production cache that holds whatever
// the last poll read (zeros at night).
//
// In one transaction: the old tables move to schema smiles_legacy_v2 (kept, as the
// rollback path, until the operator drops it), migration 1 creates schema v2, and
// every reading is copied over: timestamps converted to UTC (the repeated hour of a
// DST fall-back told apart by the order the rows were written), the rows of one poll
// gathered under one timestamp, the per-port copies of inverter_data collapsed to one
// row per inverter per poll, inverters typed from their serials, and the production
// cache rebuilt from the readings with the monotonic rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "smiles/storage/production_rules.h"

namespace smiles::storage {

struct Migration;

inline constexpr const char* kLegacySchema = "smiles_legacy_v2";
// Where rollback_adoption() puts the v2 tables (and anything written since adoption).
inline constexpr const char* kRolledBackSchema = "smiles_v2_rolled_back";

// Rows of one poll of the Python bridge are at most this far apart (each was its own
// transaction); its polls are at least QUERY_PERIOD >= 5 s apart.
inline constexpr const char* kLegacyPollGap = "2.5 seconds";

struct LegacyTablePlan {
  std::string table;
  std::int64_t rows = 0;  // in the old table
  std::int64_t kept = 0;  // rows after adoption (-1: rebuilt, counted by adoption)
};

struct LegacyOptions {
  // Time zone of the naive timestamps. Empty: the database's own TimeZone setting, in
  // which PostgreSQL's NOW() wrote them.
  std::string source_timezone;
  ProductionRules production;  // production day of the rebuilt cache
};

struct LegacyPlan {
  std::string shape;  // which DDL of the Python bridge this is, and its indexes
  std::string source_timezone;
  std::string source_timezone_origin;  // where the zone came from
  std::string first_naive;             // oldest reading as stored (naive)
  std::string last_naive;
  std::string first_utc;  // the same converted
  std::string last_utc;
  std::vector<LegacyTablePlan> tables;
  std::int64_t repeated_hour_rows = 0;  // naive times of a DST fall-back's second pass
  std::int64_t inverters_added = 0;     // serials with readings but no inverters row
  std::int64_t cache_zero_rows = 0;     // old production_cache rows holding total 0
  std::vector<std::string> notes;       // kept only in smiles_legacy_v2, skipped tables
  std::vector<std::string> problems;    // why it cannot be adopted (empty: it can)
};

// Whether the public schema looks like the Python bridge's (its reading tables with
// BIGSERIAL ids, no schema_migrations, none of our own tables).
bool looks_like_legacy_v2(pqxx::transaction_base& tx);

// Shape, time zone and problems; with `count`, also what adoption would keep (reads the
// whole database; uses temporary tables, so `tx` must not be read-only; nothing else is
// written). Throws ConfigError for an unknown time zone.
LegacyPlan plan_legacy_adoption(pqxx::transaction_base& tx, const LegacyOptions& options,
                                bool count = true);
std::string format_legacy_plan(const LegacyPlan& plan);

// Performs the adoption inside `tx` (the caller commits). `v1` is the migration that
// creates schema v2; it is recorded as applied. Throws SchemaError naming the
// difference when the shape cannot be adopted (before changing anything).
void adopt_legacy(pqxx::transaction_base& tx, const Migration& v1, const LegacyOptions& options);

// After an adoption: rows per table in the old tables (smiles_legacy_v2) and now, and a
// report of them.
std::vector<LegacyTablePlan> adoption_counts(pqxx::transaction_base& tx);
std::string format_adoption_counts(const std::vector<LegacyTablePlan>& tables);

// Undoes an adoption: the v2 tables move to schema smiles_v2_rolled_back (nothing is
// dropped), the old tables return to public. Throws SchemaError when there is no
// adoption to undo. The caller commits.
void rollback_adoption(pqxx::transaction_base& tx);

// Drops the old tables kept by adoption (schema smiles_legacy_v2), once the operator
// is satisfied. Returns false when there is nothing to drop.
bool drop_legacy(pqxx::transaction_base& tx);

}  // namespace smiles::storage
