#include "env_config.h"

#include <charconv>
#include <cstdlib>

#include "smiles/core/error.h"

namespace smiles::bridge {

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

int int_from(const Environment& env, std::string_view name, int fallback, int lo, int hi) {
  const auto text = env(name);
  if (!text || text->empty()) return fallback;
  int value = 0;
  const auto* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value < lo || value > hi) {
    throw ConfigError(std::string(name) + " must be a whole number from " + std::to_string(lo) +
                      " to " + std::to_string(hi) + ", got '" + *text + "'");
  }
  return value;
}

std::string timezone_from(const Environment& env) {
  const auto tz = env("TIMEZONE");
  return tz && !tz->empty() ? *tz : "UTC";
}

storage::DatabaseConfig database_config_from(const Environment& env) {
  storage::DatabaseConfig c;
  auto text = [&](std::string_view name, std::string& target) {
    if (auto v = env(name); v && !v->empty()) target = *v;
  };
  text("DATABASE_URL", c.url);
  text("DB_HOST", c.host);
  c.port = int_from(env, "DB_PORT", c.port, 1, 65535);
  text("DB_NAME", c.name);
  text("DB_USER", c.user);
  text("DB_PASSWORD", c.password);
  c.pool_size = int_from(env, "DB_POOL_SIZE", c.pool_size, 1, 1000);
  c.max_overflow = int_from(env, "DB_MAX_OVERFLOW", c.max_overflow, 0, 1000);
  return c;
}

}  // namespace smiles::bridge
