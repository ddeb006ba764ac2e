#include "browser.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <fstream>
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

struct Browser::Socket {
  net::io_context io;
  beast::websocket::stream<tcp::socket> ws{io};
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
  // Reads give up after 200 ms (pump's unit of waiting).
  timeval tv{0, 200000};
  setsockopt(ws_->ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ws_->ws.read_message_max(64U << 20);
  ws_->ws.handshake("127.0.0.1:" + std::to_string(port), path);
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"})
    call(domain);
}

Browser::~Browser() {
  if (ws_) {
    beast::error_code ec;
    ws_->ws.next_layer().close(ec);
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
  while (std::chrono::steady_clock::now() < until) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_->ws.read(buffer, ec);
    if (ec) return;  // the read timed out: nothing more for now
    note(json::parse(beast::buffers_to_string(buffer.data())));
  }
}

json Browser::call(const std::string& method, json params) {
  const int id = next_id_++;
  ws_->ws.text(true);
  ws_->ws.write(
      net::buffer(json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump()));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < until) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_->ws.read(buffer, ec);
    if (ec == beast::error::timeout || ec == net::error::would_block ||
        ec == net::error::try_again) {
      continue;
    }
    if (ec) throw std::runtime_error("DevTools connection failed: " + ec.message());
    auto message = json::parse(beast::buffers_to_string(buffer.data()));
    if (message.value("id", 0) != id) {
      note(message);
      continue;
    }
    if (message.contains("error")) {
      throw std::runtime_error(method + " failed: " + message["error"].dump());
    }
    return message["result"];
  }
  throw std::runtime_error(method + ": no answer in 30 s");
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
