// Boost.Beast HTTP/1.1 server: keep-alive, per-connection read timeout, header and
// body limits, a connection cap. It only moves bytes; answers come from the handler.
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
  std::chrono::seconds read_timeout{15};  // per request, and idle keep-alive
  std::size_t header_limit = 8 * 1024;    // larger headers get 431
  std::size_t body_limit = 4 * 1024;      // larger bodies get 413
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Called after each answer: (request, response, seconds spent).
  using Observer = std::function<void(const Request&, const Response&, double)>;

  HttpServer(HttpServerOptions options, Handler handler, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Throws IoError when the address cannot be bound.
  void start();
  // Stops accepting, closes connections and joins the threads.
  void stop();
  [[nodiscard]] std::uint16_t port() const;

  struct Impl;  // opaque; public so the connection code in the .cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace smiles::api
