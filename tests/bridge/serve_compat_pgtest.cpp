// What the Python bridge's Home Assistant component (Studio729/hoymiles-mqtt,
// custom_components/hoymiles_smiles/) reads and does, against `serve` as a process,
// configured as a Python-bridge user has it (DTU_HOST, no DTU name):
// - coordinator.py polls /health, /stats and /api/inverters (raise_for_status: a 503
//   makes every entity unavailable) and looks up health["dtus"]["DTU"];
// - sensor.py reads uptime_seconds, the DTU's query_count, error_count,
//   seconds_since_last_success, status and last_successful_query, the inverters'
//   values and ports, groups inverters by dtu_name and finds that name in dtus, and
//   at setup reads /api/inverters/{serial} and /ports to learn the port numbers;
// - __init__.py posts {"websocket_url", "name"} to /api/websocket/register and
//   websocket_server.py then receives {"type":"ping"} and {"type":"update","data":
//   {"health","stats","inverters"}} (the receiver here is the test's own server).
#include "serve_fixture.h"
#include "ws_server.h"

namespace smiles::test {
namespace {

class CompatTest : public ServeTest {
 protected:
  CompatTest() { single_dtu = true; }

  HttpResult post_register(const std::string& body,
                           const std::map<std::string, std::string>& headers = {}) {
    return http_get(http_port, "/api/websocket/register", headers, "POST", body);
  }
  static std::string registration(const WsServer& s, const std::string& token,
                                  const std::string& name = "Home Assistant") {
    return json{{"websocket_url", "ws://127.0.0.1:" + std::to_string(s.port()) +
                                      "/api/hoymiles_smiles/ws?token=" + token},
                {"name", name}}
        .dump();
  }
  json receivers() { return get_json("/health")["push"]["receivers"]; }
};

bool is_iso_utc(const json& v) {
  return v.is_string() && v.get<std::string>().size() >= 20 && v.get<std::string>().back() == 'Z';
}

TEST_F(CompatTest, TheComponentFindsEverythingItReads) {
  start();
  ASSERT_TRUE(wait_health(polled_single));
  ASSERT_TRUE(wait_first_stored());  // /stats counts stored rows

  const auto health = http_get(http_port, "/health");
  ASSERT_EQ(health.status, 200);
  const auto h = json::parse(health.body);
  EXPECT_TRUE(h["healthy"]);
  EXPECT_TRUE(h["uptime_seconds"].is_number_integer()) << h["uptime_seconds"];
  EXPECT_TRUE(is_iso_utc(h["start_time"]));
  ASSERT_TRUE(h["dtus"].contains("DTU")) << h["dtus"];
  const auto& dtu = h["dtus"]["DTU"];
  EXPECT_EQ(dtu["status"], "online");
  EXPECT_TRUE(dtu["query_count"].is_number_integer());
  EXPECT_TRUE(dtu["error_count"].is_number_integer());
  EXPECT_TRUE(dtu["seconds_since_last_success"].is_number_integer())
      << dtu["seconds_since_last_success"];
  EXPECT_TRUE(is_iso_utc(dtu["last_successful_query"]));
  EXPECT_TRUE(dtu.contains("last_error") && dtu.contains("last_error_time"));

  const auto stats = get_json("/stats");
  EXPECT_EQ(stats["database_type"], "POSTGRES");
  for (const char* f :
       {"database_size_bytes", "total_records", "production_cache_entries", "config_cache_entries",
        "metrics_entries", "inverter_data_entries", "port_data_entries", "inverters_count"}) {
    EXPECT_TRUE(stats[f].is_number_integer()) << f << ": " << stats[f];
  }
  EXPECT_EQ(stats["inverters_count"], 4);
  EXPECT_GE(stats["port_data_entries"].get<int>(), 13);

  const auto list = http_get(http_port, "/api/inverters");
  EXPECT_EQ(list.headers.at("access-control-allow-origin"), "*");
  const auto inverters = json::parse(list.body);
  ASSERT_EQ(inverters.size(), 4U);
  for (const auto& inv : inverters) {
    // DTU sensors: the inverter's dtu_name is a key of health.dtus.
    EXPECT_TRUE(h["dtus"].contains(inv["dtu_name"].get<std::string>())) << inv["dtu_name"];
    EXPECT_FALSE(inv["inverter_type"].get<std::string>().empty());
    for (const char* f : {"grid_voltage", "grid_frequency", "temperature"}) {
      EXPECT_TRUE(inv[f].is_number()) << f;
    }
    for (const char* f : {"operating_status", "link_status", "alarm_code", "alarm_count"}) {
      EXPECT_TRUE(inv[f].is_number_integer()) << f;
    }
    EXPECT_TRUE(is_iso_utc(inv["timestamp"]));
    ASSERT_FALSE(inv["ports"].empty());
    for (const auto& p : inv["ports"]) {
      EXPECT_TRUE(p["port_number"].is_number_integer());
      for (const char* f : {"pv_voltage", "pv_current", "pv_power", "total_production"}) {
        EXPECT_TRUE(p[f].is_number()) << f;
      }
      EXPECT_TRUE(p["today_production"].is_number_integer());
    }
    // Setup: the port numbers come from /api/inverters/{serial} and its /ports.
    const auto serial = inv["serial_number"].get<std::string>();
    EXPECT_EQ(get_json("/api/inverters/" + serial)["serial_number"], serial);
    const auto ports = get_json("/api/inverters/" + serial + "/ports");
    EXPECT_EQ(ports.size(), inv["ports"].size());
  }
}

TEST_F(CompatTest, HealthIs503WhenNoDtuAnsweredForTheStaleWindow) {
  start({"--speed", "0"}, {"HEALTH_STALE_SECONDS=2"});
  ASSERT_TRUE(wait_health(polled_single));
  EXPECT_EQ(http_get(http_port, "/health").status, 200);
  sim->stop(SIGKILL);
  HttpResult r;
  for (int i = 0; i < 100 && r.status != 503; ++i) {
    r = http_get(http_port, "/health");
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(r.status, 503);            // Home Assistant marks the entities unavailable
  const auto h = json::parse(r.body);  // the same body
  EXPECT_FALSE(h["healthy"]);
  EXPECT_EQ(h["dtus"]["DTU"]["status"], "error");
  EXPECT_TRUE(h["dtus"]["DTU"]["last_error"].is_string());
  EXPECT_EQ(http_get(http_port, "/api/inverters").status, 200);  // data stays readable
  sim = start_simulator({"--speed", "0"}, sim_port);
  ASSERT_TRUE(wait_health([](const json& j) { return j["healthy"] == true; }));
  EXPECT_EQ(http_get(http_port, "/health").status, 200);
}

TEST_F(CompatTest, PushReachesTheReceiverAndResumesAfterEitherSideRestarts) {
  WsServerOptions options;
  options.token = "t0k3n";
  auto receiver = std::make_unique<WsServer>(options);
  options.port = receiver->port();
  start();
  ASSERT_TRUE(wait_health(polled_single));

  const auto r = post_register(registration(*receiver, "t0k3n"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["status"], "registered");
  EXPECT_EQ(r.headers.at("access-control-allow-origin"), "*");

  // {"type":"ping"} first, then updates with the REST answers.
  auto update_after = [](std::size_t from) {
    return [from](const std::vector<std::string>& m) {
      for (std::size_t i = from; i < m.size(); ++i) {
        if (m[i].find("\"update\"") != std::string::npos) return true;
      }
      return false;
    };
  };
  ASSERT_TRUE(receiver->wait_for(update_after(0), 20s));
  auto messages = receiver->messages();
  EXPECT_EQ(messages[0], R"({"type":"ping"})");
  json update;
  for (const auto& m : messages) {
    if (m.find("\"update\"") != std::string::npos) update = json::parse(m);
  }
  EXPECT_EQ(update["type"], "update");
  const auto& data = update["data"];
  EXPECT_EQ(data["health"]["dtus"]["DTU"]["status"], "online");
  EXPECT_TRUE(data["health"]["uptime_seconds"].is_number_integer());
  EXPECT_EQ(data["stats"]["database_type"], "POSTGRES");
  const auto rest = get_json("/api/inverters");
  ASSERT_EQ(data["inverters"].size(), rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(data["inverters"][i]["serial_number"], rest[i]["serial_number"]);
    EXPECT_EQ(data["inverters"][i]["ports"].size(), rest[i]["ports"].size());
    EXPECT_EQ(data["inverters"][i].size(), rest[i].size());  // the same fields
  }

  // Kept in config_cache, shown in /health without the receiver's token.
  EXPECT_NE(db.scalar("SELECT value::text FROM config_cache WHERE key = "
                      "'websocket_registrations'")
                .find("token=t0k3n"),
            std::string::npos);
  const auto health_text = http_get(http_port, "/health").body;
  EXPECT_EQ(health_text.find("t0k3n"), std::string::npos);
  ASSERT_EQ(receivers().size(), 1U);
  EXPECT_TRUE(receivers()[0]["connected"]);
  EXPECT_EQ(metric("hoymiles_push_receivers{state=\"connected\"}"), "1");

  // Home Assistant restarts: the bridge reconnects (backoff from 1 s).
  receiver.reset();
  ASSERT_TRUE(
      wait_health([](const json& h) { return h["push"]["receivers"][0]["connected"] == false; }));
  receiver = std::make_unique<WsServer>(options);
  ASSERT_TRUE(receiver->wait_for(update_after(0), 20s)) << receivers();
  EXPECT_EQ(receiver->messages()[0], R"({"type":"ping"})");

  // The bridge restarts: it resumes pushing without a new registration.
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  const auto before = receiver->messages().size();
  launch_serve();
  ASSERT_TRUE(receiver->wait_for(
      [before](const std::vector<std::string>& m) {
        std::size_t pings = 0;
        for (std::size_t i = before; i < m.size(); ++i) pings += m[i] == R"({"type":"ping"})";
        return pings == 1;
      },
      20s));
  ASSERT_TRUE(receiver->wait_for(update_after(before), 20s));
  EXPECT_EQ(receiver->handshakes(), 2);
  EXPECT_EQ(receivers().size(), 1U);
}

TEST_F(CompatTest, BadRegistrationsAre400AndNothingIsKept) {
  start();
  ASSERT_TRUE(wait_health(polled_single));
  WsServer receiver({});
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{not json", "invalid_json"},
      {R"(["ws://127.0.0.1:1/"])", "invalid_json"},
      {R"({"name": "Home Assistant"})", "missing_websocket_url"},
      {R"({"websocket_url": "http://127.0.0.1:8123/api/hoymiles_smiles/ws"})",
       "invalid_websocket_url"},
      {R"({"websocket_url": "ws://user:pw@127.0.0.1:8123/"})", "invalid_websocket_url"},
      {R"({"websocket_url": "ws://127.0.0.1:8123/", "name": ["x"]})", "invalid_name"},
  };
  for (const auto& [body, code] : bad) {
    const auto r = post_register(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], code) << body;
  }
  EXPECT_EQ(http_get(http_port, "/api/websocket/register").status, 405);
  EXPECT_TRUE(receivers().empty());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM config_cache WHERE key = 'websocket_registrations'"),
            "0");

  for (int i = 0; i < 8; ++i) {
    const auto n = std::to_string(i);
    EXPECT_EQ(post_register(registration(receiver, "t" + n, "HA " + n)).status, 200);
  }
  const auto full = post_register(registration(receiver, "t9", "ninth"));
  EXPECT_EQ(full.status, 400);
  EXPECT_EQ(json::parse(full.body)["error"]["code"], "too_many_registrations");
  EXPECT_EQ(receivers().size(), 8U);
  EXPECT_EQ(db.scalar("SELECT jsonb_array_length(value) FROM config_cache WHERE key = "
                      "'websocket_registrations'"),
            "8");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM config_cache, jsonb_array_elements(value) e WHERE "
                      "key = 'websocket_registrations' AND e->>'name' = 'ninth'"),
            "0");
}

TEST_F(CompatTest, RegistrationNeedsTheTokenWhenOneIsSet) {
  start({"--speed", "0"}, {"API_TOKEN=s3cret"});
  ASSERT_TRUE(wait_health(polled_single));
  WsServer receiver({});
  EXPECT_EQ(post_register(registration(receiver, "t")).status, 401);
  EXPECT_EQ(post_register(registration(receiver, "t"), {{"Authorization", "Bearer s3cret"}}).status,
            200);
  ASSERT_TRUE(
      receiver.wait_for([](const auto& m) { return m.size() >= 2; }, 20s));  // ping and an update
}

TEST_F(CompatTest, ADeadOrSlowReceiverNeverDelaysPollingOrStoring) {
  WsServerOptions stall;
  stall.stall = true;
  WsServer stalled(stall);
  WsServerOptions deaf;
  deaf.deaf = true;
  WsServer slow(deaf);
  start();
  ASSERT_TRUE(wait_health(polled_single));
  EXPECT_EQ(post_register(registration(stalled, "t", "stalled")).status, 200);
  EXPECT_EQ(post_register(registration(slow, "t", "slow")).status, 200);
  ASSERT_TRUE(eventually_true([&] { return slow.handshakes() == 1 && stalled.accepted() >= 1; }));
  const int polls = get_json("/health")["dtus"]["DTU"]["query_count"];
  const auto stored = std::stoll(db.scalar("SELECT count(*) FROM inverter_data"));
  // 20 more polls (QUERY_PERIOD 0.3 s), each stored, while neither receiver reads.
  ASSERT_TRUE(wait_health(
      [polls](const json& h) { return h["dtus"]["DTU"]["query_count"] >= polls + 20; }, 30s));
  EXPECT_GE(std::stoll(db.scalar("SELECT count(*) FROM inverter_data")), stored + 4 * 19);
  EXPECT_EQ(get_json("/health")["dtus"]["DTU"]["error_count"], 0);
}

}  // namespace
}  // namespace smiles::test
