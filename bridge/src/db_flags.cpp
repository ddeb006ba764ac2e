#include "db_flags.h"

#include <iostream>

#include "commands.h"
#include "env_config.h"
#include "smiles/storage/errors.h"

namespace smiles::bridge {

void add_db_flags(CLI::App* cmd, DbFlags& flags, const std::string& timezone_help) {
  cmd->add_option("--database-url", flags.database_url,
                  "PostgreSQL URL, e.g. postgresql://user:pass@host:5432/db [env: DATABASE_URL; "
                  "or DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD]");
  if (timezone_help.empty()) return;
  cmd->add_option("--timezone", flags.timezone, timezone_help + " [env: TIMEZONE, default UTC]");
  cmd->add_option("--reset-hour", flags.reset_hour,
                  "Local hour at which 'today' restarts [env: RESET_HOUR, default 0]")
      ->check(CLI::Range(0, 23));
}

DbSettings db_settings(const DbFlags& flags) {
  std::map<std::string, std::string> given;
  if (!flags.database_url.empty()) given["--database-url"] = flags.database_url;
  if (!flags.timezone.empty()) given["--timezone"] = flags.timezone;
  if (!flags.reset_hour.empty()) given["--reset-hour"] = flags.reset_hour;
  const auto lookup = settings_lookup(given, process_environment());
  DbSettings s{database_config_from(lookup), production_rules_from(lookup)};
  s.database.pool_size = 1;
  s.database.max_overflow = 0;
  return s;
}

int run_guarded(const char* me, const std::function<int()>& body) {
  try {
    return body();
  } catch (const storage::SourceRefused& e) {
    std::cerr << me << ": refused " << e.what() << "\nnothing was written\n";
    return exit_code_for(e, CommandFamily::kDatabase);
  } catch (const Error& e) {
    std::cerr << me << ": " << e.what() << "\n";
    return exit_code_for(e, CommandFamily::kDatabase);
  }
}

}  // namespace smiles::bridge
