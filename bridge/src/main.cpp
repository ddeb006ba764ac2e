#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "env_config.h"
#include "logging.h"
#include "smiles/core/error.h"
#include "version.h"

int main(int argc, char** argv) {
  using namespace smiles::bridge;
  CLI::App app{
      "hoymiles-smiles: Hoymiles DTU telemetry bridge (Modbus TCP/RTU -> PostgreSQL, REST, "
      "Prometheus)",
      "hoymiles-smiles"};
  app.set_version_flag("--version", std::string("hoymiles-smiles ") + smiles::kVersion);
  app.require_subcommand(1);
  const auto env = process_environment();
  const auto env_or = [&env](std::string_view name, std::string_view fallback) {
    auto v = env(name);
    return v && !v->empty() ? *v : std::string(fallback);
  };
  std::string log_level = env_or("LOG_LEVEL", "info");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error, critical or off [env: LOG_LEVEL]")
      ->capture_default_str();
  std::string log_format = env_or("LOG_FORMAT", "text");
  app.add_option("--log-format", log_format,
                 "text or json, one object per line (standard = text) [env: LOG_FORMAT]")
      ->capture_default_str();

  CommandRun run;
  add_simulate_command(app, run);
  add_probe_command(app, run);
  add_db_command(app, run);
  add_serve_command(app, run);
  add_import_command(app, run);
  add_export_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  try {
    setup_logging(log_level, log_format);
  } catch (const smiles::ConfigError& e) {
    std::cerr << "hoymiles-smiles: " << e.what() << "\n";
    return kExitUsage;
  }
  return run ? run() : kExitUsage;
}
