#include <iostream>

#include "commands.h"
#include "db_flags.h"
#include "smiles/storage/connection_pool.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"

#include <pqxx/pqxx>

#include "smiles/storage/schema.h"

namespace smiles::bridge {

namespace {

struct DbOptions {
  std::string action;
  DbFlags db;
  bool dry_run = false;
  std::string legacy_timezone;
};

int run_db(const DbOptions& o) {
  return run_guarded("hoymiles-smiles db", [&] {
    const auto settings = db_settings(o.db);
    const auto& config = settings.database;
    const storage::MigratorOptions options{o.legacy_timezone, settings.rules};
    storage::ConnectionPool pool(config);
    storage::Migrator migrator(pool, options);
    std::cout << "database " << storage::describe(config) << "\n";
    if (o.action == "status") {
      std::cout << storage::format_status(migrator.status());
      return kExitOk;
    }
    if (o.action == "upgrade") {
      // The full adoption plan reads the whole database: for the dry run only.
      const auto before = migrator.status(o.dry_run);
      std::cout << storage::format_status(before);
      if (before.up_to_date()) return kExitOk;
      if (o.dry_run) {
        std::cout << "dry run: nothing was changed\n";
        return before.problems.empty() ? kExitOk : kExitFailure;
      }
      const auto result = migrator.upgrade();
      if (before.shape == storage::SchemaShape::kLegacyPythonV2) {
        pool.run([](pqxx::connection& c) {
          pqxx::read_transaction tx(c);
          std::cout << storage::format_adoption_counts(storage::adoption_counts(tx));
        });
      }
      for (int v : result.applied_versions) std::cout << "applied migration " << v << "\n";
      std::cout << "schema is at version " << migrator.status().current_version << "\n";
      return kExitOk;
    }
    if (o.action == "rollback-adoption" || o.action == "drop-legacy") {
      bool changed = false;
      pool.run([&](pqxx::connection& c) {
        pqxx::nontransaction(c).exec_params("SELECT pg_advisory_lock($1)",
                                            storage::schema::kMigrationLockKey);
        pqxx::work tx(c);
        if (o.action == "rollback-adoption") {
          storage::rollback_adoption(tx);
          changed = true;
        } else {
          changed = storage::drop_legacy(tx);
        }
        tx.commit();
        pqxx::nontransaction(c).exec_params("SELECT pg_advisory_unlock($1)",
                                            storage::schema::kMigrationLockKey);
      });
      if (o.action == "rollback-adoption") {
        std::cout << "rolled back: the S-Miles v2 tables are back in schema public; the v2 "
                     "tables (with anything written since adoption) are in schema "
                  << storage::kRolledBackSchema << "\n";
      } else {
        std::cout << (changed ? std::string("dropped the old tables (schema ") +
                                    storage::kLegacySchema + ")\n"
                              : std::string("nothing to drop: schema ") + storage::kLegacySchema +
                                    " does not exist\n");
      }
      return kExitOk;
    }
    const auto problems = migrator.verify();
    for (const auto& p : problems) std::cout << "  problem  " << p << "\n";
    std::cout << (problems.empty() ? "schema verified: matches this binary\n"
                                   : "schema does NOT match this binary\n");
    return problems.empty() ? kExitOk : kExitFailure;
  });
}

}  // namespace

void add_db_command(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<DbOptions>();
  auto* cmd = app.add_subcommand("db", "Show, upgrade or verify the PostgreSQL schema");
  cmd->add_option("action", o->action,
                  "status: what is there and what upgrade would do; upgrade: apply pending "
                  "migrations (adopting an S-Miles v2 database first); verify: check the schema "
                  "matches this binary; rollback-adoption: put an adopted S-Miles v2 database "
                  "back (the v2 tables move aside, nothing is dropped); drop-legacy: drop the old "
                  "tables kept by adoption")
      ->required()
      ->check(CLI::IsMember({"status", "upgrade", "verify", "rollback-adoption", "drop-legacy"}));
  add_db_flags(cmd, o->db,
               "IANA time zone of the production day (\"today\") in the adopted production cache");
  cmd->add_option("--legacy-timezone", o->legacy_timezone,
                  "Time zone of the naive timestamps of an S-Miles v2 database being adopted "
                  "(default: the database's TimeZone setting, which PostgreSQL's now() wrote "
                  "them in)");
  cmd->add_flag("--dry-run", o->dry_run, "upgrade: print what would change, change nothing");
  cmd->footer(
      "Exit codes: 0 ok, 1 schema problem (checksum mismatch, newer schema, failed migration, "
      "verify found differences), 2 bad arguments, 3 database unreachable.");
  cmd->callback([&run, o] { run = [o] { return run_db(*o); }; });
}

}  // namespace smiles::bridge
