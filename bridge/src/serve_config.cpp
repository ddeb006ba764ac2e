#include "serve_config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "smiles/api/router.h"
#include "smiles/core/error.h"
#include "smiles/core/time.h"

namespace smiles::bridge {

namespace {

const Setting& setting(std::string_view env) {
  for (const auto& s : kSettings) {
    if (s.env == env) return s;
  }
  throw std::logic_error("unknown setting " + std::string(env));
}

struct Reader {
  const SettingLookup& lookup;

  std::optional<std::pair<std::string, std::string>> raw(std::string_view env) const {
    auto v = lookup(setting(env));
    if (v && v->first.empty()) return std::nullopt;
    return v;
  }
  std::string text(std::string_view env, std::string fallback) const {
    auto v = raw(env);
    return v ? v->first : std::move(fallback);
  }
  // Only typed settings (numbers, booleans) come here, and none of them is a secret.
  [[noreturn]] static void bad(const std::pair<std::string, std::string>& v,
                               const std::string& what) {
    throw ConfigError(v.second + " " + what + ", got '" + v.first + "'");
  }
  long integer(std::string_view env, long fallback, long lo, long hi) const {
    auto v = raw(env);
    if (!v) return fallback;
    long n = 0;
    const auto* end = v->first.data() + v->first.size();
    auto [ptr, ec] = std::from_chars(v->first.data(), end, n);
    if (ec != std::errc() || ptr != end || n < lo || n > hi) {
      bad(*v, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    return n;
  }
  double seconds(std::string_view env, double fallback, double lo, double hi) const {
    auto v = raw(env);
    if (!v) return fallback;
    double d = 0;
    const auto* end = v->first.data() + v->first.size();
    auto [ptr, ec] = std::from_chars(v->first.data(), end, d);
    if (ec != std::errc() || ptr != end || !std::isfinite(d) || d < lo || d > hi) {
      bad(*v, "must be a number of seconds from " + std::to_string(lo).substr(0, 5) + " to " +
                  std::to_string(static_cast<long>(hi)));
    }
    return d;
  }
  bool boolean(std::string_view env, bool fallback) const {
    auto v = raw(env);
    if (!v) return fallback;
    std::string s = v->first;
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return false;
    bad(*v, "must be true or false");
  }
};

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds{std::llround(seconds * 1000)};
}

std::string default_name(const protocol::DtuAddress& a) {
  std::string base = a.transport == protocol::Transport::kTcp
                         ? a.host
                         : a.device.substr(a.device.find_last_of('/') + 1);
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return base.empty() ? "dtu" : base;
}

// INFLUXDB_*, as the Python bridge named them (and INFLUXDB_API). The host is checked
// when given, even while the output is off, as the Python bridge did.
std::optional<api::InfluxOptions> influx_options_from(const Reader& r) {
  std::optional<api::InfluxUrl> url;
  if (auto host = r.raw("INFLUXDB_HOST")) {
    url = api::parse_influx_url(host->first);
    if (!url) {
      throw ConfigError(host->second +
                        " must be an http:// or https:// URL with a host and an optional port "
                        "and path (no user, query or spaces), e.g. http://influxdb:8086, got '" +
                        host->first + "'");
    }
  }
  if (!r.boolean("INFLUXDB_ENABLED", false)) return std::nullopt;
  if (!url) {
    throw ConfigError(
        "INFLUXDB_ENABLED=true needs INFLUXDB_HOST, the InfluxDB URL, e.g. http://influxdb:8086");
  }
  api::InfluxOptions o;
  o.url = *url;
  if (auto api = r.raw("INFLUXDB_API")) {
    const auto parsed = api::parse_influx_api(api->first);
    if (!parsed) Reader::bad(*api, "must be v1, v2 or v3");
    o.api = *parsed;
  }
  o.database = r.text("INFLUXDB_DATABASE", o.database);
  o.org = r.text("INFLUXDB_ORG", "");
  o.token = r.text("INFLUXDB_TOKEN", "");
  // Header and query values: one line each. No value is echoed (the token is a secret).
  for (const char* name : {"INFLUXDB_TOKEN", "INFLUXDB_DATABASE", "INFLUXDB_ORG"}) {
    if (auto v = r.raw(name); v && v->first.find_first_of("\r\n") != std::string::npos) {
      throw ConfigError(v->second + " must be one line");
    }
  }
  return o;
}

}  // namespace

std::vector<DtuConfig> parse_dtu_list(std::string_view text, std::string_view source) {
  std::vector<DtuConfig> out;
  std::set<std::string> names;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find_first_of(", \t\n", pos);
    const std::string_view item =
        text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (item.empty()) continue;
    DtuConfig dtu;
    const auto eq = item.find('=');
    const auto scheme = item.find("://");
    std::string_view url = item;
    if (eq != std::string_view::npos && (scheme == std::string_view::npos || eq < scheme)) {
      dtu.name = std::string(item.substr(0, eq));
      url = item.substr(eq + 1);
      if (dtu.name.empty())
        throw ConfigError(std::string(source) + ": empty DTU name in '" + std::string(item) + "'");
    }
    try {
      dtu.address = protocol::parse_dtu_address(url);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(source) + ": " + e.what());
    }
    if (dtu.name.empty()) dtu.name = default_name(dtu.address);
    if (!names.insert(dtu.name).second) {
      throw ConfigError(std::string(source) + ": DTU name '" + dtu.name + "' is used twice");
    }
    out.push_back(std::move(dtu));
  }
  return out;
}

