// The process environment, the only place that reads it. What the variables mean
// is defined once in serve_config.h (kSettings).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace smiles::bridge {

// Looks up one variable; injectable so tests need not touch the real environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

}  // namespace smiles::bridge
