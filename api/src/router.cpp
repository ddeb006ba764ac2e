#include "smiles/api/router.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "router_internal.h"
#include "smiles/api/json_views.h"
#include "smiles/core/error.h"
#include "smiles/core/serial.h"
#include "smiles/core/time.h"
#include "smiles/storage/schema.h"

namespace smiles::api {

namespace {

using nlohmann::json;

// "Bearer <token>", the scheme case-insensitive (RFC 7235), or nullopt.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  auto rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    const auto next = path.find('/', pos);
    const auto part = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!part.empty()) parts.push_back(part);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return parts;
}

// Query string -> map; nullopt on malformed percent-encoding.
std::optional<std::map<std::string, std::string>> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < query.size()) {
    const auto amp = query.find('&', pos);
    const std::string pair =
        query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? query.size() : amp + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq));
    auto value = url_decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    out[*key] = *value;
  }
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

}  // namespace

Response json_response(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  // Paths and parameters are echoed in error messages; bytes that are not UTF-8
  // become U+FFFD instead of failing the answer.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

Response error_response(int status, const std::string& code, const std::string& message) {
  return json_response({{"error", {{"code", code}, {"message", message}}}}, status);
}

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      unsigned v = 0;
      auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, v, 16);
      if (ec != std::errc() || ptr != text.data() + i + 3) return std::nullopt;
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Router::Router(const LiveState& live, storage::ReadModel& history,
               std::function<BackendStatus()> backend, std::function<std::string()> metrics_text,
               RouterOptions options, Clock clock)
    : live_(live),
      history_(history),
      backend_(std::move(backend)),
      metrics_text_(std::move(metrics_text)),
      options_(std::move(options)),
      clock_(std::move(clock)) {}

// The route table: every endpoint once, its pattern ({name} matches one path segment,
// empty segments are ignored) is also its metrics label.
struct Router::Route {
  std::string_view method;  // "GET" (HEAD too) or "POST"
  std::string_view pattern;
  Access access = Access::kToken;
  Response (Router::*handler)(const Call&) const = nullptr;
  std::vector<std::string> segments;  // the pattern split once, at start-up
};

const std::vector<Router::Route>& Router::routes() {
  using Handler = Response (Router::*)(const Call&) const;
  auto row = [](std::string_view method, std::string_view pattern, Access access, Handler handler) {
    return Route{method, pattern, access, handler, split_path(std::string(pattern))};
  };
  constexpr auto kProbe = Access::kProbe;
  constexpr auto kToken = Access::kToken;
  static const std::vector<Route> table = {
      row("GET", "/", Access::kPublic, &Router::dashboard),
      row("GET", "/health", kProbe, &Router::health),
      row("GET", "/ready", kProbe, &Router::ready),
      row("GET", "/metrics", kProbe, &Router::metrics),
      row("GET", "/stats", kToken, &Router::stats),
      row("GET", "/api/inverters", kToken, &Router::inverters),
      row("GET", "/api/ports", kToken, &Router::ports),
      row("GET", "/api/production/current", kToken, &Router::production_current),
      row("GET", "/api/production/summary", kToken, &Router::production_summary),
      row("GET", "/api/energy", kToken, &Router::energy),
      row("GET", "/api/power", kToken, &Router::power),
      row("GET", "/api/events", kToken, &Router::events),
      row("GET", "/api/inverters/{serial}", kToken, &Router::inverter),
      row("GET", "/api/inverters/{serial}/history", kToken, &Router::inverter_history),
      row("GET", "/api/inverters/{serial}/ports", kToken, &Router::inverter_ports),
      row("GET", "/api/inverters/{serial}/ports/{port}/history", kToken, &Router::port_history),
      row("POST", kPushRegisterPath, kToken, &Router::register_push),
  };
  return table;
}

const Router::Route* Router::match(std::string_view path, std::vector<std::string>* params) {
  const auto segments = split_path(std::string(path.substr(0, path.find('?'))));
  for (const auto& route : routes()) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> found;
    bool ok = true;
    for (std::size_t i = 0; ok && i < segments.size(); ++i) {
      if (route.segments[i].starts_with('{')) {
        found.push_back(segments[i]);
      } else {
        ok = route.segments[i] == segments[i];
      }
    }
    if (!ok) continue;
    if (params != nullptr) *params = std::move(found);
    return &route;
  }
  return nullptr;
}

std::string_view Router::route_label(std::string_view target) {
  const auto* route = match(target, nullptr);
  return route != nullptr ? route->pattern : std::string_view("other");
}

const std::vector<std::string>& Router::route_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> out;
    for (const auto& r : routes()) out.emplace_back(r.pattern);
    out.emplace_back("other");
    return out;
  }();
  return labels;
}

std::string_view legacy_dtu_status(std::string_view state) {
  if (state == "ok") return "online";
  if (state == "starting") return "unknown";
  return "error";
}

Response Router::handle(const Request& request) const {
  const auto query_at = request.target.find('?');
  const std::string path = request.target.substr(0, query_at);
  Response r = dispatch(request, path,
                        query_at == std::string::npos ? "" : request.target.substr(query_at + 1));
  if (!options_.cors_origin.empty() && path.starts_with("/api/")) {
    r.headers.emplace_back("Access-Control-Allow-Origin", options_.cors_origin);
  }
  return r;
}

Response Router::dispatch(const Request& request, const std::string& path,
                          const std::string& query) const {
  Call call;
  call.request = &request;
  const Route* route = match(path, &call.params);
  Response r = answer(route, call, path, query);
  if (route != nullptr) r.route = route->pattern;
  return r;
}

Response Router::answer(const Route* route, Call& call, const std::string& path,
                        const std::string& query) const {
  const Request& request = *call.request;
  const bool push_path = route != nullptr && route->method == "POST";
  const bool allowed =
      push_path ? request.method == "POST" : request.method == "GET" || request.method == "HEAD";
  if (!allowed) {
    auto r = error_response(
        405, "method_not_allowed",
        push_path ? "only POST is supported here" : "only GET and HEAD are supported");
    r.headers.emplace_back("Allow", push_path ? "POST" : "GET, HEAD");
    return r;
  }
  // The page holds no data (it asks for the token itself); probes are open unless
  // PROTECT_ALL.
  const Access access = route != nullptr ? route->access : Access::kToken;
  const bool needs_token =
      access == Access::kToken || (access == Access::kProbe && options_.protect_all);
  if (!options_.api_token.empty() && needs_token) {
    const auto token = bearer_token(request.authorization);
    if (!token || !constant_time_equal(std::string(*token), options_.api_token)) {
      auto r = error_response(401, "unauthorized", "missing or wrong bearer token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
  }
  try {
    if (route == nullptr || route->access == Access::kToken) {
      auto parsed = parse_query(query);
      if (!parsed) return error_response(400, "bad_request", "malformed query string");
      call.query = std::move(*parsed);
    }
    if (route == nullptr) return error_response(404, "not_found", "no such endpoint: " + path);
    call.now = clock_();
    return (this->*(route->handler))(call);
  } catch (const IoError& e) {
    return error_response(503, "database_unavailable", e.what());
  } catch (const ConfigError& e) {
    return error_response(400, "invalid_parameter", e.what());
  } catch (const std::exception& e) {
    return error_response(500, "internal_error", e.what());
  }
}

}  // namespace smiles::api