SettingLookup settings_lookup(std::map<std::string, std::string> flags, Environment env) {
  return [flags = std::move(flags), env = std::move(env)](
             const Setting& s) -> std::optional<std::pair<std::string, std::string>> {
    if (const auto it = flags.find(std::string(s.flag)); it != flags.end()) {
      return std::make_pair(it->second, std::string(s.flag));
    }
    if (auto v = env(s.env)) return std::make_pair(*v, std::string(s.env));
    return std::nullopt;
  };
}

storage::DatabaseConfig database_config_from(const SettingLookup& lookup) {
  const Reader r{lookup};
  if (auto type = r.raw("DB_TYPE")) {
    std::string t = type->first;
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t != "postgres" && t != "postgresql") {
      throw ConfigError(type->second + " is '" + type->first +
                        "': hoymiles-smiles keeps its readings in PostgreSQL only; point "
                        "DATABASE_URL or DB_HOST at a PostgreSQL server (MIGRATION.md says how "
                        "to bring data across)");
    }
  }
  storage::DatabaseConfig d;
  d.url = r.text("DATABASE_URL", "");
  d.host = r.text("DB_HOST", d.host);
  d.port = static_cast<int>(r.integer("DB_PORT", 5432, 1, 65535));
  d.name = r.text("DB_NAME", d.name);
  d.user = r.text("DB_USER", d.user);
  d.password = r.text("DB_PASSWORD", "");
  d.pool_size = static_cast<int>(r.integer("DB_POOL_SIZE", 5, 1, 1000));
  d.max_overflow = static_cast<int>(r.integer("DB_MAX_OVERFLOW", 10, 0, 1000));
  const auto timeout = r.integer("DB_TIMEOUT", 5, 2, 3600);
  d.connect_timeout = std::chrono::seconds{timeout};
  return d;
}

storage::ProductionRules production_rules_from(const SettingLookup& lookup) {
  const Reader r{lookup};
  storage::ProductionRules p;
  p.reset_hour = static_cast<int>(r.integer("RESET_HOUR", 0, 0, 23));
  p.timezone = r.text("TIMEZONE", "UTC");
  return p;
}

