#include "smiles/api/http_server.h"

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// (keep <utility> first)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

#include "smiles/core/error.h"

namespace smiles::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Handlers refer to Impl by plain pointer: Impl outlives them (stop() joins the
// threads; destroying `io` destroys any handler still queued). Member order matters:
// `connections` must outlive `io`, whose destruction ends the remaining sessions.
struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  Observer observer;
  AcceptErrors on_accept_error;
  std::atomic<int> connections{0};  // every open socket
  std::atomic<int> regular{0};      // sockets within the caps
  std::mutex clients_mutex;
  std::map<net::ip::address, int> per_client;  // regular connections per address
  std::uint64_t accept_failures = 0;           // in the current episode (accept handler only)
  std::chrono::steady_clock::time_point last_accept_failure{};
  std::uint16_t bound_port = 0;
  bool running = false;
  net::io_context io;  // default concurrency: several threads run it
  tcp::acceptor acceptor{io};
  net::steady_timer accept_timer{io};
  std::vector<std::thread> threads;

  void accept();
  void observe(const Response& response) {
    if (observer) observer(Request{}, response, 0.0);
  }
  // A regular slot for `client`, or false when a cap is reached.
  bool take_slot(const net::ip::address& client) {
    std::lock_guard lock(clients_mutex);
    auto& n = per_client[client];
    if (n >= options.max_connections_per_client || regular >= options.max_connections) {
      if (n == 0) per_client.erase(client);
      return false;
    }
    ++n;
    ++regular;
    return true;
  }
  void give_slot(const net::ip::address& client) {
    std::lock_guard lock(clients_mutex);
    if (const auto it = per_client.find(client); it != per_client.end() && --it->second <= 0) {
      per_client.erase(it);
    }
    --regular;
  }
  [[nodiscard]] bool under_pressure() const { return regular * 4 >= options.max_connections * 3; }
};

namespace {

Response too_many_connections() {
  return error_response(503, "too_many_connections", "connection limit reached; retry later");
}

// A request beyond the caps, refused: counted under the route it asked for.
Response refusal_for(const Request& request) {
  Response r = too_many_connections();
  r.route = Router::route_label(request.target);
  return r;
}

// Paths answered even beyond the connection caps: monitoring keeps working in a flood.
bool probe_path(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  return path == "/health" || path == "/ready" || path == "/metrics";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `regular`: holds a slot of `client` (else a limited session: one request, short
  // read, probe paths only).
  Session(tcp::socket&& socket, HttpServer::Impl* server, bool regular, net::ip::address client)
      : stream_(std::move(socket)),
        server_(server),
        regular_(regular),
        client_(std::move(client)) {}

  ~Session() {
    if (regular_) server_->give_slot(client_);
    --server_->connections;
  }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    parser_->body_limit(server_->options.body_limit);
    if (!regular_) {
      stream_.expires_after(server_->options.limited_timeout);
    } else if (!server_->under_pressure()) {
      stream_.expires_after(server_->options.read_timeout);
    } else {  // a silent or idle keep-alive connection gives way under pressure
      stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
          server_->options.pressure_idle_timeout, server_->options.read_timeout));
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // An answer the handler did not give (limits, malformed requests): counted too.
  void refuse(Response response) {
    server_->observe(response);
    send(std::move(response), false, false, {});
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return refuse(error_response(431, "headers_too_large", "request headers exceed the limit"));
    }
    if (ec == http::error::body_limit) {
      return refuse(error_response(413, "body_too_large", "request body exceeds the limit"));
    }
    if (ec) {  // end of stream, timeout (slow or idle client), bad request line, ...
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != net::error::operation_aborted && ec != net::error::connection_reset && !eof(ec)) {
        return refuse(error_response(400, "bad_request", "malformed HTTP request"));
      }
      // Beyond the caps, a connection that asked nothing in time is refused (and
      // counted) like one that asked for data.
      if (!regular_ && ec == beast::error::timeout) return refuse(too_many_connections());
      return close();
    }
    const auto& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    if (const auto it = req.find(http::field::authorization); it != req.end()) {
      request.authorization = std::string(it->value());
    }
    request.body = req.body();
    const auto started = std::chrono::steady_clock::now();
    Response response =
        regular_ || probe_path(request.target) ? server_->handler(request) : refusal_for(request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (server_->observer) server_->observer(request, response, seconds);
    if (response.events) return stream(std::move(response), req.version());
    send(std::move(response), regular_ && req.keep_alive(), req.method() == http::verb::head,
         req.version());
  }

