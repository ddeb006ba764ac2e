// Configuration from environment variables: the only place that reads them.
// Every variable has a CLI flag that overrides it; a bad value names the variable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "smiles/storage/database_config.h"

namespace smiles::bridge {

// Looks up one variable; injectable so tests need not touch the real environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

// DATABASE_URL, or DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD; DB_POOL_SIZE,
// DB_MAX_OVERFLOW. Throws ConfigError naming the variable on a bad value.
storage::DatabaseConfig database_config_from(const Environment& env);

// TIMEZONE (IANA name; checked against PostgreSQL where it is used), default "UTC".
std::string timezone_from(const Environment& env);

// Integer variable within [lo, hi], or `fallback` when unset or empty.
int int_from(const Environment& env, std::string_view name, int fallback, int lo, int hi);

}  // namespace smiles::bridge
