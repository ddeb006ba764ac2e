// WebSocket push, against a WebSocket server of the test's own that behaves like the
// Home Assistant component's receiver (token check, greeting, pings answered).
#include "smiles/api/push_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "eventually.h"
#include "smiles/core/error.h"
#include "temp_dir.h"
#include "ws_server.h"

namespace smiles::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::WsServer;
using test::WsServerOptions;

TEST(PushUrl, AcceptsWhatTheComponentSendsAndRefusesTheRest) {
  auto u = parse_push_url("ws://192.168.1.10:8123/api/hoymiles_smiles/ws?token=abc");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "192.168.1.10");
  EXPECT_EQ(u->port, "8123");
  EXPECT_EQ(u->target, "/api/hoymiles_smiles/ws?token=abc");
  EXPECT_EQ(u->without_query, "ws://192.168.1.10:8123/api/hoymiles_smiles/ws");
  u = parse_push_url("WSS://ha.example.org/api/hoymiles_smiles/ws?token=x#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/api/hoymiles_smiles/ws?token=x");
  u = parse_push_url("ws://[::1]:9000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/");
  u = parse_push_url("ws://homeassistant.local?token=t");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/?token=t");
  for (const char* bad : {"http://ha:8123/api/ws", "ws://", "ws:///path", "ws://:80/", "ws://h:0/",
                          "ws://h:65536/", "ws://h:80x/", "ws://user:pw@h/", "ws://h/a b",
                          "ws://h/\x01", "ws://[::1/", "wss:/h/", "ftp://h/", ""}) {
    EXPECT_FALSE(parse_push_url(bad)) << bad;
  }
  EXPECT_FALSE(parse_push_url("ws://h/" + std::string(3000, 'a')));
}

