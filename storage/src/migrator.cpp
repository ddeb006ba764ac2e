#include "smiles/storage/migrator.h"

#include "checksums.h"
#include "energy_history.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <pqxx/pqxx>

#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

namespace {

constexpr const char* kCreateVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version      integer PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    execution_ms integer NOT NULL
))sql";

bool table_exists(pqxx::transaction_base& tx, std::string_view table) {
  return !tx.exec_params1("SELECT to_regclass($1) IS NULL", "public." + std::string(table))[0]
              .as<bool>();
}

SchemaStatus read_status(pqxx::transaction_base& tx, const std::vector<Migration>& migrations,
                         const MigratorOptions& options, bool plan) {
  SchemaStatus s;
  s.latest_version = migrations.empty() ? 0 : migrations.back().version;
  if (!table_exists(tx, schema::kSchemaMigrations)) {
    std::string ours;
    for (auto table : schema::kTables) {
      if (table_exists(tx, table)) ours += (ours.empty() ? "" : ", ") + std::string(table);
    }
    if (ours.empty()) {
      s.shape = SchemaShape::kEmpty;
      s.pending = migrations;
    } else if (looks_like_legacy_v2(tx)) {
      s.shape = SchemaShape::kLegacyPythonV2;
      s.pending = migrations;  // adoption creates version 1, the rest then apply
      s.legacy = plan_legacy_adoption(tx, options, plan);
      s.problems = s.legacy->problems;
    } else {
      s.shape = SchemaShape::kUnknown;
      s.problems.push_back(
          "tables with hoymiles names exist (" + ours +
          ") but there is no schema_migrations table and they are not the S-Miles v2 Python "
          "bridge's (its inverter_data and port_data have an id column); refusing to touch "
          "them");
    }
    return s;
  }
  s.shape = SchemaShape::kManaged;
  std::map<int, const Migration*> known;
  for (const auto& m : migrations) known[m.version] = &m;
  const auto rows = tx.exec(
      "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), execution_ms FROM schema_migrations ORDER BY version");
  std::map<int, bool> applied;
  for (const auto& row : rows) {
    AppliedMigration a{row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::string>(), row[4].as<int>()};
    applied[a.version] = true;
    s.current_version = std::max(s.current_version, a.version);
    const auto it = known.find(a.version);
    if (it == known.end()) {
      s.problems.push_back("migration " + std::to_string(a.version) + " (" + a.name +
                           ") was applied by a newer hoymiles-smiles; this binary knows up to " +
                           std::to_string(s.latest_version) + " — upgrade the binary");
    } else if (it->second->checksum() != a.checksum) {
      s.problems.push_back("migration " + std::to_string(a.version) + " (" + a.name +
                           ") was applied with checksum " + a.checksum + " but this binary has " +
                           it->second->checksum() +
                           "; the schema was changed by another build — refusing to continue");
    }
    s.applied.push_back(std::move(a));
  }
  for (const auto& m : migrations) {
    if (!applied.contains(m.version)) s.pending.push_back(m);
  }
  return s;
}

}  // namespace

std::string Migration::checksum() const {
  Fnv1a64 h;
  h.update(sql);
  return h.hex();
}

std::string format_status(const SchemaStatus& s) {
  std::string out;
  switch (s.shape) {
    case SchemaShape::kEmpty:
      out += "database is empty (no hoymiles-smiles tables)\n";
      break;
    case SchemaShape::kManaged:
      out += "schema version " + std::to_string(s.current_version) + " (this binary knows up to " +
             std::to_string(s.latest_version) + ")\n";
      for (const auto& a : s.applied) {
        out += "  applied  " + std::to_string(a.version) + " " + a.name + "  " + a.applied_at +
               "  " + std::to_string(a.execution_ms) + " ms  checksum " + a.checksum + "\n";
      }
      break;
    case SchemaShape::kLegacyPythonV2:
      out += "database of the S-Miles v2 Python bridge (no schema_migrations)\n";
      if (s.legacy) out += format_legacy_plan(*s.legacy);
      break;
    case SchemaShape::kUnknown:
      out += "database has hoymiles table names in an unknown shape\n";
      break;
  }
  for (const auto& p : s.problems) out += "  problem  " + p + "\n";
  if (!s.problems.empty()) {
    out += "upgrade would refuse: resolve the problems above first\n";
  } else if (s.pending.empty()) {
    out += "up to date: nothing to do\n";
  } else {
    out += std::string(s.shape == SchemaShape::kLegacyPythonV2
                           ? "upgrade would adopt the database as migration 1, then apply "
                           : "upgrade would apply ") +
           std::to_string(s.pending.size()) + " migration(s):\n";
    for (const auto& m : s.pending) {
      out += "  pending  " + std::to_string(m.version) + " " + m.name + "\n";
    }
  }
  return out;
}

