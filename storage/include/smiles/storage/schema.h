// Names of the schema objects, defined once. The DDL lives in storage/migrations/.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace smiles::storage::schema {

inline constexpr std::string_view kDtus = "dtus";
inline constexpr std::string_view kInverters = "inverters";
inline constexpr std::string_view kInverterData = "inverter_data";
inline constexpr std::string_view kPortData = "port_data";
inline constexpr std::string_view kProductionCache = "production_cache";
inline constexpr std::string_view kConfigCache = "config_cache";
inline constexpr std::string_view kSystemMetrics = "system_metrics";
inline constexpr std::string_view kSchemaMigrations = "schema_migrations";
inline constexpr std::string_view kEnergyDays = "energy_days";
inline constexpr std::string_view kEnergyMonths = "energy_months";
inline constexpr std::string_view kPower5min = "power_5min";

// The migration that adds the energy history tables; applying it also fills them from
// the stored readings (storage/src/energy_history.cpp).
inline constexpr int kEnergyHistoryMigration = 4;

// Tables of schema v2 (without schema_migrations).
inline constexpr std::array<std::string_view, 7> kTables = {
    kDtus, kInverters, kInverterData, kPortData, kProductionCache, kConfigCache, kSystemMetrics};

// Columns of a reading row, in the order the writer copies and the read model reads
// them (the keys serial_number, [port_number,] "timestamp" come first in the tables).
inline constexpr std::array<std::string_view, 7> kInverterValueColumns = {
    "grid_voltage", "grid_frequency", "temperature", "operating_status",
    "alarm_code",   "alarm_count",    "link_status"};
inline constexpr std::array<std::string_view, 5> kPortValueColumns = {
    "pv_voltage", "pv_current", "pv_power", "today_production", "total_production"};
inline constexpr std::array<std::string_view, 2> kInverterKeyColumns = {"serial_number",
                                                                        "timestamp"};
inline constexpr std::array<std::string_view, 3> kPortKeyColumns = {"serial_number", "port_number",
                                                                    "timestamp"};
// system_metrics in table order (what imports COPY).
inline constexpr std::array<std::string_view, 4> kSystemMetricsColumns = {
    "timestamp", "metric_name", "metric_value", "tags"};

// The identity of a system_metrics row, as its unique index (migrations 2 and 5) has
// it: a missing value or tag set equals another missing one; the tag set counts by
// its hash. One expression per part, in the index's order.
inline std::array<std::string, 4> system_metrics_identity(std::string_view alias = "") {
  const std::string a(alias);
  return {a + "\"timestamp\"", "jsonb_hash_extended(coalesce(" + a + "tags, 'null'::jsonb), 0)",
          "coalesce(" + a + "metric_value, 'NaN'::float8)", a + "metric_name"};
}

// "p.a, p.b, ..." for SQL.
template <std::size_t N>
std::string column_list(const std::array<std::string_view, N>& columns,
                        std::string_view prefix = "") {
  std::string out;
  for (auto c : columns) out += (out.empty() ? "" : ", ") + std::string(prefix) + std::string(c);
  return out;
}

// Key columns then value columns, for COPY.
template <std::size_t K, std::size_t V>
std::vector<std::string> copy_columns(const std::array<std::string_view, K>& keys,
                                      const std::array<std::string_view, V>& values) {
  std::vector<std::string> out(keys.begin(), keys.end());
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// Session-level advisory lock held while migrating ("smiles" in ASCII).
inline constexpr long long kMigrationLockKey = 0x736D696C6573LL;

}  // namespace smiles::storage::schema
