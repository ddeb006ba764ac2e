#include "smiles/api/influx_writer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "url_parts.h"

namespace smiles::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

std::string base64(std::string_view text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The server's own words from an error body: {"error": ...} (v1, v3) or
// {"message": ...} (v2), else the body itself; one line, at most 300 bytes.
std::string server_says(const std::string& body) {
  std::string text = body;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"error", "message"}) {
      if (const auto it = j.find(key); it != j.end() && it->is_string()) {
        text = it->get<std::string>();
        break;
      }
    }
  }
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

constexpr std::pair<InfluxApi, std::string_view> kApiNames[] = {
    {InfluxApi::kV1, "v1"}, {InfluxApi::kV2, "v2"}, {InfluxApi::kV3, "v3"}};

// A host as it goes into a URL or a Host header: IPv6 addresses in brackets.
std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::optional<InfluxApi> parse_influx_api(std::string_view text) {
  for (const auto& [api, name] : kApiNames) {
    if (name == text) return api;
  }
  return std::nullopt;
}

std::string_view influx_api_name(InfluxApi api) {
  for (const auto& [a, name] : kApiNames) {
    if (a == api) return name;
  }
  return "v2";
}

std::optional<InfluxUrl> parse_influx_url(std::string_view url) {
  auto parts = parse_url_parts(url, "http", "https", "80", "443");
  if (!parts || parts->rest.find('?') != std::string::npos) return std::nullopt;
  InfluxUrl out;
  out.tls = parts->tls;
  out.host = std::move(parts->host);
  out.port = std::move(parts->port);
  out.base_path = std::move(parts->rest);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

std::string influx_endpoint(const InfluxUrl& url) {
  return std::string(url.tls ? "https://" : "http://") + url_host(url.host) + ":" + url.port +
         url.base_path;
}

std::string influx_write_target(const InfluxOptions& o) {
  const std::string db = url_encode(o.database);
  switch (o.api) {
    case InfluxApi::kV1:
      return o.url.base_path + "/write?db=" + db + "&precision=ns";
    case InfluxApi::kV3:
      return o.url.base_path + "/api/v3/write_lp?db=" + db + "&precision=nanosecond";
    case InfluxApi::kV2:
      break;
  }
  std::string target = o.url.base_path + "/api/v2/write?bucket=" + db;
  if (!o.org.empty()) target += "&org=" + url_encode(o.org);
  return target + "&precision=ns";
}

struct InfluxWriter::Impl {
  enum class Outcome { kOk, kRetry, kRejected };

  InfluxOptions options;
  std::string target;
  std::string host_header;
  std::string authorization;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<InfluxBatch> queue;
  std::size_t in_flight = 0;  // batches at the queue's front being written
  InfluxStatus status;
  bool stopping = false;
  bool stopped = false;
  bool finished = false;
  SteadyClock::time_point flush_deadline;
  std::condition_variable done;
  std::atomic<bool> abandoned{false};  // stop()'s deadline passed: no more I/O
  std::thread thread;

  // The writer thread's alone.
  net::io_context io{1};
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;

  explicit Impl(InfluxOptions o) : options(std::move(o)) {
    target = influx_write_target(options);
    const bool default_port = options.url.port == (options.url.tls ? "443" : "80");
    host_header = url_host(options.url.host) + (default_port ? "" : ":" + options.url.port);
    if (!options.token.empty()) {
      authorization = options.api == InfluxApi::kV1 && options.token.find(':') != std::string::npos
                          ? "Basic " + base64(options.token)
                          : "Token " + options.token;
    }
    tls.set_default_verify_paths();  // the system's CAs (or SSL_CERT_FILE)
  }

  // Starts an asynchronous operation and runs the io_context until it is done (or
  // stop() gave up on it). Its timeout is the stream's.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = net::error::would_block;
    std::forward<Start>(start)([&result](beast::error_code ec, auto&&...) { result = ec; });
    drive();
    return result;
  }
  // Runs the io_context until its work is done, unless stop() gave up on the writer
  // (checked after restart(): a stop() from then on ends run() at once). Handlers left
  // pending then are never called (the io_context is not run again).
  void drive() {
    io.restart();
    if (abandoned) return;
    io.run();
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool connected() const { return plain.has_value() || secure.has_value(); }
  void close() {
    if (!connected()) return;
    beast::error_code ignored;
    lowest().socket().close(ignored);
    plain.reset();
    secure.reset();
  }

  // Never lets the token through, whatever a server or a library put in a message.
  std::string scrub(std::string text) const {
    if (options.token.empty()) return text;
    for (auto at = text.find(options.token); at != std::string::npos;
         at = text.find(options.token, at)) {
      text.replace(at, options.token.size(), "***");
    }
    return text;
  }

  bool connect(std::chrono::milliseconds timeout, std::string& error) {
    tcp::resolver resolver(io);
    net::steady_timer timer(io);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = net::error::would_block;
    resolver.async_resolve(options.url.host, options.url.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             timer.cancel();
                           });
    timer.expires_after(timeout);
    timer.async_wait([&resolver](beast::error_code e) {
      if (!e) resolver.cancel();
    });
    drive();
    if (ec) {
      error = "cannot resolve " + options.url.host + ": " + ec.message();
      return false;
    }
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    ec = run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      error = "cannot connect: " + ec.message();
      return false;
    }
    if (!options.url.tls) {
      plain.emplace(std::move(stream));
      return true;
    }
    secure.emplace(std::move(stream), tls);
    // SNI, and the certificate must name the host.
    if (SSL_set_tlsext_host_name(secure->native_handle(), options.url.host.c_str()) == 0) {
      error = "TLS setup failed";
      ::ERR_clear_error();
      close();
      return false;
    }
    secure->set_verify_mode(ssl::verify_peer);
    secure->set_verify_callback(ssl::host_name_verification(options.url.host));
    lowest().expires_after(timeout);
    ec = run([&](auto handler) {
      secure->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      error = "TLS handshake failed: " + ec.message();
      close();
      return false;
    }
    return true;
  }

  // One write of `body`: over the open connection, or a new one. A kept-alive
  // connection the server closed meanwhile is opened again once.
  Outcome post(const std::string& body, std::chrono::milliseconds timeout, std::string& error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected();
      if (!reused && !connect(timeout, error)) return Outcome::kRetry;
      http::request<http::string_body> req{http::verb::post, target, 11};
      req.set(http::field::host, host_header);
      req.set(http::field::user_agent, options.user_agent);
      req.set(http::field::content_type, "text/plain; charset=utf-8");
      if (!authorization.empty()) req.set(http::field::authorization, authorization);
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{64} * 1024);
      beast::flat_buffer buffer;
      lowest().expires_after(timeout);
      auto ec = secure ? run([&](auto h) { http::async_write(*secure, req, std::move(h)); })
                       : run([&](auto h) { http::async_write(*plain, req, std::move(h)); });
      if (!ec) {
        ec = secure ? run([&](auto h) { http::async_read(*secure, buffer, parser, std::move(h)); })
                    : run([&](auto h) { http::async_read(*plain, buffer, parser, std::move(h)); });
      }
      if (ec) {
        close();
        if (abandoned) {
          error = "stopped";
          return Outcome::kRetry;
        }
        if (reused && ec != beast::error::timeout) continue;  // closed while idle
        error = (ec == beast::error::timeout
                     ? std::string("no answer within ") + std::to_string(timeout.count()) + " ms"
                     : "write failed: " + ec.message());
        return Outcome::kRetry;
      }
      const auto& res = parser.get();
      if (!res.keep_alive()) close();
      const int code = static_cast<int>(res.result_int());
      if (code >= 200 && code < 300) return Outcome::kOk;
      error = "HTTP " + std::to_string(code);
      if (const auto said = server_says(res.body()); !said.empty()) error += ": " + said;
      if (code == 404 && options.api != InfluxApi::kV1 &&
          res.body().find("page not found") != std::string::npos) {
        error += " (a server without this endpoint: InfluxDB 1.7 and older need the v1 API)";
      }
      // Bad data is refused again however often it is sent; anything else (a missing
      // database, a token not yet valid, an overloaded server) may pass later.
      return code == 400 || code == 413 || code == 422 ? Outcome::kRejected : Outcome::kRetry;
    }
    return Outcome::kRetry;
  }

  // The writer thread.
  void work() {
    auto backoff = options.backoff_initial;
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty() || (stopping && SteadyClock::now() >= flush_deadline)) break;
      std::string body;
      std::size_t points = 0;
      for (const auto& b : queue) {
        if (in_flight > 0 && body.size() + b.lines.size() > options.max_request_bytes) break;
        body += b.lines;
        points += b.points;
        ++in_flight;
      }
      auto timeout = options.timeout;
      if (stopping) {
        timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        flush_deadline - SteadyClock::now()));
      }
      lock.unlock();
      std::string error;
      const Outcome outcome = post(body, timeout, error);
      lock.lock();
      const std::string before = status.state;
      if (outcome == Outcome::kRetry) {
        ++status.write_errors;
      } else {
        for (std::size_t i = 0; i < in_flight; ++i) status.queued_bytes -= queue[i].lines.size();
        queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(in_flight));
        if (outcome == Outcome::kOk) {
          status.batches_written += in_flight;
          status.points_written += points;
          status.last_success = WallClock::now();
        } else {
          status.batches_rejected += in_flight;
        }
      }
      in_flight = 0;
      status.queued_batches = queue.size();
      if (outcome == Outcome::kOk) {
        status.state = "ok";
        backoff = options.backoff_initial;
      } else {
        status.state = "failing";
        status.last_error = scrub(error);
      }
      // Starting well is not news: only failing, and recovering from it, are told.
      const bool news =
          status.state != before && (before == "failing" || status.state == "failing");
      if (news && options.on_state) {
        const std::string said = outcome == Outcome::kOk ? std::string() : status.last_error;
        lock.unlock();
        options.on_state(said);
        lock.lock();
      }
      if (outcome == Outcome::kRetry) {
        if (stopping) break;
        wake.wait_for(lock, backoff, [&] { return stopping; });
        backoff = std::min(backoff * 2, options.backoff_max);
      }
    }
    status.batches_dropped += queue.size();
    queue.clear();
    status.queued_batches = 0;
    status.queued_bytes = 0;
    lock.unlock();
    close();
    lock.lock();
    finished = true;
    done.notify_all();
  }
};

