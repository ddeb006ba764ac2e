// HTTP request -> response as a pure function of the request and the state it reads
// (LiveState in memory, ReadModel for history and stats). No sockets here: the
// Beast session in http_server.cpp only moves bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "smiles/api/event_feed.h"
#include "smiles/api/live_state.h"
#include "smiles/core/time.h"
#include "smiles/storage/read_model.h"

namespace smiles::api {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // path and query, e.g. /api/inverters/1161.../history?limit=10
  std::string authorization;
  std::string body;  // POST only
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The route pattern that answered (the metrics label); "other" for a path no route
  // matches and for answers the server gives itself (limits, malformed requests).
  std::string_view route = "other";
  // Set for an event stream (GET /api/events): the server sends the headers, then
  // each message of the subscription as a Server-Sent Event, until the client goes.
  std::shared_ptr<EventSubscription> events;
};

// Everything /health, /ready and /stats report besides the DTUs.
struct BackendStatus {
  bool database_connected = false;       // reachable (the watcher's probe answers)
  bool database_writes_failing = false;  // reachable or not, the last write failed
  std::string database_error;
  bool schema_current = false;
  int pool_idle = 0;
  int pool_in_use = 0;
  std::uint64_t spool_bytes = 0;
  std::uint64_t spool_readings = 0;
  std::uint64_t spool_dropped = 0;  // readings lost: spool full or its disk failing
  std::string spool_error;          // why the spool last refused a reading
};

struct RouterOptions {
  std::string version;
  Timestamp start_time{};
  std::chrono::seconds health_stale{300};
  std::string api_token;     // empty: no authentication
  bool protect_all = false;  // token also on /health, /ready, /metrics
  // Access-Control-Allow-Origin of /api/* answers (the Python bridge sent "*"); empty:
  // no header.
  std::string cors_origin = "*";
  // Adds to the /health document (e.g. the push receivers). Optional.
  std::function<void(nlohmann::json& health)> health_extra;
  // POST /api/websocket/register: the body -> the answer. Unset: 404.
  std::function<Response(const std::string& body)> register_push;
  // GET /api/events: a subscription to the live feed, nullptr when it is full. Unset: 404.
  std::function<std::shared_ptr<EventSubscription>()> subscribe_events;
};

// The Python bridge's DTU status words ("online", "error", "unknown") for our states
// (ok, starting, not_mapped, error, backoff).
std::string_view legacy_dtu_status(std::string_view state);

class Router {
 public:
  using Clock = std::function<Timestamp()>;
  Router(
      const LiveState& live, storage::ReadModel& history, std::function<BackendStatus()> backend,
      std::function<std::string()> metrics_text, RouterOptions options,
      Clock clock = [] { return WallClock::now(); });

  [[nodiscard]] Response handle(const Request& request) const;

  // Bounded label for metrics: the route pattern the path matches, or "other"; never
  // the raw path. handle() puts it in Response::route.
  // The view points into the route table (or is "other"): valid for the program.
  [[nodiscard]] static std::string_view route_label(std::string_view target);
  // Every value route_label() can return.
  [[nodiscard]] static const std::vector<std::string>& route_labels();

 private:
  // Who may call a route: anyone (the dashboard page), probes (open unless
  // PROTECT_ALL), or only with the token when API_TOKEN is set.
  enum class Access { kPublic, kProbe, kToken };
  struct Route;
  struct Call;
  // The route table (router.cpp), and the route a path matches with its {params}.
  static const std::vector<Route>& routes();
  static const Route* match(std::string_view path, std::vector<std::string>* params);
  static std::variant<std::string, Response> serial_of(const Call& call);

  Response dispatch(const Request& request, const std::string& path,
                    const std::string& query) const;
  // The answer of `route` (nullptr: none matched): method, token, query, handler.
  Response answer(const Route* route, Call& call, const std::string& path,
                  const std::string& query) const;
  // One per route.
  Response health(const Call& call) const;
  Response ready(const Call& call) const;
  Response metrics(const Call& call) const;
  Response stats(const Call& call) const;
  Response inverters(const Call& call) const;
  Response ports(const Call& call) const;
  Response production_current(const Call& call) const;
  Response production_summary(const Call& call) const;
  Response inverter(const Call& call) const;
  Response inverter_history(const Call& call) const;
  Response inverter_ports(const Call& call) const;
  Response port_history(const Call& call) const;
  Response register_push(const Call& call) const;
  // The dashboard and its data (router_history.cpp).
  Response dashboard(const Call& call) const;
  Response energy(const Call& call) const;
  Response power(const Call& call) const;
  Response events(const Call& call) const;

  // JSON of the latest values, rebuilt only when LiveState changes.
  struct CachedBody {
    std::uint64_t version = ~0ULL;
    std::string day;
    std::string body;
  };
  std::string cached(CachedBody& cache, Timestamp now,
                     const std::function<std::string()>& build) const;
  mutable std::mutex cache_mutex_;
  mutable CachedBody inverters_cache_;
  mutable CachedBody ports_cache_;

  const LiveState& live_;
  storage::ReadModel& history_;
  std::function<BackendStatus()> backend_;
  std::function<std::string()> metrics_text_;
  RouterOptions options_;
  Clock clock_;
};

// Where the Home Assistant component registers its WebSocket for push updates.
inline constexpr const char* kPushRegisterPath = "/api/websocket/register";

// JSON error body: {"error": {"code": ..., "message": ...}}.
Response error_response(int status, const std::string& code, const std::string& message);

// Percent-decoding of query values (exposed for tests); times go through
// core/time.h's parse_iso8601.
std::optional<std::string> url_decode(std::string_view text);

}  // namespace smiles::api
