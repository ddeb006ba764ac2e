#include "logging.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "smiles/core/error.h"
#include "smiles/core/time.h"

namespace smiles::bridge {

namespace {

// {"time": "...Z", "level": "info", "message": "..."} per line, properly escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const nlohmann::json line = {
        {"time", format_iso8601_utc(std::chrono::time_point_cast<Timestamp::duration>(msg.time))},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"message", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

spdlog::level::level_enum parse_log_level(const std::string& text) {
  // The Python bridge's names (DEBUG, INFO, WARNING, ERROR, CRITICAL) work too.
  const std::string l = lower(text);
  for (const auto& [name, level] :
       std::initializer_list<std::pair<const char*, spdlog::level::level_enum>>{
           {"trace", spdlog::level::trace},
           {"debug", spdlog::level::debug},
           {"info", spdlog::level::info},
           {"warn", spdlog::level::warn},
           {"warning", spdlog::level::warn},
           {"error", spdlog::level::err},
           {"critical", spdlog::level::critical},
           {"off", spdlog::level::off}}) {
    if (l == name) return level;
  }
  throw ConfigError("LOG_LEVEL must be trace, debug, info, warn, error, critical or off, got '" +
                    text + "'");
}

void setup_logging(const std::string& level, const std::string& format) {
  const auto threshold = parse_log_level(level);
  const std::string f = lower(format);
  auto logger = spdlog::stderr_color_mt("hoymiles-smiles");
  if (f == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (f == "text" || f == "standard") {  // "standard": the Python bridge's name
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    throw ConfigError("LOG_FORMAT must be text or json, got '" + format + "'");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(threshold);
}

}  // namespace smiles::bridge
