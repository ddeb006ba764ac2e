// Configuration of `serve`: every setting has an environment variable (names kept
// from the Python bridge) and a flag that overrides it. kSettings is the one list
// of them: --help, parsing, and the .env.example check all read it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "env_config.h"
#include "smiles/api/influx_writer.h"
#include "smiles/hardware/modbus_register_reader.h"
#include "smiles/protocol/dtu_address.h"
#include "smiles/protocol/dtu_client.h"
#include "smiles/storage/database_config.h"
#include "smiles/storage/reading_writer.h"

namespace smiles::bridge {

struct Setting {
  std::string_view env;
  std::string_view flag;
  std::string_view default_text;  // as shown in --help ("" = unset)
  std::string_view help;
};

inline constexpr std::array<Setting, 46> kSettings{{
    {"DATABASE_URL", "--database-url", "", "PostgreSQL URL; when set, DB_* are ignored"},
    {"DB_HOST", "--db-host", "localhost", "PostgreSQL host"},
    {"DB_PORT", "--db-port", "5432", "PostgreSQL port"},
    {"DB_NAME", "--db-name", "hoymiles", "database name"},
    {"DB_USER", "--db-user", "hoymiles", "database user"},
    {"DB_PASSWORD", "--db-password", "", "database password"},
    {"DB_POOL_SIZE", "--db-pool-size", "5", "connections kept open"},
    {"DB_MAX_OVERFLOW", "--db-max-overflow", "10",
     "extra connections under load, closed after 30 s idle"},
    {"DB_TIMEOUT", "--db-timeout", "5",
     "seconds any database call may take (connect, query, write); a write cut off is "
     "spooled"},
    {"DB_AUTO_MIGRATE", "--db-auto-migrate", "false", "upgrade the schema at start (true/false)"},
    {"DB_TYPE", "--db-type", "postgres",
     "kept from the Python bridge: postgres (or postgresql); the readings live in PostgreSQL "
     "only"},
    {"DTUS", "--dtus", "",
     "several DTUs: name=URL entries separated by commas or spaces, e.g. "
     "roof=tcp://10.0.0.5:502?unit=1,garage=rtu:///dev/ttyUSB0?unit=101"},
    {"DTU_NAME", "--dtu-name", "DTU",
     "name of the single DTU set by DTU_HOST or DTU_SERIAL_PORT (the Home Assistant component "
     "looks up DTU)"},
    {"DTU_HOST", "--dtu-host", "", "one Modbus TCP DTU: host name or address"},
    {"DTU_PORT", "--dtu-port", "502", "its Modbus TCP port"},
    {"MODBUS_UNIT_ID", "--modbus-unit-id", "1 (TCP) / 101 (RTU)", "unit id of the single DTU"},
    {"DTU_SERIAL_PORT", "--dtu-serial-port", "", "one RS485 DTU: serial device, e.g. /dev/ttyUSB0"},
    {"DTU_BAUD", "--dtu-baud", "9600", "its baud rate"},
    {"COMM_TIMEOUT", "--comm-timeout", "3", "seconds to wait for each answer"},
    {"COMM_RETRIES", "--comm-retries", "2", "extra attempts per request"},
    {"COMM_RECONNECT_DELAY", "--comm-reconnect-delay", "1", "seconds before the first reconnect"},
    {"COMM_RECONNECT_DELAY_MAX", "--comm-reconnect-delay-max", "60",
     "longest reconnect delay in seconds (doubling from COMM_RECONNECT_DELAY)"},
    {"COMM_REQUEST_GAP", "--comm-request-gap", "0",
     "milliseconds between an answer and the next request (real DTUs: 50-200)"},
    {"QUERY_PERIOD", "--query-period", "60", "seconds between polls of each DTU"},
    {"RESET_HOUR", "--reset-hour", "0", "local hour at which \"today\" restarts"},
    {"TIMEZONE", "--timezone", "UTC", "IANA time zone for \"today\", e.g. Europe/Berlin"},
    {"HEALTH_HOST", "--health-host", "0.0.0.0",
     "HTTP bind address: an IP address, or a host name resolved at start"},
    {"HEALTH_PORT", "--health-port", "8080", "HTTP port"},
    {"HEALTH_STALE_SECONDS", "--health-stale-seconds", "300",
     "/health turns unhealthy when no DTU answered for this long"},
    {"HTTP_READ_TIMEOUT", "--http-read-timeout", "15",
     "seconds a client may take to send a request (and idle keep-alive)"},
    {"HTTP_THREADS", "--http-threads", "8",
     "threads answering HTTP requests (history queries wait on PostgreSQL); on a small "
     "machine that also runs PostgreSQL, its number of cores gives shorter worst-case "
     "latencies under load"},
    {"HTTP_MAX_CONNECTIONS", "--http-max-connections", "256",
     "open HTTP connections at most; beyond it only /health, /ready and /metrics are "
     "answered, the rest get 503"},
    {"HTTP_MAX_CONNECTIONS_PER_CLIENT", "--http-max-connections-per-client", "64",
     "open HTTP connections of one client address at most (same treatment beyond it)"},
    {"HTTP_EVENT_CLIENTS", "--http-event-clients", "32",
     "open live event streams (/api/events, one per dashboard tab) at most; beyond it 503"},
    {"API_TOKEN", "--api-token", "", "bearer token required for /api/* and /stats"},
    {"CORS_ALLOW_ORIGIN", "--cors-allow-origin", "*",
     "Access-Control-Allow-Origin of /api/* answers; empty: none"},
    {"PROTECT_ALL", "--protect-all", "false", "require the token on /health, /ready, /metrics too"},
    {"DATA_DIR", "--data-dir", "/var/lib/hoymiles-smiles", "directory of the spool file"},
    {"SPOOL_MAX_MB", "--spool-max-mb", "256", "largest spool file in MiB"},
    {"INFLUXDB_ENABLED", "--influxdb-enabled", "false",
     "also write every poll to InfluxDB (true/false); PostgreSQL keeps every reading anyway"},
    {"INFLUXDB_HOST", "--influxdb-host", "",
     "InfluxDB URL, http:// or https:// (certificates checked against the system's CAs), "
     "e.g. http://influxdb:8086"},
    {"INFLUXDB_TOKEN", "--influxdb-token", "",
     "InfluxDB API token (sent as \"Token ...\"; with INFLUXDB_API=v1, user:password is sent "
     "as Basic authentication)"},
    {"INFLUXDB_DATABASE", "--influxdb-database", "hoymiles",
     "InfluxDB database (v1, v3) or bucket (v2)"},
    {"INFLUXDB_ORG", "--influxdb-org", "", "InfluxDB organization (v2 API; InfluxDB 2.x needs it)"},
    {"INFLUXDB_API", "--influxdb-api", "v2",
     "InfluxDB write endpoint: v2 (/api/v2/write: InfluxDB 3, 2, 1.8+ and Cloud, as the Python "
     "bridge wrote), v1 (/write: any InfluxDB 1.x, and 3) or v3 (/api/v3/write_lp: InfluxDB 3 "
     "Core and Enterprise)"},
    {"SIMULATED_CLOCK", "--simulated-clock", "",
     "tests and demos only: run on the clock of `simulate` instead of the system's, given as "
     "START,SPEED,ANCHOR (its --start-time, --speed and --anchor)"},
}};

// Global settings handled by main() for every subcommand (listed for documentation).
inline constexpr std::array<Setting, 2> kGlobalSettings{{
    {"LOG_LEVEL", "--log-level", "info", "trace, debug, info, warn, error, critical or off"},
    {"LOG_FORMAT", "--log-format", "text", "text (or standard) or json"},
}};

struct DtuConfig {
  std::string name;
  protocol::DtuAddress address;
};

// A simulated wall clock: `start` at the real time `anchor`, `speed` times as fast.
struct SimulatedClock {
  Timestamp start{};
  double speed = 1;
  Timestamp anchor{};
};

struct ServeConfig {
  storage::DatabaseConfig database;
  bool auto_migrate = false;
  std::vector<DtuConfig> dtus;
  hardware::TransportOptions transport;
  protocol::DtuClientOptions client;
  std::chrono::milliseconds query_period{60000};
  storage::ProductionRules production;
  std::string http_host = "0.0.0.0";
  std::uint16_t http_port = 8080;
  std::chrono::seconds health_stale{300};
  std::chrono::seconds http_read_timeout{15};
  int http_max_connections = 256;
  bool http_max_connections_set = false;  // given, not the default
  int http_max_connections_per_client = 64;
  int http_reserve_connections = 1024;  // set by fit_open_files()
  int http_threads = 8;
  int http_event_clients = 32;
  std::string api_token;
  bool protect_all = false;
  std::string cors_origin = "*";
  std::filesystem::path data_dir = "/var/lib/hoymiles-smiles";
  std::uint64_t spool_max_bytes = 256ULL << 20;
  std::optional<SimulatedClock> clock;       // SIMULATED_CLOCK; else the system clock
  std::optional<api::InfluxOptions> influx;  // INFLUXDB_ENABLED=true
};

// Value of a setting: the flag when given, else the environment variable.
// Returns the value and the name to blame in an error ("--x" or "X").
using SettingLookup =
    std::function<std::optional<std::pair<std::string, std::string>>(const Setting&)>;

// Flags given on the command line (flag -> value) over the environment.
SettingLookup settings_lookup(std::map<std::string, std::string> flags, Environment env);

// Throws ConfigError naming the variable or flag. At least one DTU is required.
ServeConfig serve_config_from(const SettingLookup& lookup);
// The parts `db` needs as well (DATABASE_URL / DB_*; TIMEZONE, RESET_HOUR).
storage::DatabaseConfig database_config_from(const SettingLookup& lookup);
storage::ProductionRules production_rules_from(const SettingLookup& lookup);

// These two look at the system, before anything connects anywhere.
// HEALTH_HOST as an address to bind: an IP address as given, a host name resolved
// (IPv4 first). Throws ConfigError when it is neither.
std::string resolve_bind_host(const std::string& host);
// Raises the soft open-file limit to the hard one, then checks that HTTP connections
// (and a reserve of sockets beyond the caps, for probes in a flood), the database
// pool and the DTUs fit. A given HTTP_MAX_CONNECTIONS that cannot fit throws
// ConfigError; the default is lowered to fit, and the returned note says so.
std::optional<std::string> fit_open_files(ServeConfig& config);

// `name=url` entries separated by commas or whitespace; a bare URL gets a name
// derived from its host or device. Throws ConfigError.
std::vector<DtuConfig> parse_dtu_list(std::string_view text, std::string_view source);

}  // namespace smiles::bridge
