// The database flags shared by the commands that talk to PostgreSQL without
// polling (db, import, export): the same names, env variables and checks as serve.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "serve_config.h"

namespace smiles::bridge {

struct DbFlags {
  std::string database_url;
  std::string timezone;
  std::string reset_hour;
};

// Adds --database-url and, unless timezone_help is empty, --timezone (help text per
// command) and --reset-hour.
void add_db_flags(CLI::App* cmd, DbFlags& flags, const std::string& timezone_help);

struct DbSettings {
  storage::DatabaseConfig database;  // a pool of one connection
  storage::ProductionRules rules;    // TIMEZONE, RESET_HOUR
};

// Flags over the environment; throws ConfigError naming the variable or flag.
DbSettings db_settings(const DbFlags& flags);

// Runs a command body, turning errors into a message on stderr ("me: ...") and the
// exit code for their kind: 2 configuration, 3 database unreachable, 1 anything
// else (a refused import source also says that nothing was written).
int run_guarded(const char* me, const std::function<int()>& body);

}  // namespace smiles::bridge
