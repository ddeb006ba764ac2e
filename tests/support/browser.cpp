#include "browser.h"

#include <deque>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <thread>
// GCC 12 with the sanitizers' optimisation sees Beast's HTTP response parser (the
// WebSocket handshake) read a boost::optional it did not set: a known false positive
// of -Wmaybe-uninitialized in boost::optional, here only (test support).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Boost 1.74's asio needs <utility> first (std::exchange).
#include <utility>
// (keep <utility> first)
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "http_client.h"

namespace smiles::test {

namespace net = boost::asio;
namespace beast = boost::beast;
using nlohmann::json;
using tcp = net::ip::tcp;

// One read is always pending; messages are collected as the I/O runs, and the I/O
// runs only for as long as a caller waits. (A socket receive timeout does not bound a
// blocking asio read: asio polls again after EAGAIN, so a quiet page would block the
// test forever.)
struct Browser::Socket {
  net::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  std::deque<json> inbox;
  beast::error_code failed;

  void read_next() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        failed = ec;
        return;
      }
      inbox.push_back(json::parse(beast::buffers_to_string(buffer.data())));
      buffer.consume(buffer.size());
      read_next();
    });
  }

  // Runs the I/O until `done()` or the deadline; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point until) {
    while (!done() && !failed) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      if (io.stopped()) io.restart();
      io.run_one_for(until - now);
    }
    return done();
  }

  void send(const std::string& text) {
    bool sent = false;
    beast::error_code error;
    ws.text(true);
    ws.async_write(net::buffer(text), [&](beast::error_code ec, std::size_t) {
      error = ec;
      sent = true;
    });
    if (!run_until([&] { return sent; },
                   std::chrono::steady_clock::now() + std::chrono::seconds{30})) {
      throw std::runtime_error("DevTools write: no progress in 30 s");
    }
    if (error) throw std::runtime_error("DevTools write failed: " + error.message());
  }
};

namespace {

std::string base64_decode(const std::string& in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (const char c : in) {
    const auto at = chars.find(c);
    if (at == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(at);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace

Browser::Browser(int width, int height) {
  const auto log = (profile_.path() / "chromium.log").string();
  const std::string command =
      "exec chromium --headless --no-sandbox --disable-gpu --no-first-run "
      "--no-default-browser-check --disable-extensions --disable-background-networking "
      "--disable-component-update --disable-sync --metrics-recording-only "
      "--remote-debugging-address=127.0.0.1 --remote-debugging-port=0 --user-data-dir=" +
      profile_.path().string() + " --window-size=" + std::to_string(width) + "," +
      std::to_string(height) + " about:blank >" + log + " 2>&1";
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"sh", "-c", command});
  // Chromium writes the port it bound to into the profile.
  const auto port_file = profile_.path() / "DevToolsActivePort";
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::ifstream in(port_file);
    if (!(in >> port)) port = 0;
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  if (port == 0) {
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("chromium did not start (is Debian's chromium installed?): " +
                             text.substr(0, 2000));
  }
  // The page target of about:blank.
  std::string path;
  for (int i = 0; i < 100 && path.empty(); ++i) {
    const auto list = http_get(static_cast<std::uint16_t>(port), "/json/list");
    if (list.status == 200) {
      for (const auto& t : json::parse(list.body)) {
        if (t.value("type", "") == "page") {
          const std::string url = t.at("webSocketDebuggerUrl");
          path = url.substr(url.find('/', std::string("ws://").size()));
          break;
        }
      }
    }
    if (path.empty()) std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  if (path.empty()) throw std::runtime_error("chromium has no page target");
  ws_ = std::make_unique<Socket>();
  ws_->ws.next_layer().connect(
      {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  ws_->ws.read_message_max(64U << 20);
  ws_->ws.handshake("127.0.0.1:" + std::to_string(port), path);
  ws_->read_next();
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"})
    call(domain);
}

Browser::~Browser() {
  if (ws_) {
    beast::error_code ec;
    ws_->ws.next_layer().close(ec);
    ws_->io.restart();
    ws_->io.poll();  // the pending read ends (aborted) before its buffer goes
  }
  if (process_) process_->stop(SIGKILL);
}

void Browser::note(const json& event) {
  const std::string method = event.value("method", "");
  const auto& p = event.contains("params") ? event["params"] : json::object();
  if (method == "Runtime.consoleAPICalled" && p.value("type", "") == "error") {
    std::string text = "console.error:";
    for (const auto& a : p["args"])
      text += " " + a.value("description", a.value("value", json()).dump());
    errors_.push_back(text);
  } else if (method == "Runtime.exceptionThrown") {
    errors_.push_back("exception: " + p["exceptionDetails"].dump());
  } else if (method == "Log.entryAdded" && p["entry"].value("level", "") == "error") {
    errors_.push_back("log: " + p["entry"].value("text", "") + " " + p["entry"].value("url", ""));
  } else if (method == "Network.requestWillBeSent") {
    requests_.push_back(p["request"].value("url", ""));
  }
}

void Browser::pump(std::chrono::milliseconds budget) {
  const auto until = std::chrono::steady_clock::now() + budget;
  for (;;) {
    while (!ws_->inbox.empty()) {
      note(ws_->inbox.front());
      ws_->inbox.pop_front();
    }
    if (ws_->failed || std::chrono::steady_clock::now() >= until) return;
    ws_->run_until([this] { return !ws_->inbox.empty(); }, until);
  }
}

json Browser::call(const std::string& method, json params) {
  const int id = next_id_++;
  ws_->send(json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  for (;;) {
    while (!ws_->inbox.empty()) {
      auto message = std::move(ws_->inbox.front());
      ws_->inbox.pop_front();
      if (message.value("id", 0) != id) {
        note(message);
        continue;
      }
      if (message.contains("error")) {
        throw std::runtime_error(method + " failed: " + message["error"].dump());
      }
      return message["result"];
    }
    if (ws_->failed)
      throw std::runtime_error("DevTools connection failed: " + ws_->failed.message());
    if (!ws_->run_until([this] { return !ws_->inbox.empty(); }, until) && !ws_->failed) {
      throw std::runtime_error(method + ": no answer in 30 s");
    }
  }
}

void Browser::emulate(int width, int height, bool mobile) {
  call("Emulation.setDeviceMetricsOverride", {{"width", width},
                                              {"height", height},
                                              {"deviceScaleFactor", mobile ? 2 : 1},
                                              {"mobile", mobile}});
}

void Browser::navigate(const std::string& url) {
  call("Page.navigate", {{"url", url}});
  wait_for("document.readyState === 'complete'", std::chrono::seconds{20});
}

json Browser::eval(const std::string& expression) {
  const auto r =
      call("Runtime.evaluate",
           {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) {
    throw std::runtime_error("JavaScript failed: " + r["exceptionDetails"].dump());
  }
  return r["result"].value("value", json());
}

bool Browser::wait_for(const std::string& expression, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (eval("Boolean(" + expression + ")") == json(true)) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    pump(std::chrono::milliseconds{100});
  }
}

void Browser::screenshot(const std::filesystem::path& png) {
  const auto r =
      call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  std::ofstream out(png, std::ios::binary | std::ios::trunc);
  out << base64_decode(r.at("data").get<std::string>());
  if (!out) throw std::runtime_error("cannot write " + png.string());
}

std::vector<std::string> Browser::errors() {
  pump(std::chrono::milliseconds{50});
  return errors_;
}

std::vector<std::string> Browser::requests() {
  pump(std::chrono::milliseconds{50});
  return requests_;
}

}  // namespace smiles::test
