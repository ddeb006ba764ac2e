#include "logging.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

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

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_color_mt("hoymiles-smiles");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    throw ConfigError("LOG_FORMAT must be text or json, got '" + format + "'");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level == "warning" ? "warn" : level));
}

}  // namespace smiles::bridge
