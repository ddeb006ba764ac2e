// Logging setup for the executable (libraries never log).
#pragma once

#include <spdlog/common.h>

#include <string>

namespace smiles::bridge {

// trace, debug, info, warn (warning), error, critical or off, in any case (the Python
// bridge wrote them in capitals). Throws ConfigError naming LOG_LEVEL otherwise.
spdlog::level::level_enum parse_log_level(const std::string& text);

// level as parse_log_level(); format: "text" (or the Python bridge's "standard") or
// "json" (one JSON object per line). Throws ConfigError for anything else.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace smiles::bridge
