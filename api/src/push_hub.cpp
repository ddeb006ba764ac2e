#include "smiles/api/push_hub.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// (keep <utility> first)
#include <openssl/err.h>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "smiles/core/error.h"

namespace smiles::api {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using Message = std::shared_ptr<const std::string>;

const Message& ping_message() {
  static const Message m = std::make_shared<const std::string>(R"({"type":"ping"})");
  return m;
}

}  // namespace

struct PushHub::Impl {
  PushOptions options;
  std::function<std::string()> build;
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  ssl::context tls{ssl::context::tls_client};
  std::thread io_thread;

  class Link;
  mutable std::mutex mutex;
  std::vector<std::shared_ptr<Link>> links;
  Message last;  // newest update, sent to a receiver as soon as it connects
  bool stopping_links = false;
  std::atomic<std::uint64_t> sent_total{0};
  std::atomic<std::uint64_t> dropped_total{0};

  std::mutex publish_mutex;
  std::condition_variable publish_wake;
  bool requested = false;
  bool stopping = false;
  std::thread publisher;

  void publish_loop();
};

// One receiver: connect, handshake, then write updates and read (answering pings)
// until the connection drops; then wait (backoff) and start over. Runs on the io
// thread only; status is read from other threads under status_mutex.
class PushHub::Impl::Link : public std::enable_shared_from_this<PushHub::Impl::Link> {
 public:
  Link(Impl& hub, PushReceiver receiver, PushUrl url)
      : hub_(hub),
        receiver_(std::move(receiver)),
        url_(std::move(url)),
        resolver_(hub.io),
        timer_(hub.io),
        backoff_(hub.options.backoff_initial) {
    status_.name = receiver_.name;
    status_.url = url_.without_query;
  }

  const PushReceiver& receiver() const { return receiver_; }
  const PushUrl& url() const { return url_; }

  PushReceiverStatus status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

  void start() {
    net::post(hub_.io, [self = shared_from_this()] { self->connect(); });
  }

  void stop() {
    net::post(hub_.io, [self = shared_from_this()] {
      self->stopped_ = true;
      ++self->generation_;
      self->timer_.cancel();
      self->resolver_.cancel();
      self->close();
    });
  }

  void send(const Message& m) {
    net::post(hub_.io, [self = shared_from_this(), m] { self->enqueue(m, true); });
  }

