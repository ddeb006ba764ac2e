// Logging setup for the executable (libraries never log).
#pragma once

#include <string>

namespace smiles::bridge {

// level: trace..off; format: "text" or "json" (one JSON object per line).
// Throws ConfigError for an unknown format.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace smiles::bridge
