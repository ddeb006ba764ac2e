// `hoymiles-smiles serve` as a process, with the simulator (a process) and a real
// PostgreSQL: what Home Assistant and Prometheus see.
#include "loopback.h"
#include "serve_fixture.h"

namespace smiles::test {
namespace {

TEST_F(ServeTest, ApiValuesEqualTheSimulatorsWithEveryContractField) {
  start();
  ASSERT_TRUE(wait_health(polled));
  // The same model the simulator runs, at the same frozen time.
  int y, mo, d, hour;
  std::sscanf(kStart, "%d-%d-%dT%d", &y, &mo, &d, &hour);
  const Timestamp t =
      Timestamp{std::chrono::sys_days{std::chrono::year{y} / mo / d}.time_since_epoch()} +
      std::chrono::hours{hour};
  const protocol::SimulatedDtu model(protocol::layout_from_spec(kLayout, 7), {t, 0, 15});
  const auto inverters = get_json("/api/inverters");
  ASSERT_EQ(inverters.size(), 4U);
  int block = 0;
  for (const auto& inv_spec : model.layout().inverters) {
    const auto j = get_json("/api/inverters/" + inv_spec.serial_number);
    for (const char* f :
         {"serial_number", "dtu_name", "inverter_type", "first_seen", "last_seen", "timestamp",
          "grid_voltage", "grid_frequency", "temperature", "operating_status", "alarm_code",
          "alarm_count", "link_status", "ports"}) {
      EXPECT_TRUE(j.contains(f)) << f;
    }
    EXPECT_EQ(j["dtu_name"], "roof");
    ASSERT_EQ(j["ports"].size(), static_cast<std::size_t>(inv_spec.ports));
    for (int p = 0; p < inv_spec.ports; ++p, ++block) {
      const auto expected = protocol::scale_port_block(model.port_block(block, t));
      const auto& port = j["ports"][static_cast<std::size_t>(p)];
      for (const char* f : {"serial_number", "port_number", "timestamp", "pv_voltage", "pv_current",
                            "pv_power", "today_production", "total_production"}) {
        EXPECT_TRUE(port.contains(f)) << f;
      }
      EXPECT_DOUBLE_EQ(port["pv_power"].get<double>(), expected.pv_power_w);
      EXPECT_DOUBLE_EQ(port["pv_voltage"].get<double>(), expected.pv_voltage_v);
      EXPECT_DOUBLE_EQ(port["pv_current"].get<double>(), expected.pv_current_a);
      EXPECT_EQ(port["total_production"].get<std::uint64_t>(), expected.total_production_wh);
      if (p == 0) {
        EXPECT_DOUBLE_EQ(j["temperature"].get<double>(), expected.temperature_c);
      }
    }
  }
  EXPECT_EQ(get_json("/api/ports").size(), 13U);
  EXPECT_EQ(
      get_json("/api/inverters/" + model.layout().inverters[1].serial_number + "/ports").size(),
      4U);
  const auto serial = model.layout().inverters[0].serial_number;
  ASSERT_TRUE(
      wait_health([](const json& health) { return health["dtus"]["roof"]["query_count"] >= 3; }));
  const auto history = get_json("/api/inverters/" + serial + "/history?limit=2");
  ASSERT_EQ(history.size(), 2U);
  EXPECT_GT(history[0]["timestamp"].get<std::string>(), history[1]["timestamp"].get<std::string>());
  EXPECT_TRUE(history[0].contains("grid_voltage"));
  EXPECT_EQ(get_json("/api/inverters/" + serial + "/ports/2/history?limit=1").size(), 1U);
  const auto stats = get_json("/stats");
  for (const char* f : {"total_records", "database_size_bytes", "tables", "oldest_reading",
                        "newest_reading", "spool"}) {
    EXPECT_TRUE(stats.contains(f)) << f;
  }
  EXPECT_GE(stats["tables"]["port_data"].get<int>(), 13);
  const auto current = get_json("/api/production/current");
  EXPECT_EQ(current.size(), 13U);
  const auto summary = get_json("/api/production/summary");
  EXPECT_TRUE(summary["total_wh"].is_number());
  EXPECT_EQ(summary["inverters_producing"], 4);
  EXPECT_EQ(http_get(http_port, "/ready").status, 200);
  const auto health = get_json("/health");
  EXPECT_TRUE(health["healthy"]);
  EXPECT_TRUE(health["database"]["connected"]);
}

TEST_F(ServeTest, BadRequestsGetTheRightStatusAndTheServerKeepsServing) {
  start();
  ASSERT_TRUE(wait_health(polled));
  EXPECT_EQ(http_get(http_port, "/api/inverters/xyz").status, 400);
  EXPECT_EQ(http_get(http_port, "/api/inverters/000000000000").status, 404);
  for (const char* limit : {"0", "abc", "1000000000"}) {
    const auto r =
        http_get(http_port, std::string("/api/inverters/102100007000/history?limit=") + limit);
    EXPECT_EQ(r.status, 400) << limit;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_parameter");
  }
  EXPECT_EQ(http_get(http_port, "/no/such/path").status, 404);
  EXPECT_EQ(http_get(http_port, "/health", {}, "POST").status, 405);
  EXPECT_EQ(http_get(http_port, "/health", {{"X-Filler", std::string(20000, 'a')}}).status, 431);
  const auto head = http_get(http_port, "/api/inverters", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_GT(std::stoi(head.headers.at("content-length")), 100);

  // A slow client that never finishes its request is cut off; others are served meanwhile.
  const int slow = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = loopback_address(http_port);
  ASSERT_EQ(connect(slow, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial = "GET /health HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(send(slow, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  EXPECT_EQ(http_get(http_port, "/health").status, 200);
  timeval tv{5, 0};
  setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64];
  EXPECT_EQ(recv(slow, buf, sizeof buf, 0), 0) << "server should close the slow connection";
  close(slow);
  EXPECT_EQ(http_get(http_port, "/api/inverters").status, 200);
  EXPECT_NE(metric("hoymiles_http_requests_total{code=\"400\""), "");
}

TEST_F(ServeTest, DtuDroppingOutAndReturningShowsInHealthAndMetrics) {
  start();
  ASSERT_TRUE(wait_health(polled));
  EXPECT_EQ(metric("hoymiles_dtu_up{dtu=\"roof\"}"), "1");
  const auto requests = metric("hoymiles_dtu_modbus_requests_total{dtu=\"roof\"}");
  ASSERT_NE(requests, "");
  EXPECT_GT(std::stod(requests), 0);
  sim->stop(SIGKILL);
  ASSERT_TRUE(wait_health([](const json& h) {
    return h["dtus"]["roof"]["status"] == "error" && h["dtus"]["roof"]["error_count"] > 0 &&
           h["dtus"]["roof"]["last_error"].is_string();
  }));
  EXPECT_EQ(metric("hoymiles_dtu_up{dtu=\"roof\"}"), "0");
  EXPECT_NE(metric("hoymiles_dtu_polls_total{dtu=\"roof\",result=\"connection\"}"), "");
  // The client's own counters say why (every kind is there from the first poll).
  EXPECT_TRUE(eventually_true([&] {
    const auto errors =
        metric("hoymiles_dtu_modbus_problems_total{dtu=\"roof\",kind=\"connection_error\"}");
    return !errors.empty() && std::stod(errors) > 0;
  }));
  EXPECT_NE(
      metric("hoymiles_dtu_modbus_problems_total{dtu=\"roof\",kind=\"wrong_byte_count_accepted\"}"),
      "");
  sim = start_simulator({"--speed", "0"}, sim_port);  // same port
  ASSERT_TRUE(wait_health(polled));
  EXPECT_EQ(metric("hoymiles_dtu_up{dtu=\"roof\"}"), "1");
}

TEST_F(ServeTest, ZeroBlocksAndMidnightNeverLowerServedTotals) {
  // One simulated hour per second from 22:30, zero blocks for 5 of every 15 minutes.
  start({"--speed", "3600", "--start-time", "2026-06-01T22:30:00Z", "--zero-window", "900:300"},
        {"QUERY_PERIOD=0.1"});
  ASSERT_TRUE(wait_health(polled));
  // Energy is known from the first good reading on (the first polls may be zero blocks).
  ASSERT_TRUE(eventually_true(
      [&] { return http_get(http_port, "/api/production/summary").status == 200; }));
  std::uint64_t last_total = 0;
  double last_energy = 0;
  int zero_polls = 0;
  const auto until = std::chrono::steady_clock::now() + 3s;  // past midnight
  while (std::chrono::steady_clock::now() < until) {
    const auto s = get_json("/api/production/summary");
    const auto total = s["total_wh"].get<std::uint64_t>();
    EXPECT_GE(total, last_total);
    last_total = total;
    const auto energy = metric("hoymiles_port_energy_joules_total{dtu=\"roof\",port=\"1\"");
    if (!energy.empty()) {
      EXPECT_GE(std::stod(energy), last_energy);
      last_energy = std::stod(energy);
    }
    for (const auto& inv : get_json("/api/inverters"))
      zero_polls += inv["link_status"] == 0 ? 1 : 0;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(last_total, 0U);
  EXPECT_GT(zero_polls, 0) << "the zero window was never seen";
}

TEST_F(ServeTest, SigtermStopsCleanly) {
  start();
  ASSERT_TRUE(wait_health(polled));
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  serve.reset();
}

}  // namespace
}  // namespace smiles::test

namespace smiles::test {
namespace {

TEST_F(ServeTest, MetricsPassPromtoolAndARealPrometheusScrapesThem) {
  start();
  ASSERT_TRUE(wait_health(polled));
  // Port series follow the served state, which the first reading sets just after
  // /health says online.
  ASSERT_TRUE(eventually_true([&] { return !metric("hoymiles_port_power_watts").empty(); }));
  const auto text = http_get(http_port, "/metrics");
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* name :
       {"hoymiles_dtu_up", "hoymiles_dtu_polls_total", "hoymiles_dtu_poll_duration_seconds_bucket",
        "hoymiles_port_power_watts", "hoymiles_port_energy_joules_total",
        "hoymiles_inverter_temperature_celsius", "hoymiles_inverter_link_up",
        "hoymiles_database_writes_total", "hoymiles_database_pool_connections",
        "hoymiles_spool_bytes", "hoymiles_http_requests_total", "process_resident_memory_bytes",
        "process_cpu_seconds_total", "process_start_time_seconds", "hoymiles_build_info"}) {
    EXPECT_NE(text.body.find(std::string("\n") + name), std::string::npos) << name;
  }
  const std::string dir = data_dir();
  { std::ofstream(dir + "/metrics.txt") << text.body; }
  const auto lint = run_command({"sh", "-c", "promtool check metrics < " + dir + "/metrics.txt"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

  const auto prom_port = free_port();
  {
    std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                              "  - job_name: hoymiles\n    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << http_port << "']\n";
  }
  ChildProcess prometheus({"prometheus", "--config.file=" + dir + "/prometheus.yml",
                           "--storage.tsdb.path=" + dir + "/tsdb",
                           "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
  bool found = false;
  const auto until = std::chrono::steady_clock::now() + 40s;
  while (!found && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(500ms);
    const auto r =
        http_get(prom_port, "/api/v1/query?query=hoymiles_port_power_watts%7Bport%3D%221%22%7D");
    if (r.status != 200) continue;
    const auto j = json::parse(r.body);
    found = j["status"] == "success" && !j["data"]["result"].empty();
  }
  EXPECT_TRUE(found) << "Prometheus never returned a per-port power series";
  EXPECT_EQ(prometheus.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace smiles::test

namespace smiles::test {
namespace {

TEST_F(ServeTest, OversizedBodiesAndTooManyConnectionsAreRefused) {
  start();
  ASSERT_TRUE(wait_health(polled));
  // HTTP_MAX_CONNECTIONS=8: silent connections fill the server; the next request for
  // data gets 503, while /health is still answered. Under that pressure the silent
  // connections are closed after a second, and data is served again.
  // A connection the server is still closing holds its slot for a moment (a silent
  // connection accepted then gets none, and the data request gets the slot when it
  // frees), so an attempt starts only after the server has had time to close the
  // previous ones; on a loaded machine it may take more than one attempt.
  bool refused = false;
  for (int attempt = 0; attempt < 5 && !refused; ++attempt) {
    std::this_thread::sleep_for(300ms);  // earlier connections closed
    std::vector<int> idle;
    idle.reserve(8);
    for (int i = 0; i < 8; ++i) idle.push_back(open_idle_connection(http_port));
    std::this_thread::sleep_for(100ms);  // the server accepts asynchronously
    const auto data = http_get(http_port, "/api/inverters");
    if (data.status == 503) {
      refused = true;
      EXPECT_NE(data.body.find("too_many_connections"), std::string::npos);
      EXPECT_EQ(http_get(http_port, "/health").status, 200);
      EXPECT_TRUE(
          eventually_true([&] { return http_get(http_port, "/api/inverters").status == 200; }, 5s))
          << "silent connections were not closed under pressure";
    }
    for (int s : idle) close(s);
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(http_get(http_port, "/api/inverters").status, 200);
  // Every refusal was counted.
  EXPECT_NE(metric("hoymiles_http_requests_total{code=\"503\",route=\"/api/inverters\"}"), "");
  // A body over the limit: 413 (GET bodies are pointless, but a client may send one).
  const auto big = http_get(http_port, "/health", {}, "GET", std::string(100000, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("body_too_large"), std::string::npos);
}

TEST_F(ServeTest, RestartShowsTheLastStoredValuesBeforeTheFirstPoll) {
  start();
  ASSERT_TRUE(wait_health(polled));
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  sim->stop(SIGKILL);  // the DTU is gone: only the database knows the values
  sim.reset();
  serve.reset();
  // Without the state file the database alone brings the values back.
  ASSERT_TRUE(std::filesystem::remove(data_dir() + "/served-state"));
  start_serve_only({"DTUS=roof=tcp://127.0.0.1:1"});
  const auto inverters = get_json("/api/inverters");
  EXPECT_EQ(inverters.size(), 4U);
  const auto summary = get_json("/api/production/summary");
  EXPECT_GT(summary["total_wh"].get<std::uint64_t>(), 0U);
}

}  // namespace
}  // namespace smiles::test
