// Subcommands of the hoymiles-smiles executable. Each registers its options on
// the CLI11 app and sets `run` to the code to execute; run returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "exit_codes.h"

namespace smiles::bridge {

using CommandRun = std::function<int()>;

void add_simulate_command(CLI::App& app, CommandRun& run);
void add_probe_command(CLI::App& app, CommandRun& run);
void add_db_command(CLI::App& app, CommandRun& run);
void add_serve_command(CLI::App& app, CommandRun& run);
void add_import_command(CLI::App& app, CommandRun& run);
void add_export_command(CLI::App& app, CommandRun& run);

}  // namespace smiles::bridge
