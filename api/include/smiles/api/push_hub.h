// WebSocket push to the receivers the Home Assistant component registers
// (POST /api/websocket/register {"websocket_url", "name"}), as the Python bridge did:
// the bridge connects out to each ws:// or wss:// URL, sends {"type":"ping"} once
// connected, then every update; it reconnects with backoff (1 s doubling to 30 s) and
// keeps the connection alive with WebSocket pings.
//
// PushHub runs on threads of its own: publish() and notify() never block, and a slow
// or dead receiver holds at most the newest unsent update (older ones are dropped and
// counted). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smiles/api/router.h"
#include "smiles/core/reading.h"

namespace smiles::api {

struct PushReceiver {
  std::string url;   // ws:// or wss://, may carry a token in its query
  std::string name;  // as registered ("Home Assistant")
};

// A parsed receiver URL.
struct PushUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6
  std::string port;    // "80"/"443" when not given
  std::string target;  // path and query, at least "/"
  // scheme://host[:port]/path: the URL without its query (which holds the
  // receiver's token), for logs, /health and matching a re-registration.
  std::string without_query;
};

// nullopt unless `url` is ws:// or wss:// with a host, an optional port 1-65535, and
// no spaces or control characters (at most 2048 bytes).
std::optional<PushUrl> parse_push_url(std::string_view url);

// The body of POST /api/websocket/register: {"websocket_url": "...", "name": "..."}
// ("name" optional, as in the Python bridge). The receiver, or a 400 answer saying why.
std::variant<PushReceiver, Response> parse_push_registration(const std::string& body);

struct PushOptions {
  std::size_t max_receivers = 8;
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds connect_timeout{10000};  // TCP, TLS and WebSocket handshakes
  // Heartbeat: a ping after half of it without traffic, the connection dropped after it.
  std::chrono::milliseconds idle_timeout{60000};
  std::string user_agent = "hoymiles-smiles";
};

struct PushReceiverStatus {
  std::string name;
  std::string url;  // without its query
  bool connected = false;
  std::uint64_t connects = 0;  // successful handshakes
  std::uint64_t sent = 0;      // updates written
  std::uint64_t dropped = 0;   // updates replaced by a newer one before they were written
  std::string last_error;
  std::optional<Timestamp> last_sent;
};

enum class PushAdd { kAdded, kUnchanged, kReplaced, kFull };

struct PushTotals {
  std::uint64_t sent = 0;     // updates written, over all receivers ever registered
  std::uint64_t dropped = 0;  // updates replaced before they were written
};

class PushHub {
 public:
  // `build` makes the update message (JSON text) when notify() asks for one; it runs on
  // the hub's own thread and may be slow (it reads the database).
  PushHub(PushOptions options, std::function<std::string()> build);
  ~PushHub();
  PushHub(const PushHub&) = delete;
  PushHub& operator=(const PushHub&) = delete;

  // Adds a receiver and starts connecting to it. The same URL again changes nothing;
  // the same name with the same URL apart from its query (a new token after a restart
  // of Home Assistant) replaces the old one, unless `replace_same_name` is false (then
  // the one there stays). kFull when max_receivers are registered. Throws DataError
  // for a URL parse_push_url() refuses.
  PushAdd add(const PushReceiver& receiver, bool replace_same_name = true);
  [[nodiscard]] std::vector<PushReceiver> receivers() const;
  [[nodiscard]] std::vector<PushReceiverStatus> status() const;
  [[nodiscard]] PushTotals totals() const;

  // Asks for an update: build() then runs once on the hub's thread (requests arriving
  // meanwhile are folded into the next one) and the result goes to every receiver.
  void notify();
  // Sends `message` to every connected receiver now.
  void publish(std::string message);

  // Closes every connection and joins the threads (also done by the destructor).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smiles::api