Migrator::Migrator(ConnectionPool& pool, std::vector<Migration> migrations, MigratorOptions options)
    : pool_(pool), migrations_(std::move(migrations)), options_(std::move(options)) {
  std::sort(migrations_.begin(), migrations_.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
}

SchemaStatus Migrator::status(bool plan) {
  SchemaStatus s;
  pool_.run([&](pqxx::connection& c) {
    // Planning an adoption uses temporary tables; the transaction is never committed.
    pqxx::work tx(c);
    s = read_status(tx, migrations_, options_, plan);
    tx.abort();
  });
  return s;
}

UpgradeResult Migrator::upgrade() {
  UpgradeResult result;
  pool_.run([&](pqxx::connection& c) {
    // One migrator at a time; the second waits, then finds nothing pending.
    pqxx::nontransaction(c).exec_params("SELECT pg_advisory_lock($1)", schema::kMigrationLockKey);
    struct Unlock {
      pqxx::connection& c;
      ~Unlock() {
        try {
          pqxx::nontransaction(c).exec_params("SELECT pg_advisory_unlock($1)",
                                              schema::kMigrationLockKey);
        } catch (...) {  // a broken connection releases the lock anyway
        }
      }
    } unlock{c};

    SchemaStatus s;
    {
      pqxx::work tx(c);
      s = read_status(tx, migrations_, options_, false);
      tx.abort();
    }
    if (!s.problems.empty()) {
      std::string all;
      for (const auto& p : s.problems) all += (all.empty() ? "" : "; ") + p;
      throw SchemaError(s.shape == SchemaShape::kLegacyPythonV2
                            ? "this S-Miles v2 database cannot be adopted, nothing was changed: " +
                                  all
                            : all);
    }
    if (s.shape == SchemaShape::kLegacyPythonV2) {
      if (migrations_.empty() || migrations_.front().version != 1) {
        throw SchemaError("adoption needs migration 1 (schema v2)");
      }
      try {
        pqxx::work tx(c);
        adopt_legacy(tx, migrations_.front(), options_);
        tx.commit();
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const pqxx::sql_error& e) {
        throw SchemaError(std::string("adopting the S-Miles v2 database failed and was rolled "
                                      "back; nothing changed: ") +
                          e.what());
      }
      result.applied_versions.push_back(migrations_.front().version);
      pqxx::read_transaction tx(c);
      s = read_status(tx, migrations_, options_, false);
    }
    if (s.pending.empty()) return;
    {
      pqxx::work tx(c);
      tx.exec(kCreateVersionTable);
      tx.commit();
    }
    for (const auto& m : s.pending) {
      const auto started = std::chrono::steady_clock::now();
      try {
        pqxx::work tx(c);
        tx.exec(m.sql);
        if (m.version == schema::kEnergyHistoryMigration) {
          rebuild_energy_history(tx, options_.production);
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        tx.exec_params(
            "INSERT INTO schema_migrations (version, name, checksum, execution_ms) "
            "VALUES ($1, $2, $3, $4)",
            m.version, m.name, m.checksum(), static_cast<int>(ms));
        tx.commit();
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const pqxx::sql_error& e) {
        throw SchemaError("migration " + std::to_string(m.version) + " (" + m.name +
                          ") failed and was rolled back; the schema stays at version " +
                          std::to_string(result.applied_versions.empty()
                                             ? s.current_version
                                             : result.applied_versions.back()) +
                          ": " + e.what());
      }
      result.applied_versions.push_back(m.version);
    }
  });
  return result;
}

std::vector<std::string> Migrator::verify() {
  std::vector<std::string> problems;
  pool_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto s = read_status(tx, migrations_, options_, false);
    problems = s.problems;
    for (const auto& m : s.pending) {
      problems.push_back("migration " + std::to_string(m.version) + " (" + m.name +
                         ") is not applied; run 'hoymiles-smiles db upgrade'");
    }
    if (s.shape == SchemaShape::kManaged) {
      for (auto table : schema::kTables) {
        if (!table_exists(tx, table))
          problems.push_back("table " + std::string(table) + " is missing");
      }
      for (auto table : {schema::kEnergyDays, schema::kEnergyMonths, schema::kPower5min}) {
        if (s.current_version >= schema::kEnergyHistoryMigration && !table_exists(tx, table))
          problems.push_back("table " + std::string(table) + " is missing");
      }
    }
  });
  return problems;
}

std::int64_t rebuild_energy_history(ConnectionPool& pool, const ProductionRules& rules) {
  std::int64_t days = 0;
  pool.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    days = rebuild_energy_history(tx, rules);
    tx.commit();
  });
  return days;
}

}  // namespace smiles::storage
