// Names of the schema objects, defined once. The DDL lives in storage/migrations/.
#pragma once

#include <array>
#include <string_view>

namespace smiles::storage::schema {

inline constexpr std::string_view kDtus = "dtus";
inline constexpr std::string_view kInverters = "inverters";
inline constexpr std::string_view kInverterData = "inverter_data";
inline constexpr std::string_view kPortData = "port_data";
inline constexpr std::string_view kProductionCache = "production_cache";
inline constexpr std::string_view kConfigCache = "config_cache";
inline constexpr std::string_view kSystemMetrics = "system_metrics";
inline constexpr std::string_view kSchemaMigrations = "schema_migrations";

// Tables of schema v2 (without schema_migrations).
inline constexpr std::array<std::string_view, 7> kTables = {
    kDtus, kInverters, kInverterData, kPortData, kProductionCache, kConfigCache, kSystemMetrics};

// Session-level advisory lock held while migrating ("smiles" in ASCII).
inline constexpr long long kMigrationLockKey = 0x736D696C6573LL;

}  // namespace smiles::storage::schema