ServeConfig serve_config_from(const SettingLookup& lookup) {
  const Reader r{lookup};
  ServeConfig c;
  c.database = database_config_from(lookup);
  // serve bounds every call (a hung server must not stop polling); db and import
  // run migrations and bulk loads that take as long as they take.
  c.database.call_timeout = c.database.connect_timeout;
  c.auto_migrate = r.boolean("DB_AUTO_MIGRATE", false);

  if (auto list = r.raw("DTUS")) c.dtus = parse_dtu_list(list->first, list->second);
  const std::string name = r.text("DTU_NAME", "DTU");
  if (auto host = r.raw("DTU_HOST")) {
    DtuConfig d{name, {}};
    d.address.transport = protocol::Transport::kTcp;
    d.address.host = host->first;
    d.address.port = static_cast<std::uint16_t>(r.integer("DTU_PORT", 502, 1, 65535));
    d.address.unit = static_cast<std::uint8_t>(r.integer("MODBUS_UNIT_ID", 1, 0, 255));
    c.dtus.push_back(d);
  }
  if (auto device = r.raw("DTU_SERIAL_PORT")) {
    DtuConfig d{r.raw("DTU_HOST") ? name + "_rtu" : name, {}};
    d.address.transport = protocol::Transport::kRtu;
    d.address.device = device->first;
    d.address.baud = static_cast<int>(r.integer("DTU_BAUD", 9600, 1200, 921600));
    d.address.unit = static_cast<std::uint8_t>(r.integer("MODBUS_UNIT_ID", 101, 1, 255));
    c.dtus.push_back(d);
  }
  if (c.dtus.empty()) {
    throw ConfigError(
        "no DTU configured: set DTU_HOST (Modbus TCP), DTU_SERIAL_PORT (RS485) or DTUS "
        "(several, named)");
  }
  std::set<std::string> names;
  for (const auto& d : c.dtus) {
    if (!names.insert(d.name).second) throw ConfigError("DTU name '" + d.name + "' is used twice");
  }

  c.transport.response_timeout = ms(r.seconds("COMM_TIMEOUT", 3, 0.05, 120));
  c.client.retries = static_cast<int>(r.integer("COMM_RETRIES", 2, 0, 10));
  c.client.reconnect_delay = ms(r.seconds("COMM_RECONNECT_DELAY", 1, 0, 3600));
  c.client.reconnect_delay_max = ms(r.seconds("COMM_RECONNECT_DELAY_MAX", 60, 0, 86400));
  if (c.client.reconnect_delay_max < c.client.reconnect_delay) {
    throw ConfigError("COMM_RECONNECT_DELAY_MAX must not be below COMM_RECONNECT_DELAY");
  }
  c.client.min_request_gap = std::chrono::milliseconds{r.integer("COMM_REQUEST_GAP", 0, 0, 10000)};
  c.query_period = ms(r.seconds("QUERY_PERIOD", 60, 0.1, 86400));
  c.production = production_rules_from(lookup);
  c.http_host = r.text("HEALTH_HOST", c.http_host);
  c.http_port = static_cast<std::uint16_t>(r.integer("HEALTH_PORT", 8080, 0, 65535));
  c.health_stale = std::chrono::seconds{r.integer("HEALTH_STALE_SECONDS", 300, 1, 86400L * 7)};
  c.http_read_timeout = std::chrono::seconds{r.integer("HTTP_READ_TIMEOUT", 15, 1, 3600)};
  c.http_max_connections = static_cast<int>(r.integer("HTTP_MAX_CONNECTIONS", 256, 1, 100000));
  c.http_max_connections_set = r.raw("HTTP_MAX_CONNECTIONS").has_value();
  c.http_max_connections_per_client =
      static_cast<int>(r.integer("HTTP_MAX_CONNECTIONS_PER_CLIENT", 64, 1, 100000));
  c.http_threads = static_cast<int>(r.integer("HTTP_THREADS", 8, 1, 256));
  c.http_event_clients = static_cast<int>(r.integer("HTTP_EVENT_CLIENTS", 32, 1, 1000));
  c.api_token = r.text("API_TOKEN", "");
  c.protect_all = r.boolean("PROTECT_ALL", false);
  // Set but empty turns the header off; unset keeps the default.
  if (auto origin = r.lookup(setting("CORS_ALLOW_ORIGIN"))) {
    c.cors_origin = origin->first;
    if (c.cors_origin.find_first_of("\r\n") != std::string::npos) {
      throw ConfigError(origin->second + " must be one line");
    }
  }
  if (c.protect_all && c.api_token.empty()) {
    throw ConfigError("PROTECT_ALL=true needs API_TOKEN to be set");
  }
  c.data_dir = r.text("DATA_DIR", c.data_dir.string());
  c.spool_max_bytes = static_cast<std::uint64_t>(r.integer("SPOOL_MAX_MB", 256, 1, 1 << 20)) << 20;
  c.influx = influx_options_from(r);
  if (auto clock = r.raw("SIMULATED_CLOCK")) {
    const auto& text = clock->first;
    const auto a = text.find(',');
    const auto b = a == std::string::npos ? a : text.find(',', a + 1);
    std::optional<Timestamp> start, anchor;
    double speed = -1;
    if (b != std::string::npos) {
      start = parse_iso8601(text.substr(0, a));
      anchor = parse_iso8601(text.substr(b + 1));
      const auto s = text.substr(a + 1, b - a - 1);
      const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), speed);
      if (ec != std::errc() || ptr != s.data() + s.size()) speed = -1;
    }
    if (!start || !anchor || !(speed >= 0) || speed > 100000) {
      throw ConfigError(clock->second +
                        " must be START,SPEED,ANCHOR (two ISO-8601 times and a speed 0-100000), "
                        "got '" +
                        text + "'");
    }
    c.clock = SimulatedClock{*start, speed, *anchor};
  }
  return c;
}

