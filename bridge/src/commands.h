// Subcommands of the hoymiles-smiles executable. Each registers its options on
// the CLI11 app and sets `run` to the code to execute; run returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace smiles::bridge {

using CommandRun = std::function<int()>;

void add_simulate_command(CLI::App& app, CommandRun& run);
void add_probe_command(CLI::App& app, CommandRun& run);
void add_db_command(CLI::App& app, CommandRun& run);
void add_serve_command(CLI::App& app, CommandRun& run);
void add_import_command(CLI::App& app, CommandRun& run);
void add_export_command(CLI::App& app, CommandRun& run);

// Exit codes shared by the commands (documented in --help and README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;  // connection refused, timeouts
inline constexpr int kExitNotMapped = 4;    // DTU reachable, inverters not mapped yet
inline constexpr int kExitProtocol = 5;     // garbled frames, exception answers, bad data

}  // namespace smiles::bridge