 private:
  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(tls_);
    } else if (plain_) {
      f(plain_);
    }
  }

  void connect() {
    if (stopped_) return;
    const auto g = ++generation_;
    if (url_.tls) {
      tls_ = std::make_shared<TlsWs>(hub_.io, hub_.tls);
      plain_.reset();
    } else {
      plain_ = std::make_shared<PlainWs>(hub_.io);
      tls_.reset();
    }
    resolver_.async_resolve(
        url_.host, url_.port,
        [self = shared_from_this(), g](beast::error_code ec, tcp::resolver::results_type results) {
          self->on_resolve(g, ec, std::move(results));
        });
  }

  void on_resolve(std::uint64_t g, beast::error_code ec, tcp::resolver::results_type results) {
    if (g != generation_) return;
    if (ec) return fail(g, "cannot resolve " + url_.host, ec);
    with_stream([&](auto& ws) {
      auto& tcp_layer = beast::get_lowest_layer(*ws);
      tcp_layer.expires_after(hub_.options.connect_timeout);
      tcp_layer.async_connect(
          results, [self = shared_from_this(), g, ws](beast::error_code e, const tcp::endpoint&) {
            self->on_connect(g, e);
          });
    });
  }

  void on_connect(std::uint64_t g, beast::error_code ec) {
    if (g != generation_) return;
    if (ec) return fail(g, "cannot connect", ec);
    if (!tls_) return handshake(g);
    auto ws = tls_;
    auto& stream = ws->next_layer();
    // SNI, and the certificate must name the host.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str())) {
      return fail(
          g, "TLS setup failed",
          beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
    }
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(url_.host));
    beast::get_lowest_layer(*ws).expires_after(hub_.options.connect_timeout);
    stream.async_handshake(ssl::stream_base::client,
                           [self = shared_from_this(), g, ws](beast::error_code e) {
                             if (e) return self->fail(g, "TLS handshake failed", e);
                             self->handshake(g);
                           });
  }

  void handshake(std::uint64_t g) {
    with_stream([&](auto& ws) {
      // From here the WebSocket's own timeouts apply (and send the heartbeat pings).
      beast::get_lowest_layer(*ws).expires_never();
      websocket::stream_base::timeout t{};
      t.handshake_timeout = hub_.options.connect_timeout;
      t.idle_timeout = hub_.options.idle_timeout;
      t.keep_alive_pings = true;
      ws->set_option(t);
      ws->set_option(websocket::stream_base::decorator(
          [agent = hub_.options.user_agent](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, agent);
          }));
      ws->text(true);
      const bool default_port = url_.port == (url_.tls ? "443" : "80");
      const std::string host =
          (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) +
          (default_port ? "" : ":" + url_.port);
      ws->async_handshake(
          host, url_.target,
          [self = shared_from_this(), g, ws](beast::error_code e) { self->on_handshake(g, e); });
    });
  }

  void on_handshake(std::uint64_t g, beast::error_code ec) {
    if (g != generation_) return;
    if (ec) return fail(g, "WebSocket handshake failed", ec);
    open_ = true;
    backoff_ = hub_.options.backoff_initial;
    {
      std::lock_guard lock(status_mutex_);
      status_.connected = true;
      ++status_.connects;
      status_.last_error.clear();
    }
    read(g);
    enqueue(ping_message(), false);
    Message last;
    {
      std::lock_guard lock(hub_.mutex);
      last = hub_.last;
    }
    if (last) enqueue(last, true);
  }

  void read(std::uint64_t g) {
    with_stream([&](auto& ws) {
      ws->async_read(buffer_, [self = shared_from_this(), g, ws](
                                  beast::error_code ec, std::size_t) { self->on_read(g, ec); });
    });
  }

  void on_read(std::uint64_t g, beast::error_code ec) {
    if (g != generation_) return;
    if (ec) return fail(g, "connection closed", ec);
    // The component answers {"type":"connected"}; a refusal (a token it no longer
    // knows) comes as {"error": ...} before it closes.
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (text.find("\"error\"") != std::string::npos) {
      std::lock_guard lock(status_mutex_);
      status_.last_error = "receiver answered: " + text.substr(0, 200);
    }
    read(g);
  }

  // Updates replace an update still waiting; the ping always goes first.
  void enqueue(const Message& m, bool update) {
    if (!open_) return;
    if (update && !queue_.empty() && queue_.back().second && (queue_.size() > 1 || !writing_)) {
      queue_.back().first = m;
      ++hub_.dropped_total;
      std::lock_guard lock(status_mutex_);
      ++status_.dropped;
    } else {
      queue_.emplace_back(m, update);
    }
    write_next();
  }

  void write_next() {
    if (writing_ || queue_.empty() || !open_) return;
    writing_ = true;
    const auto g = generation_;
    const Message m = queue_.front().first;
    with_stream([&](auto& ws) {
      ws->async_write(net::buffer(*m),
                      [self = shared_from_this(), g, ws, m](beast::error_code ec, std::size_t) {
                        self->on_write(g, ec);
                      });
    });
  }

  void on_write(std::uint64_t g, beast::error_code ec) {
    if (g != generation_) return;
    writing_ = false;
    if (ec) return fail(g, "write failed", ec);
    const bool update = queue_.front().second;
    queue_.pop_front();
    if (update) {
      ++hub_.sent_total;
      std::lock_guard lock(status_mutex_);
      ++status_.sent;
      status_.last_sent = WallClock::now();
    }
    write_next();
  }

  void close() {
    beast::error_code ignored;
    with_stream([&](auto& ws) { beast::get_lowest_layer(*ws).socket().close(ignored); });
    plain_.reset();
    tls_.reset();
    open_ = false;
    writing_ = false;
    queue_.clear();
    buffer_.consume(buffer_.size());
  }

  void fail(std::uint64_t g, const std::string& what, beast::error_code ec) {
    if (g != generation_ || stopped_) return;
    ++generation_;  // late callbacks of this attempt are ignored
    {
      std::lock_guard lock(status_mutex_);
      status_.connected = false;
      // Keep what the receiver said when it closed the connection itself.
      if (status_.last_error.rfind("receiver answered", 0) != 0 || what != "connection closed") {
        status_.last_error = what + ": " + ec.message();
      }
    }
    close();
    timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, hub_.options.backoff_max);
    timer_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e) self->connect();
    });
  }

  Impl& hub_;
  const PushReceiver receiver_;
  const PushUrl url_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  // Shared with the handlers of their operations, so a stream outlives them.
  std::shared_ptr<PlainWs> plain_;
  std::shared_ptr<TlsWs> tls_;
  beast::flat_buffer buffer_;
  std::deque<std::pair<Message, bool>> queue_;  // message, is an update
  bool open_ = false;
  bool writing_ = false;
  bool stopped_ = false;
  std::uint64_t generation_ = 0;
  std::chrono::milliseconds backoff_;
  mutable std::mutex status_mutex_;
  PushReceiverStatus status_;
};

