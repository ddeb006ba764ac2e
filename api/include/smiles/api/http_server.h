// Boost.Beast HTTP/1.1 server: keep-alive, per-connection read timeout, header and
// body limits, connection caps. It only moves bytes; answers come from the handler.
//
// Floods: a client holds at most max_connections_per_client of the max_connections
// regular connections. A connection beyond either cap is still read once, briefly
// (limited_timeout), and answered when it asks for a probe path (/health, /ready,
// /metrics), else with 503; beyond hard_max_connections sockets a connection gets 503
// at once. With three quarters of the regular connections open, idle keep-alive
// connections close after pressure_idle_timeout. Every answer, 503s included, goes
// to the observer. When accept fails (e.g. out of file descriptors), the server
// pauses accepting for accept_pause and tells on_accept_error once per episode (an
// episode ends after accept_calm without failures).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "smiles/api/router.h"

namespace smiles::api {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 picks a free port (see port())
  int threads = 2;
  int max_connections = 256;
  int max_connections_per_client = 64;
  int hard_max_connections = 512;         // every socket, limited ones included
  std::chrono::seconds read_timeout{15};  // per request, and idle keep-alive
  std::chrono::milliseconds pressure_idle_timeout{1000};
  std::chrono::milliseconds limited_timeout{1000};
  std::chrono::milliseconds accept_pause{250};
  std::chrono::seconds accept_calm{10};  // no failure this long ends an accept-error episode
  std::chrono::milliseconds event_keep_alive{15000};  // comment on a silent event stream
  std::size_t header_limit = std::size_t{8} * 1024;   // larger headers get 431
  std::size_t body_limit = std::size_t{4} * 1024;     // larger bodies get 413
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Called after each answer: (request, response, seconds spent).
  using Observer = std::function<void(const Request&, const Response&, double)>;

  // Accept failures: (message, 1) for the first failure of an episode, ("", failures)
  // at the first accept after it ended.
  using AcceptErrors = std::function<void(const std::string&, std::uint64_t)>;

  HttpServer(HttpServerOptions options, Handler handler, Observer observer,
             AcceptErrors on_accept_error = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Throws IoError when the address cannot be bound.
  void start();
  // Stops accepting, closes connections and joins the threads.
  void stop();
  [[nodiscard]] std::uint16_t port() const;
  // Open sockets (regular and limited).
  [[nodiscard]] int connections() const;

  struct Impl;  // opaque; public so the connection code in the .cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace smiles::api
