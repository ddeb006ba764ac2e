// Versioned schema migrations compiled into the binary.
//
// schema_migrations records each applied migration with a checksum of its SQL.
// upgrade() holds a PostgreSQL advisory lock, runs each pending migration in its
// own transaction (a failure rolls that one back completely and stops), and
// refuses to touch a database whose applied checksums differ from this binary's
// or which has versions this binary does not know.
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "smiles/core/reading.h"
#include "smiles/storage/connection_pool.h"
#include "smiles/storage/legacy_adoption.h"

namespace smiles::storage {

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
  [[nodiscard]] std::string checksum() const;  // 16 hex digits (FNV-1a 64 of the SQL)
};

// The migrations shipped in this binary, ascending by version.
const std::vector<Migration>& builtin_migrations();

enum class SchemaShape {
  kEmpty,           // no hoymiles tables at all
  kManaged,         // has schema_migrations
  kLegacyPythonV2,  // the S-Miles v2 Python bridge's PostgreSQL shape (see legacy)
  kUnknown,         // some of our table names, but neither shape
};

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;  // ISO-8601 UTC
  int execution_ms = 0;
};

struct SchemaStatus {
  SchemaShape shape = SchemaShape::kEmpty;
  int current_version = 0;  // highest applied version (0: none)
  int latest_version = 0;   // highest version this binary knows
  std::vector<AppliedMigration> applied;
  std::vector<Migration> pending;
  std::vector<std::string> problems;  // reasons upgrade() refuses
  std::optional<LegacyPlan> legacy;   // for kLegacyPythonV2: what adoption would do

  [[nodiscard]] bool up_to_date() const {
    return shape == SchemaShape::kManaged && pending.empty() && problems.empty();
  }
};

// Human-readable report for `db status` (what is there, what upgrade would do).
std::string format_status(const SchemaStatus& status);

struct UpgradeResult {
  std::vector<int> applied_versions;
};

// How a legacy S-Miles v2 database is adopted (see legacy_adoption.h).
using MigratorOptions = LegacyOptions;

class Migrator {
 public:
  explicit Migrator(ConnectionPool& pool, std::vector<Migration> migrations = builtin_migrations(),
                    MigratorOptions options = {});
  Migrator(ConnectionPool& pool, MigratorOptions options)
      : Migrator(pool, builtin_migrations(), std::move(options)) {}

  // With `plan`, a legacy S-Miles v2 database is read whole to show what adoption
  // would keep (slow on big databases); without, only its shape and problems.
  SchemaStatus status(bool plan = true);
  // Adopts a legacy S-Miles v2 database first (one transaction), then applies what is
  // pending. Throws SchemaError (mismatch, newer schema, unknown shape, failed
  // migration), ConfigError (unknown time zone) or DatabaseUnavailable. Safe to run
  // from several processes at once.
  UpgradeResult upgrade();
  // Problems found (empty = schema matches this binary): checksums, missing
  // migrations, missing tables.
  std::vector<std::string> verify();

 private:
  ConnectionPool& pool_;
  std::vector<Migration> migrations_;
  MigratorOptions options_;
};

// Recomputes the energy history (energy_days, power_5min) from the stored readings,
// in one transaction: for writes that bypass the reading writer (archive imports).
// Returns the closed port-days written.
std::int64_t rebuild_energy_history(ConnectionPool& pool, const ProductionRules& rules);

}  // namespace smiles::storage