void PushHub::Impl::publish_loop() {
  for (;;) {
    {
      std::unique_lock lock(publish_mutex);
      publish_wake.wait(lock, [this] { return requested || stopping; });
      if (stopping) return;
      requested = false;
    }
    {
      std::lock_guard lock(mutex);
      if (links.empty()) continue;  // nobody to tell
    }
    std::string message;
    try {
      message = build();
    } catch (const std::exception&) {
      continue;  // nothing to send this time; the next poll asks again
    }
    auto m = std::make_shared<const std::string>(std::move(message));
    std::lock_guard lock(mutex);
    last = m;
    for (const auto& link : links) link->send(m);
  }
}

PushHub::PushHub(PushOptions options, std::function<std::string()> build)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->build = std::move(build);
  impl_->tls.set_default_verify_paths();  // the system's CAs (or SSL_CERT_FILE)
  impl_->io_thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  impl_->publisher = std::thread([impl = impl_.get()] { impl->publish_loop(); });
}

PushHub::~PushHub() { stop(); }

PushAdd PushHub::add(const PushReceiver& receiver, bool replace_same_name) {
  const auto url = parse_push_url(receiver.url);
  if (!url) throw DataError("not a ws:// or wss:// URL");
  std::shared_ptr<Impl::Link> replaced;
  std::shared_ptr<Impl::Link> link;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping_links) return PushAdd::kUnchanged;
    auto& links = impl_->links;
    for (auto it = links.begin(); it != links.end(); ++it) {
      const auto& r = (*it)->receiver();
      if (r.url == receiver.url) return PushAdd::kUnchanged;
      if (r.name == receiver.name && (*it)->url().without_query == url->without_query) {
        if (!replace_same_name) return PushAdd::kUnchanged;
        replaced = *it;
        links.erase(it);
        break;
      }
    }
    if (!replaced && links.size() >= impl_->options.max_receivers) return PushAdd::kFull;
    link = std::make_shared<Impl::Link>(*impl_, receiver, *url);
    links.push_back(link);
  }
  if (replaced) replaced->stop();
  link->start();
  return replaced ? PushAdd::kReplaced : PushAdd::kAdded;
}

std::vector<PushReceiver> PushHub::receivers() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<PushReceiver> out;
  for (const auto& l : impl_->links) out.push_back(l->receiver());
  return out;
}

std::vector<PushReceiverStatus> PushHub::status() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<PushReceiverStatus> out;
  for (const auto& l : impl_->links) out.push_back(l->status());
  return out;
}

PushTotals PushHub::totals() const {
  return {impl_->sent_total.load(), impl_->dropped_total.load()};
}

void PushHub::notify() {
  {
    std::lock_guard lock(impl_->publish_mutex);
    impl_->requested = true;
  }
  impl_->publish_wake.notify_one();
}

void PushHub::publish(std::string message) {
  auto m = std::make_shared<const std::string>(std::move(message));
  std::lock_guard lock(impl_->mutex);
  impl_->last = m;
  for (const auto& link : impl_->links) link->send(m);
}

void PushHub::stop() {
  if (!impl_ || !impl_->io_thread.joinable()) return;
  {
    std::lock_guard lock(impl_->publish_mutex);
    impl_->stopping = true;
  }
  impl_->publish_wake.notify_one();
  impl_->publisher.join();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping_links = true;
    for (const auto& link : impl_->links) link->stop();
    impl_->links.clear();
  }
  impl_->work.reset();
  impl_->io.stop();
  impl_->io_thread.join();
}

}  // namespace smiles::api