std::string resolve_bind_host(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return host;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    throw ConfigError("HEALTH_HOST '" + host +
                      "' is neither an IP address nor a host name that resolves (" +
                      gai_strerror(rc) + ")");
  }
  std::string first_v4, first_any;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (inet_ntop(a->ai_family, where, text, sizeof text) == nullptr) continue;
    if (first_any.empty()) first_any = text;
    if (a->ai_family == AF_INET && first_v4.empty()) first_v4 = text;
  }
  freeaddrinfo(found);
  if (first_any.empty()) throw ConfigError("HEALTH_HOST '" + host + "' resolves to no address");
  return first_v4.empty() ? first_any : first_v4;
}

std::optional<std::string> fit_open_files(ServeConfig& config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1 << 20);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto allowed = static_cast<long long>(limit.rlim_cur);
  // Database pool, DTU sockets, push receivers, spool and state files, stdio, epoll.
  const long long others = config.database.pool_size + config.database.max_overflow +
                           static_cast<long long>(config.dtus.size()) + 8 + 32;
  constexpr long long kMinReserve = 16;  // sockets beyond the caps, for probes
  std::optional<std::string> note;
  const long long needed = config.http_max_connections + kMinReserve + others;
  const auto limit_text = std::to_string(allowed) + " open files are allowed (ulimit -n)";
  if (needed > allowed) {
    if (config.http_max_connections_set) {
      throw ConfigError("HTTP_MAX_CONNECTIONS=" + std::to_string(config.http_max_connections) +
                        " needs up to " + std::to_string(needed) + " open files, but only " +
                        limit_text + ": lower HTTP_MAX_CONNECTIONS or raise the limit");
    }
    const long long fit = allowed - kMinReserve - others;
    if (fit < 4) {
      throw ConfigError("only " + limit_text +
                        ", too few to serve HTTP next to the database pool; raise the limit");
    }
    config.http_max_connections = static_cast<int>(fit);
    note = "only " + limit_text + ": HTTP_MAX_CONNECTIONS lowered from its default to " +
           std::to_string(fit);
  }
  // Sockets beyond the caps are read once, briefly, so that /health stays answered in
  // a flood: as many as the limit leaves room for, up to max(HTTP_MAX_CONNECTIONS, 1024).
  config.http_reserve_connections = static_cast<int>(std::min<long long>(
      std::max(config.http_max_connections, 1024), allowed - others - config.http_max_connections));
  return note;
}

}  // namespace smiles::bridge