  // Server-Sent Events: the headers, then every message of the subscription, and a
  // comment when nothing was sent for keep_alive (so proxies and the client see the
  // stream alive, and a gone client shows as a failed write). The body ends when the
  // connection closes.
  void stream(Response response, unsigned version) {
    events_ = std::move(response.events);
    std::string head =
        std::string(version == 10 ? "HTTP/1.0" : "HTTP/1.1") +
        " 200 OK\r\nServer: hoymiles-smiles\r\nContent-Type: " + response.content_type +
        "\r\nConnection: close\r\n";
    for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    events_->on_message([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        net::post(self->stream_.get_executor(), [self] { self->event_timer_.cancel(); });
      }
    });
    write_events(std::move(head));
  }

  void write_events(std::string text) {
    out_ = std::move(text);
    stream_.expires_after(server_->options.read_timeout);
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->wait_for_events();
                     });
  }

  void wait_for_events() {
    if (events_->overflowed()) return close();  // the client does not keep up
    std::string text;
    for (const auto& m : events_->take()) text += "event: update\ndata: " + m + "\n\n";
    if (!text.empty()) return write_events(std::move(text));
    stream_.expires_never();
    event_timer_.expires_after(server_->options.event_keep_alive);
    event_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec && ec != net::error::operation_aborted) return self->close();
      if (!ec) return self->write_events(": keep-alive\n\n");
      self->wait_for_events();  // woken by a message
    });
  }

  static bool eof(const beast::error_code& ec) { return ec == net::error::eof; }

  void send(Response response, bool keep_alive, bool head, std::optional<unsigned> version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version.value_or(11));
    res->set(http::field::server, "hoymiles-smiles");
    res->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET answer
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->read();
        });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer event_timer_{stream_.get_executor()};
  std::shared_ptr<EventSubscription> events_;
  std::string out_;  // the event text being written
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
  bool regular_;
  net::ip::address client_;
};

// Errors that mean "out of a resource, try later", not "the acceptor is gone".
bool resource_error(const beast::error_code& ec) {
  return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
         ec == net::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      // Out of file descriptors the pending connection stays in the backlog and accept
      // fails again at once: pause instead of spinning, and say so once.
      last_accept_failure = std::chrono::steady_clock::now();
      if (accept_failures++ == 0 && on_accept_error) on_accept_error(ec.message(), 1);
      const auto pause = resource_error(ec) ? options.accept_pause : options.accept_pause / 10;
      accept_timer.expires_after(pause);
      accept_timer.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    // The episode ends after a calm spell: accepts that free descriptors let the next
    // ones through while the shortage lasts.
    if (accept_failures > 0 &&
        std::chrono::steady_clock::now() - last_accept_failure >= options.accept_calm) {
      if (on_accept_error) on_accept_error("", accept_failures);
      accept_failures = 0;
    }
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    const auto client = peer_ec ? net::ip::address{} : peer.address();
    if (++connections > options.hard_max_connections) {
      // Beyond every cap: a canned 503, written without waiting, and close.
      static const std::string kRefusal = [] {
        const auto body = too_many_connections().body;
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
      }();
      beast::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(kRefusal), ignored);
      socket.close(ignored);
      --connections;
      observe(too_many_connections());
    } else {
      const bool within_caps = take_slot(client);
      std::make_shared<Session>(std::move(socket), this, within_caps, client)->run();
    }
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler, Observer observer,
                       AcceptErrors on_accept_error)
    : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->observer = std::move(observer);
  impl_->on_accept_error = std::move(on_accept_error);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) throw ConfigError("HEALTH_HOST '" + impl_->options.host + "' is not an IP address");
  const tcp::endpoint endpoint{address, impl_->options.port};
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw IoError("cannot listen on " + impl_->options.host + ":" +
                  std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->running = true;
  impl_->accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
  }
}

void HttpServer::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

int HttpServer::connections() const { return impl_->connections; }

}  // namespace smiles::api
