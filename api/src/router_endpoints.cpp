// The router's endpoints: one member function per route of the table (router.cpp).
#include "router_internal.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "smiles/api/json_views.h"
#include "smiles/core/error.h"
#include "smiles/core/serial.h"
#include "smiles/core/time.h"
#include "smiles/storage/schema.h"

namespace smiles::api {

namespace {

using nlohmann::json;

json nullable_time(const std::optional<Timestamp>& t) {
  return t ? json(format_iso8601_utc(*t)) : json(nullptr);
}

// A port of a served view, saying whether its energy values are held over.
json served_port(const InverterView& v, std::size_t i) {
  json j = port_json(v.latest.ports[i], v.timestamp);
  j["energy_held"] = i < v.energy_held.size() && v.energy_held[i];
  return j;
}

json inverter_object(const InverterView& v) {
  json j = inverter_json(v.latest, v.dtu_name, v.timestamp);
  j["first_seen"] = format_iso8601_utc(v.first_seen);
  j["last_seen"] = format_iso8601_utc(v.last_seen);
  json ports = json::array();
  for (std::size_t i = 0; i < v.latest.ports.size(); ++i) ports.push_back(served_port(v, i));
  j["ports"] = std::move(ports);
  return j;
}

Response energy_unknown() {
  return error_response(503, "energy_unknown",
                        "no energy values yet: none were kept from before, and no DTU has sent "
                        "a good reading since the start");
}

// limit/since/until, or an error response.
std::variant<storage::HistoryQuery, Response> history_query(
    const std::map<std::string, std::string>& q) {
  storage::HistoryQuery h;
  if (const auto it = q.find("limit"); it != q.end()) {
    long n = 0;
    const auto* end = it->second.data() + it->second.size();
    auto [ptr, ec] = std::from_chars(it->second.data(), end, n);
    if (it->second.empty() || ec != std::errc() || ptr != end || n < 1 ||
        n > storage::kMaxHistoryLimit) {
      return error_response(
          400, "invalid_parameter",
          "limit must be a whole number from 1 to " + std::to_string(storage::kMaxHistoryLimit));
    }
    h.limit = static_cast<int>(n);
  }
  for (const char* name : {"since", "until"}) {
    const auto it = q.find(name);
    if (it == q.end()) continue;
    const auto t = parse_iso8601(it->second);
    if (!t) {
      return error_response(400, "invalid_parameter",
                            std::string(name) + " must be an ISO-8601 time from " +
                                std::to_string(kMinYear) + " to " + std::to_string(kMaxYear) +
                                ", e.g. 2026-06-01T12:00:00Z");
    }
    (std::string(name) == "since" ? h.since : h.until) = t;
  }
  if (h.since && h.until && *h.since > *h.until) {
    return error_response(400, "invalid_parameter", "since is after until");
  }
  return h;
}

}  // namespace

Response Router::metrics(const Call&) const {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_text_();
  return r;
}

Response Router::register_push(const Call& call) const {
  if (!options_.register_push) {
    return error_response(404, "not_found", "push is not enabled in this bridge");
  }
  return options_.register_push(call.request->body);
}

Response Router::inverters(const Call& call) const {
  Response r;
  r.body = cached(inverters_cache_, call.now, [this, now = call.now] {
    json list = json::array();
    for (const auto& v : live_.inverters(now)) list.push_back(inverter_object(v));
    return list.dump();
  });
  return r;
}

Response Router::ports(const Call& call) const {
  Response r;
  r.body = cached(ports_cache_, call.now, [this, now = call.now] {
    json list = json::array();
    for (const auto& v : live_.inverters(now)) {
      for (std::size_t i = 0; i < v.latest.ports.size(); ++i) list.push_back(served_port(v, i));
    }
    return list.dump();
  });
  return r;
}

Response Router::production_current(const Call& call) const {
  if (!live_.energy_known()) return energy_unknown();
  json list = json::array();
  for (const auto& p : live_.production(call.now)) {
    list.push_back({{"serial_number", p.serial_number},
                    {"port_number", p.port_number},
                    {"today_production", p.today_production_wh},
                    {"total_production", p.total_production_wh},
                    {"last_updated", format_iso8601_utc(p.last_updated)},
                    {"energy_held", p.held}});
  }
  return json_response(list);
}

Response Router::production_summary(const Call& call) const {
  if (!live_.energy_known()) return energy_unknown();
  const auto s = live_.summary(call.now);
  return json_response({{"power_w", std::round(s.power_w * 10) / 10},
                        {"today_wh", s.today_wh},
                        {"total_wh", s.total_wh},
                        {"total_kwh", std::round(static_cast<double>(s.total_wh)) / 1000.0},
                        {"inverters_producing", s.inverters_producing},
                        {"updated_at", nullable_time(s.updated_at)},
                        {"ports_energy_held", s.ports_held}});
}

std::variant<std::string, Response> Router::serial_of(const Call& call) {
  const auto& text = call.params.at(0);
  const auto serial = normalize_serial(text);
  if (!serial) {
    return error_response(400, "invalid_serial",
                          "serial numbers are 12 hex digits, got '" + text.substr(0, 40) + "'");
  }
  return *serial;
}

Response Router::inverter(const Call& call) const {
  const auto serial = serial_of(call);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  const auto& s = std::get<std::string>(serial);
  const auto view = live_.inverter(s, call.now);
  if (!view) return error_response(404, "unknown_inverter", "no inverter " + s);
  return json_response(inverter_object(*view));
}

Response Router::inverter_history(const Call& call) const {
  const auto serial = serial_of(call);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  const auto& s = std::get<std::string>(serial);
  const auto q = history_query(call.query);
  if (const auto* err = std::get_if<Response>(&q)) return *err;
  const auto samples = history_.inverter_history(s, std::get<storage::HistoryQuery>(q));
  if (samples.empty() && !live_.inverter(s, call.now)) {
    return error_response(404, "unknown_inverter", "no inverter " + s);
  }
  Response r;
  r.body = inverter_history_json(samples);
  return r;
}

Response Router::inverter_ports(const Call& call) const {
  const auto serial = serial_of(call);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  const auto& s = std::get<std::string>(serial);
  const auto view = live_.inverter(s, call.now);
  if (!view) return error_response(404, "unknown_inverter", "no inverter " + s);
  json list = json::array();
  for (std::size_t i = 0; i < view->latest.ports.size(); ++i) list.push_back(served_port(*view, i));
  return json_response(list);
}

Response Router::port_history(const Call& call) const {
  const auto serial = serial_of(call);
  if (const auto* err = std::get_if<Response>(&serial)) return *err;
  int port = 0;
  const auto& text = call.params.at(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr != text.data() + text.size() || port < 1 || port > 99) {
    return error_response(400, "invalid_port", "port must be a number from 1 to 99");
  }
  const auto q = history_query(call.query);
  if (const auto* err = std::get_if<Response>(&q)) return *err;
  Response r;
  r.body = port_history_json(history_.port_history(std::get<std::string>(serial), port,
                                                   std::get<storage::HistoryQuery>(q)));
  return r;
}

std::string Router::cached(CachedBody& cache, Timestamp now,
                           const std::function<std::string()>& build) const {
  // "today" also changes with the production day, without a new reading.
  const auto version = live_.version();
  const auto day = live_.production_day(now);
  {
    std::lock_guard lock(cache_mutex_);
    if (cache.version == version && cache.day == day) return cache.body;
  }
  std::string body = build();
  std::lock_guard lock(cache_mutex_);
  cache.version = version;
  cache.day = day;
  cache.body = body;
  return body;
}

Response Router::health(const Call&) const {
  const Timestamp now = clock_();
  const BackendStatus backend = backend_();
  json dtus = json::object();
  bool any_recent = false;
  for (const auto& h : live_.health()) {
    std::optional<std::int64_t> since;
    if (h.last_success) {
      since = std::chrono::duration_cast<std::chrono::seconds>(now - *h.last_success).count();
      if (now - *h.last_success < options_.health_stale) any_recent = true;
    }
    dtus[h.name] = {{"status", legacy_dtu_status(h.status)},
                    {"state", h.status},
                    {"address", h.address},
                    {"last_successful_query", nullable_time(h.last_success)},
                    {"seconds_since_last_success", since ? json(*since) : json(nullptr)},
                    {"query_count", h.query_count},
                    {"error_count", h.error_count},
                    {"last_error", h.last_error.empty() ? json(nullptr) : json(h.last_error)},
                    {"last_error_time", nullable_time(h.last_error_time)}};
  }
  // Readings are safe while they reach the database or the spool.
  const bool storing = (backend.database_connected && !backend.database_writes_failing) ||
                       backend.spool_dropped == 0;
  const bool healthy = any_recent && storing;
  json database = {{"connected", backend.database_connected},
                   {"writes_failing", backend.database_writes_failing},
                   {"schema_current", backend.schema_current},
                   {"pool", {{"idle", backend.pool_idle}, {"in_use", backend.pool_in_use}}}};
  if (!backend.database_error.empty()) database["error"] = backend.database_error;
  json body = {
      {"healthy", healthy},
      {"status", healthy ? "healthy" : "unhealthy"},
      {"uptime_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(now - options_.start_time).count()},
      {"start_time", format_iso8601_utc(options_.start_time)},
      {"version", options_.version},
      {"database", database},
      {"spool",
       {{"bytes", backend.spool_bytes},
        {"readings", backend.spool_readings},
        {"dropped", backend.spool_dropped},
        {"error", backend.spool_error.empty() ? json(nullptr) : json(backend.spool_error)}}},
      {"dtus", dtus}};
  if (options_.health_extra) options_.health_extra(body);
  // 503 with the same body when not healthy, as the Python bridge answered: Home
  // Assistant then marks its entities unavailable instead of showing stale values.
  return json_response(body, healthy ? 200 : 503);
}

Response Router::ready(const Call&) const {
  const BackendStatus backend = backend_();
  json reasons = json::array();
  if (!backend.database_connected) reasons.push_back("database unreachable");
  if (backend.database_connected && backend.database_writes_failing) {
    reasons.push_back("database writes failing");
  }
  if (!backend.schema_current) reasons.push_back("schema not current");
  for (const auto& h : live_.health()) {
    if (!h.last_success) reasons.push_back("DTU " + h.name + " has not answered yet");
  }
  if (reasons.empty()) return json_response({{"ready", true}});
  return json_response({{"ready", false}, {"reasons", reasons}}, 503);
}

Response Router::stats(const Call&) const {
  const auto s = history_.stats();
  const BackendStatus backend = backend_();
  json tables = json::object();
  for (const auto& [name, rows] : s.table_rows) tables[name] = rows;
  auto rows = [&s](std::string_view table) {
    const auto it = s.table_rows.find(std::string(table));
    return it == s.table_rows.end() ? std::int64_t{0} : it->second;
  };
  return json_response(
      {{"total_records", s.total_records},
       {"rows_estimated", s.rows_estimated},
       {"database_size_bytes", s.database_size_bytes},
       {"tables", tables},
       {"oldest_reading", nullable_time(s.oldest_reading)},
       {"newest_reading", nullable_time(s.newest_reading)},
       {"spool", {{"bytes", backend.spool_bytes}, {"readings", backend.spool_readings}}},
       // The Python bridge's keys, for the sensors built on them.
       {"database_type", "POSTGRES"},
       {"production_cache_entries", rows(storage::schema::kProductionCache)},
       {"config_cache_entries", rows(storage::schema::kConfigCache)},
       {"metrics_entries", rows(storage::schema::kSystemMetrics)},
       {"inverter_data_entries", rows(storage::schema::kInverterData)},
       {"port_data_entries", rows(storage::schema::kPortData)},
       {"inverters_count", rows(storage::schema::kInverters)}});
}

}  // namespace smiles::api