InfluxWriter::InfluxWriter(InfluxOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->work(); });
}

InfluxWriter::~InfluxWriter() { stop(std::chrono::milliseconds{0}); }

void InfluxWriter::submit(InfluxBatch batch) {
  if (batch.points == 0) return;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    auto& q = impl_->queue;
    auto& s = impl_->status;
    s.queued_bytes += batch.lines.size();
    q.push_back(std::move(batch));
    // The bound is on batches waiting (not those being written): the oldest go first.
    std::size_t in_flight_bytes = 0;
    for (std::size_t i = 0; i < impl_->in_flight; ++i) in_flight_bytes += q[i].lines.size();
    while (s.queued_bytes - in_flight_bytes > impl_->options.max_queued_bytes &&
           q.size() > impl_->in_flight + 1) {
      const auto oldest = q.begin() + static_cast<std::ptrdiff_t>(impl_->in_flight);
      s.queued_bytes -= oldest->lines.size();
      q.erase(oldest);
      ++s.batches_dropped;
    }
    s.queued_batches = q.size();
  }
  impl_->wake.notify_one();
}

InfluxStatus InfluxWriter::status() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->status;
}

std::size_t InfluxWriter::stop(std::chrono::milliseconds flush) {
  std::size_t left = 0;
  {
    std::unique_lock lock(impl_->mutex);
    if (impl_->stopped) return 0;
    impl_->stopped = true;
    impl_->stopping = true;
    const auto before = impl_->status.batches_dropped;
    impl_->flush_deadline = SteadyClock::now() + flush;
    impl_->wake.notify_all();
    // A write still under way at the deadline is given up.
    if (!impl_->done.wait_until(lock, impl_->flush_deadline, [&] { return impl_->finished; })) {
      impl_->abandoned = true;
      impl_->io.stop();
      impl_->done.wait(lock, [&] { return impl_->finished; });
    }
    left = static_cast<std::size_t>(impl_->status.batches_dropped - before);
  }
  impl_->thread.join();
  return left;
}

}  // namespace smiles::api