TEST(PushRegistration, TheComponentsBodyAndItsFaults) {
  auto r = parse_push_registration(
      R"({"websocket_url": "ws://ha:8123/api/hoymiles_smiles/ws?token=t", "name": "Home Assistant"})");
  ASSERT_TRUE(std::holds_alternative<PushReceiver>(r));
  EXPECT_EQ(std::get<PushReceiver>(r).name, "Home Assistant");
  r = parse_push_registration(R"({"websocket_url": "ws://ha/ws"})");
  ASSERT_TRUE(std::holds_alternative<PushReceiver>(r));
  EXPECT_EQ(std::get<PushReceiver>(r).name, "Unknown");  // the Python bridge's default
  const std::vector<std::pair<std::string, std::string>> faults = {
      {"{", "invalid_json"},
      {"[1]", "invalid_json"},
      {"", "invalid_json"},
      {R"({"name": "x"})", "missing_websocket_url"},
      {R"({"websocket_url": 7})", "missing_websocket_url"},
      {R"({"websocket_url": ""})", "missing_websocket_url"},
      {R"({"websocket_url": "http://ha:8123/api"})", "invalid_websocket_url"},
      {R"({"websocket_url": "ws://"})", "invalid_websocket_url"},
      {R"({"websocket_url": "ws://ha/ws", "name": 5})", "invalid_name"},
      {R"({"websocket_url": "ws://ha/ws", "name": ")" + std::string(101, 'n') + "\"}",
       "invalid_name"},
  };
  for (const auto& [body, code] : faults) {
    const auto v = parse_push_registration(body);
    ASSERT_TRUE(std::holds_alternative<Response>(v)) << body;
    const auto& answer = std::get<Response>(v);
    EXPECT_EQ(answer.status, 400) << body;
    EXPECT_EQ(json::parse(answer.body)["error"]["code"], code) << body;
  }
}

WsServerOptions receiver(const std::string& token = "", std::uint16_t port = 0) {
  WsServerOptions o;
  o.token = token;
  o.port = port;
  return o;
}

PushOptions fast() {
  PushOptions o;
  o.backoff_initial = 50ms;
  o.backoff_max = 200ms;
  o.connect_timeout = 2000ms;
  return o;
}

std::string url(const WsServer& s, const std::string& token, const char* scheme = "ws",
                const char* host = "127.0.0.1") {
  return std::string(scheme) + "://" + host + ":" + std::to_string(s.port()) +
         "/api/hoymiles_smiles/ws?token=" + token;
}

auto has = [](const std::string& text) {
  return [text](const std::vector<std::string>& m) {
    return std::find(m.begin(), m.end(), text) != m.end();
  };
};

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  return test::eventually_true(pred, timeout);
}

TEST(PushHub, PingFirstThenEveryUpdateAndTheLatestOnConnect) {
  WsServer server(receiver("good"));
  std::atomic<int> builds{0};
  PushHub hub(fast(), [&builds] {
    return json{{"type", "update"}, {"data", {{"n", ++builds}}}}.dump();
  });
  hub.publish(R"({"type":"update","data":{"n":0}})");  // nobody registered yet: kept as latest
  ASSERT_EQ(hub.add({url(server, "good"), "Home Assistant"}), PushAdd::kAdded);
  ASSERT_TRUE(server.wait_for([](const auto& m) { return m.size() >= 2; }, 10s));
  const auto first = server.messages();
  EXPECT_EQ(first[0], R"({"type":"ping"})");
  EXPECT_EQ(first[1], R"({"type":"update","data":{"n":0}})");
  hub.notify();
  ASSERT_TRUE(server.wait_for(has(R"({"data":{"n":1},"type":"update"})"), 10s));
  EXPECT_EQ(builds, 1);
  const auto status = hub.status();
  ASSERT_EQ(status.size(), 1U);
  EXPECT_TRUE(status[0].connected);
  EXPECT_EQ(status[0].url, "ws://127.0.0.1:" + std::to_string(server.port()) +
                               "/api/hoymiles_smiles/ws");  // never the token
  // The receiver may have the message before the hub has counted its send.
  EXPECT_TRUE(eventually([&] { return hub.status()[0].sent == 2U; })) << hub.status()[0].sent;
  EXPECT_TRUE(eventually([&] { return hub.totals().sent == 2U; })) << hub.totals().sent;
}

TEST(PushHub, ReconnectsWhenTheReceiverComesBack) {
  auto server = std::make_unique<WsServer>(receiver("t"));
  const auto port = server->port();
  PushHub hub(fast(), [] { return std::string(R"({"type":"update"})"); });
  hub.add({url(*server, "t"), "Home Assistant"});
  ASSERT_TRUE(server->wait_for(has(R"({"type":"ping"})"), 10s));
  server.reset();  // Home Assistant restarts
  ASSERT_TRUE(eventually([&] { return !hub.status()[0].connected; }));
  EXPECT_FALSE(hub.status()[0].last_error.empty());
  server = std::make_unique<WsServer>(receiver("t", port));
  ASSERT_TRUE(server->wait_for(has(R"({"type":"ping"})"), 10s));
  hub.notify();
  ASSERT_TRUE(server->wait_for(has(R"({"type":"update"})"), 10s));
  EXPECT_EQ(hub.status()[0].connects, 2U);
}

TEST(PushHub, RegistrationsAreBoundedAndANewTokenReplacesTheOld) {
  WsServer server(receiver());
  PushHub hub(fast(), [] { return std::string("{}"); });
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(hub.add({url(server, "t" + std::to_string(i)), "HA " + std::to_string(i)}),
              PushAdd::kAdded);
  }
  EXPECT_EQ(hub.add({url(server, "t0"), "HA 0"}), PushAdd::kUnchanged);
  EXPECT_EQ(hub.add({url(server, "x"), "another"}), PushAdd::kFull);
  // Home Assistant restarted: same name and address, a new token.
  EXPECT_EQ(hub.add({url(server, "new"), "HA 3"}), PushAdd::kReplaced);
  EXPECT_EQ(hub.add({url(server, "older"), "HA 3"}, false), PushAdd::kUnchanged);
  const auto receivers = hub.receivers();
  ASSERT_EQ(receivers.size(), 8U);
  EXPECT_EQ(std::count_if(receivers.begin(), receivers.end(),
                          [&](const auto& r) { return r.url == url(server, "new"); }),
            1);
  EXPECT_THROW(hub.add({"http://x/", "bad"}), DataError);
}

TEST(PushHub, ARefusedTokenIsReported) {
  WsServer server(receiver("right"));
  PushHub hub(fast(), [] { return std::string("{}"); });
  hub.add({url(server, "stale"), "Home Assistant"});
  ASSERT_TRUE(eventually([&] {
    return hub.status()[0].last_error.find("Invalid authentication token") != std::string::npos;
  })) << hub.status()[0].last_error;
  EXPECT_TRUE(server.messages().empty());
}

TEST(PushHub, ASlowReceiverGetsOnlyTheNewestUpdate) {
  auto deaf = receiver();
  deaf.deaf = true;
  WsServer server(deaf);
  PushHub hub(fast(), [] { return std::string("{}"); });
  hub.add({url(server, "t"), "slow"});
  ASSERT_TRUE(eventually([&] { return hub.status()[0].connected; }));
  // Updates far larger than the socket buffers: the first write cannot finish, and
  // each later one replaces the one waiting. publish() never waits.
  const std::string big = json{{"type", "update"}, {"pad", std::string(8 << 20, 'x')}}.dump();
  for (int i = 0; i < 10; ++i) hub.publish(big);
  ASSERT_TRUE(eventually([&] { return hub.status()[0].dropped >= 8; })) << hub.status()[0].dropped;
  EXPECT_LE(hub.status()[0].sent, 1U);
  EXPECT_GE(hub.totals().dropped, 8U);
  hub.stop();  // and stopping does not wait for it either
}

TEST(PushHub, WssVerifiesTheReceiversCertificate) {
  test::TempDir dir("smiles-wss");
  test::make_test_certificate(dir.path().string());
  auto tls = receiver("t");
  tls.cert_file = dir.path().string() + "/cert.pem";
  tls.key_file = dir.path().string() + "/key.pem";
  WsServer server(tls);
  {
    // A certificate nobody vouches for is refused.
    PushHub hub(fast(), [] { return std::string("{}"); });
    hub.add({url(server, "t", "wss", "localhost"), "untrusted"});
    ASSERT_TRUE(eventually([&] {
      return hub.status()[0].last_error.find("TLS handshake failed") != std::string::npos;
    })) << hub.status()[0].last_error;
    EXPECT_EQ(server.handshakes(), 0);
  }
  // Trusted (as a private CA added to the system store would be), it connects.
  ::setenv("SSL_CERT_FILE", (dir.path().string() + "/cert.pem").c_str(), 1);
  PushHub hub(fast(), [] { return std::string(R"({"type":"update"})"); });
  ::unsetenv("SSL_CERT_FILE");
  hub.add({url(server, "t", "wss", "localhost"), "Home Assistant"});
  ASSERT_TRUE(server.wait_for(has(R"({"type":"ping"})"), 10s)) << hub.status()[0].last_error;
  hub.notify();
  ASSERT_TRUE(server.wait_for(has(R"({"type":"update"})"), 10s));
}

}  // namespace
}  // namespace smiles::api
