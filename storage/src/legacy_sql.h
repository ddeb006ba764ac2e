// SQL building blocks of the adoption of an S-Miles v2 database. Parameters: $1 the
// time zone of the naive timestamps; where a production day is computed, $2 TIMEZONE
// and $3 RESET_HOUR.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "legacy_shape.h"

namespace smiles::storage::legacy {

// Value of column `name` of alias l, converted to the v2 type.
std::string value(const Found& f, const std::string& table, const std::string& name);

// Inverter type from the serial: the family table of core/family.h, longest prefix
// first.
std::string family_sql(const std::string& serial);

std::string qualified(pqxx::transaction_base& tx, const std::string& schema,
                      const std::string& table);

// The sorts of an adoption (millions of rows, once) stay in memory up to this much
// each; the transaction's own setting, nothing else changes.
inline constexpr const char* kAdoptionWorkMem = "SET LOCAL work_mem = '64MB'";

// First id of each fall-back's second pass, per table and local date: the first
// ambiguous row written after a row that was more than ten minutes later on the
// naive clock.
void build_fallback_ids(pqxx::transaction_base& tx, const Found& f, const std::string& schema,
                        const std::string& timezone);

// Every inverter_data and port_data row with its instant and the poll it belongs to:
// the rows of one inverter less than kLegacyPollGap apart form one poll, whose time is
// that of its first row.
void build_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema,
                const std::string& timezone);

// SELECTs producing the v2 rows of each reading table from smiles_adopt_rows (one row
// per inverter and poll; one per port and poll; first written wins).
std::string inverter_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema);

std::string port_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema);

// Every serial met: in inverters, in the readings, in the cache.
std::string serials(pqxx::transaction_base& tx, const Found& f, const std::string& schema);

std::string metric_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema);

std::string config_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema);

// `select` as a statement taking the time zone as $1 even when no column needs it
// (PostgreSQL refuses a parameter it cannot type).
std::string with_tz(const std::string& select);

std::int64_t count_of(pqxx::transaction_base& tx, const std::string& select,
                      const std::string& timezone);

}  // namespace smiles::storage::legacy

namespace smiles::storage::legacy {

// What carry_over() selected from the old tables and how much of it was new.
struct Carried {
  std::string table;
  std::int64_t selected = 0;  // v2 rows the old rows make (after collapsing)
  std::int64_t inserted = 0;  // of those, rows the target did not hold yet
};

// Carries the readings, inverters, config and metrics of the old tables in `schema`
// into the v2 tables as the session resolves them unqualified (public, or the
// temporary tables of a verify that shadow them), with ON CONFLICT DO NOTHING. Runs
// build_fallback_ids() and build_rows() first. $1 is `timezone`.
std::vector<Carried> carry_over(pqxx::transaction_base& tx, const Found& f,
                                const std::string& schema, const std::string& timezone);
// The same selection, counted only (inserted stays 0): what a dry run would carry.
std::vector<Carried> count_carry(pqxx::transaction_base& tx, const Found& f,
                                 const std::string& schema, const std::string& timezone);

}  // namespace smiles::storage::legacy
