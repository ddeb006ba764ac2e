// The exit codes of every command, and the one table that maps an error's kind to
// them (documented in each command's --help and in README).
#pragma once

#include <string_view>

#include "smiles/core/error.h"

namespace smiles::bridge {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;        // bad configuration or command line
inline constexpr int kExitUnreachable = 3;  // connection refused, timeouts (DTU or database)
inline constexpr int kExitNotMapped = 4;    // probe: DTU reachable, inverters not mapped yet
inline constexpr int kExitProtocol = 5;     // probe: garbled frames, exception answers, bad data

// Which family a command belongs to, for the table: `serve` and `simulate` stop with
// 1 or 2; `probe` tells the DTU's failures apart; `db`, `import` and `export` tell an
// unreachable database apart.
enum class CommandFamily : unsigned char { kService, kProbe, kDatabase };

struct ExitRule {
  std::string_view kind;  // Error::kind()
  int service;
  int probe;
  int database;
};

// The table; an error kind not listed exits 1 (5 for probe: something the DTU said).
inline constexpr ExitRule kExitRules[] = {
    {"config", kExitUsage, kExitUsage, kExitUsage},
    {"not_mapped", kExitFailure, kExitNotMapped, kExitUnreachable},
    {"timeout", kExitFailure, kExitUnreachable, kExitUnreachable},
    {"connection", kExitFailure, kExitUnreachable, kExitUnreachable},
    {"io", kExitFailure, kExitUnreachable, kExitUnreachable},
    {"database_unavailable", kExitFailure, kExitUnreachable, kExitUnreachable},
    {"pool_timeout", kExitFailure, kExitUnreachable, kExitUnreachable},
    {"source_refused", kExitFailure, kExitFailure, kExitFailure},
};

int exit_code_for(const Error& e, CommandFamily family);

}  // namespace smiles::bridge
