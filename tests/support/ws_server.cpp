#include "ws_server.h"

#include <sys/socket.h>

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// (keep <utility> first)
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "process.h"

namespace smiles::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct WsServer::Impl {
  WsServerOptions options;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::vector<std::thread> connections;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  bool stopping = false;
  std::vector<std::string> messages;
  std::vector<int> fds;  // open connection sockets, shut down by stop()
  int handshakes = 0;
  int accepted = 0;

  // Takes a socket off the list stop() shuts down, before the socket closes (declared
  // after the stream that owns it, so it goes first).
  struct Unlisted {
    Impl& server;
    int fd;
    ~Unlisted() {
      std::lock_guard lock(server.mutex);
      std::erase(server.fds, fd);
    }
  };

  void accept_loop();
  void serve(tcp::socket socket);
  template <class Ws>
  void talk(Ws& ws, tcp::socket& raw);
  void record(std::string text) {
    std::lock_guard lock(mutex);
    messages.push_back(std::move(text));
    changed.notify_all();
  }
};

namespace {
std::string query_token(std::string_view target) {
  const auto at = target.find("token=");
  if (at == std::string_view::npos) return {};
  const auto end = target.find('&', at);
  return std::string(target.substr(at + 6, end == std::string_view::npos ? end : end - at - 6));
}
}  // namespace

void WsServer::Impl::accept_loop() {
  for (;;) {
    tcp::socket socket(io);
    beast::error_code ec;
    acceptor.accept(socket, ec);
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (ec) continue;
      ++accepted;
      fds.push_back(socket.native_handle());
      changed.notify_all();
    }
    connections.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
  }
}

template <class Ws>
void WsServer::Impl::talk(Ws& ws, tcp::socket&) {
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::read(ws.next_layer(), buffer, req);
  ws.accept(req);
  {
    std::lock_guard lock(mutex);
    ++handshakes;
    changed.notify_all();
  }
  ws.text(true);
  if (!options.token.empty() && query_token(std::string(req.target())) != options.token) {
    ws.write(net::buffer(std::string(R"({"error": "Invalid authentication token"})")));
    ws.close(websocket::close_code::normal);
    return;
  }
  ws.write(net::buffer(std::string(R"({"type": "connected", "status": "ready"})")));
  if (options.deaf) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return stopping; });
    return;
  }
  for (;;) {
    beast::flat_buffer in;
    ws.read(in);  // answers pings
    record(beast::buffers_to_string(in.data()));
  }
}

void WsServer::Impl::serve(tcp::socket socket) {
  const int fd = socket.native_handle();
  try {
    if (options.stall) {
      Unlisted unlisted{*this, fd};
      std::unique_lock lock(mutex);
      changed.wait(lock, [this] { return stopping; });
      return;
    }
    if (tls) {
      websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), *tls);
      Unlisted unlisted{*this, fd};
      ws.next_layer().handshake(ssl::stream_base::server);
      talk(ws, beast::get_lowest_layer(ws));
    } else {
      websocket::stream<tcp::socket> ws(std::move(socket));
      Unlisted unlisted{*this, fd};
      talk(ws, ws.next_layer());
    }
  } catch (const std::exception&) {
    // the peer went away, or stop() shut the socket down
  }
}

WsServer::WsServer(WsServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  if (!impl_->options.cert_file.empty()) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(impl_->options.cert_file);
    impl_->tls->use_private_key_file(impl_->options.key_file, ssl::context::pem);
  }
  const tcp::endpoint endpoint{net::ip::make_address("127.0.0.1"), impl_->options.port};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

WsServer::~WsServer() { stop(); }

std::uint16_t WsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<std::string> WsServer::messages() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->messages;
}

int WsServer::handshakes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->handshakes;
}

int WsServer::accepted() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

bool WsServer::wait_for(const std::function<bool(const std::vector<std::string>&)>& pred,
                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return pred(impl_->messages); });
}

void WsServer::stop() {
  if (!impl_->accept_thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);
    impl_->changed.notify_all();
  }
  // A listening socket shut down makes the blocked accept() return.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->accept_thread.join();
  for (auto& t : impl_->connections) t.join();
  impl_->connections.clear();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

void make_test_certificate(const std::string& dir) {
  const auto r =
      run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "2", "-subj",
                   "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.err);
}

}  // namespace smiles::test
