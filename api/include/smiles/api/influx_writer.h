// The InfluxDB output: each poll cycle's points (influx_lines.h) are queued and written
// by a thread of the writer's own, over HTTP or HTTPS (Beast, OpenSSL), on one kept-alive
// connection. A write that fails for the server's or the network's reasons is retried
// with backoff (the batches wait, in order, up to a bound beyond which the oldest are
// dropped and counted); a write the server refuses as bad data (400, 413, 422) is
// dropped and counted, since sending it again cannot succeed. submit() never blocks
// and never does I/O, so an InfluxDB outage never delays polling or PostgreSQL, which
// keeps every reading anyway. The token goes in a header only; no error text carries it.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "smiles/api/influx_lines.h"
#include "smiles/core/reading.h"

namespace smiles::api {

// Which write endpoint the server gets:
//   kV1  /write?db=DATABASE              InfluxDB 1.x; 2.x (with a DBRP mapping) and 3.x too
//   kV2  /api/v2/write?bucket=DATABASE[&org=ORG]
//                                        InfluxDB 2.x, 1.8+, 3.x and Cloud: what the Python
//                                        bridge's client (influxdb3-python) used
//   kV3  /api/v3/write_lp?db=DATABASE    InfluxDB 3 Core and Enterprise
enum class InfluxApi { kV1, kV2, kV3 };

// "v1", "v2", "v3" (nullopt for anything else).
std::optional<InfluxApi> parse_influx_api(std::string_view text);
std::string_view influx_api_name(InfluxApi api);

// http(s)://host[:port][/base-path], as INFLUXDB_HOST gives it.
struct InfluxUrl {
  bool tls = false;
  std::string host;       // without brackets for IPv6
  std::string port;       // "80"/"443" when not given
  std::string base_path;  // "" or "/prefix" (a reverse proxy's), no trailing slash
};

// nullopt unless `url` is http:// or https:// with a host, an optional port 1-65535 and
// an optional path, with no user info, query, spaces or control characters.
std::optional<InfluxUrl> parse_influx_url(std::string_view url);

struct InfluxOptions {
  InfluxUrl url;
  InfluxApi api = InfluxApi::kV2;
  std::string database = "hoymiles";
  std::string org;  // v2 only, when set
  // Sent as "Authorization: Token <token>"; with kV1, "user:password" is sent as Basic
  // authentication (InfluxDB 1.x with auth-enabled). Empty: no Authorization header.
  std::string token;
  std::chrono::milliseconds timeout{10000};  // connect, TLS handshake, and each write
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  // Poll cycles waiting, in bytes of line protocol; beyond, the oldest go (the newest
  // one always stays). 32 MiB: about 7,000 poll cycles of a 20-port plant (4.6 kB each).
  std::size_t max_queued_bytes = std::size_t{32} << 20;
  std::size_t max_request_bytes = 1 << 20;  // queued batches are sent together up to this
  std::string user_agent = "hoymiles-smiles";
  // Called on the writer's thread when writes start failing (the error) and when they
  // succeed again (""), once per change.
  std::function<void(const std::string& error)> on_state;
};

// Percent-encoding of a query value (all but unreserved characters).
std::string url_encode(std::string_view text);

// The request target of a write: base path, endpoint and query (names URL-encoded).
std::string influx_write_target(const InfluxOptions& options);
// scheme://host[:port]/base-path, for logs and /health.
std::string influx_endpoint(const InfluxUrl& url);

struct InfluxStatus {
  std::string state = "idle";  // idle (nothing sent yet), ok, failing
  std::uint64_t points_written = 0;
  std::uint64_t batches_written = 0;   // poll cycles
  std::uint64_t write_errors = 0;      // failed attempts (retried)
  std::uint64_t batches_rejected = 0;  // refused by the server as bad data
  std::uint64_t batches_dropped = 0;   // over the queue bound, or left at stop
  std::size_t queued_batches = 0;
  std::size_t queued_bytes = 0;
  std::string last_error;
  std::optional<Timestamp> last_success;  // system time of the last good write
};

class InfluxWriter {
 public:
  explicit InfluxWriter(InfluxOptions options);
  ~InfluxWriter();  // stop(0)
  InfluxWriter(const InfluxWriter&) = delete;
  InfluxWriter& operator=(const InfluxWriter&) = delete;

  // Queues one poll cycle's points (an empty batch is ignored). Never blocks.
  void submit(InfluxBatch batch);
  [[nodiscard]] InfluxStatus status() const;
  // Writes what is queued for at most `flush` (stopping at the first failure), then
  // closes the connection and joins the thread. Returns the batches left unwritten
  // (counted as dropped). Later calls return 0.
  std::size_t stop(std::chrono::milliseconds flush);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smiles::api
