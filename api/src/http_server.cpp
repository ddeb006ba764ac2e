#include "smiles/api/http_server.h"

#include <atomic>
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
  std::atomic<int> connections{0};
  std::uint16_t bound_port = 0;
  bool running = false;
  net::io_context io;  // default concurrency: several threads run it
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;

  void accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server, bool over_capacity)
      : stream_(std::move(socket)), server_(server), over_capacity_(over_capacity) {}

  ~Session() { --server_->connections; }

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->over_capacity_) {
        self->send(
            error_response(503, "too_many_connections", "connection limit reached; retry later"),
            false, false, {});
        return;
      }
      self->read();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    parser_->body_limit(server_->options.body_limit);
    stream_.expires_after(server_->options.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return send(error_response(431, "headers_too_large", "request headers exceed the limit"),
                  false, false, {});
    }
    if (ec == http::error::body_limit) {
      return send(error_response(413, "body_too_large", "request body exceeds the limit"), false,
                  false, {});
    }
    if (ec) {  // end of stream, timeout (slow or idle client), bad request line, ...
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != net::error::operation_aborted && ec != net::error::connection_reset && !eof(ec)) {
        return send(error_response(400, "bad_request", "malformed HTTP request"), false, false, {});
      }
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
    Response response = server_->handler(request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (server_->observer) server_->observer(request, response, seconds);
    send(std::move(response), req.keep_alive(), req.method() == http::verb::head, req.version());
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
  bool over_capacity_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    } else {
      const bool over = ++connections > options.max_connections;
      std::make_shared<Session>(std::move(socket), this, over)->run();
    }
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler, Observer observer)
    : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->observer = std::move(observer);
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

}  // namespace smiles::api
