// The InfluxDB writer against a real InfluxDB (Debian's influxd 1.6, v1 write API),
// private to each test: written points are queried back; the server is killed,
// frozen, refused TLS trust, given bad data and a missing database.
#include "smiles/api/influx_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>

#include <thread>

#include "eventually.h"
#include "http_client.h"
#include "readings.h"
#include "test_influxd.h"
#include "ws_server.h"  // make_test_certificate

namespace smiles::api {
namespace {

using namespace std::chrono_literals;
using test::TestInfluxd;

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  return test::eventually_true(pred, timeout);
}

InfluxOptions options_for(const TestInfluxd& server, const std::string& db = "hoymiles") {
  InfluxOptions o;
  o.url = *parse_influx_url(server.url());
  o.api = InfluxApi::kV1;
  o.database = db;
  o.timeout = 2s;
  o.backoff_initial = 50ms;
  o.backoff_max = 200ms;
  return o;
}

// Poll cycle `i`: one inverter of two ports, a second apart (4 points).
InfluxBatch cycle(int i) {
  const auto r =
      test::make_reading(test::utc("2026-06-01T11:00:00") + std::chrono::seconds{i}, 1, 2, i + 1);
  std::vector<ProductionEntry> served;
  for (const auto& p : r.inverters[0].ports) {
    served.push_back({p.serial_number, p.port_number, p.today_production_wh, p.total_production_wh,
                      r.timestamp, false});
  }
  return influx_lines(r, served);
}

// The times (ms) of the dtu points, oldest first.
std::vector<long> dtu_times(const TestInfluxd& server) {
  std::vector<long> out;
  const auto j = server.query("SELECT pv_power FROM dtu", "hoymiles");
  if (!j["results"][0].contains("series")) return out;
  for (const auto& row : j["results"][0]["series"][0]["values"]) out.push_back(row[0].get<long>());
  return out;
}

TEST(InfluxWriter, EveryBatchArrivesWithThePythonBridgesFieldTypes) {
  TestInfluxd server;
  server.query("CREATE DATABASE hoymiles");
  auto options = options_for(server);
  std::atomic<int> told{0};  // nothing to tell when all goes well
  options.on_state = [&told](const std::string&) { ++told; };
  InfluxWriter writer(options);
  for (int i = 0; i < 20; ++i) writer.submit(cycle(i));
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 20; }))
      << writer.status().last_error;
  EXPECT_EQ(writer.status().points_written, 80U);
  EXPECT_EQ(writer.status().state, "ok");
  EXPECT_EQ(told, 0);
  EXPECT_EQ(server.count("hoymiles", "port", "pv_power"), 40);
  EXPECT_EQ(server.count("hoymiles", "inverter", "link_status"), 20);
  EXPECT_EQ(server.count("hoymiles", "dtu", "alarm_flag"), 20);
  // Field types as the Python bridge's Point(...).field(float(...) / int(...)) made them:
  // a Grafana panel (or a type conflict) would notice any difference.
  std::map<std::string, std::string> types;
  const auto keys = server.query("SHOW FIELD KEYS", "hoymiles");
  for (const auto& series : keys["results"][0]["series"]) {
    for (const auto& row : series["values"]) {
      types[series["name"].get<std::string>() + "." + row[0].get<std::string>()] =
          row[1].get<std::string>();
    }
  }
  const std::map<std::string, std::string> expected = {
      {"dtu.alarm_flag", "boolean"},        {"dtu.pv_power", "float"},
      {"dtu.today_production", "integer"},  {"dtu.total_production", "integer"},
      {"inverter.alarm_code", "integer"},   {"inverter.alarm_count", "integer"},
      {"inverter.grid_frequency", "float"}, {"inverter.grid_voltage", "float"},
      {"inverter.link_status", "integer"},  {"inverter.operating_status", "integer"},
      {"inverter.temperature", "float"},    {"port.pv_current", "float"},
      {"port.pv_power", "float"},           {"port.pv_voltage", "float"},
      {"port.today_production", "integer"}, {"port.total_production", "integer"}};
  EXPECT_EQ(types, expected);
  // A port point read back: its tags and values.
  const auto j = server.query(
      "SELECT pv_power, total_production FROM port WHERE serial_number='116100000001' AND "
      "port_number='2' ORDER BY time DESC LIMIT 1",
      "hoymiles");
  const auto& row = j["results"][0]["series"][0]["values"][0];
  EXPECT_EQ(row[0].get<long>(), 1780311619000);  // 11:00:19 UTC, the 20th cycle
  EXPECT_DOUBLE_EQ(row[1].get<double>(), 2002.0);
  EXPECT_EQ(row[2].get<long>(), 1020002);
  EXPECT_EQ(writer.stop(1s), 0U);
}

TEST(InfluxWriter, BatchesWaitInOrderWhileTheServerIsAwayAndArriveWhenItReturns) {
  TestInfluxd server;
  server.query("CREATE DATABASE hoymiles");
  std::vector<std::string> states;
  std::mutex m;
  auto options = options_for(server);
  options.on_state = [&](const std::string& error) {
    std::lock_guard lock(m);
    states.push_back(error);
  };
  InfluxWriter writer(options);
  server.kill();
  for (int i = 0; i < 10; ++i) writer.submit(cycle(i));
  ASSERT_TRUE(eventually([&] { return writer.status().write_errors >= 2; }));
  auto s = writer.status();
  EXPECT_EQ(s.state, "failing");
  EXPECT_NE(s.last_error.find("cannot connect"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.queued_batches, 10U);
  server.start();
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 10; }))
      << writer.status().last_error;
  EXPECT_EQ(writer.status().state, "ok");
  EXPECT_EQ(server.count("hoymiles", "port", "pv_power"), 20);
  const auto times = dtu_times(server);
  ASSERT_EQ(times.size(), 10U);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  std::lock_guard lock(m);
  ASSERT_EQ(states.size(), 2U);  // one line when it failed, one when it came back
  EXPECT_FALSE(states[0].empty());
  EXPECT_TRUE(states[1].empty());
}

TEST(InfluxWriter, AFullQueueDropsTheOldestAndCountsThem) {
  TestInfluxd server;
  server.query("CREATE DATABASE hoymiles");
  auto options = options_for(server);
  // Room for the three newest.
  options.max_queued_bytes = cycle(7).lines.size() + cycle(8).lines.size() + cycle(9).lines.size();
  options.backoff_initial = options.backoff_max = 1s;  // no write under way meanwhile
  InfluxWriter writer(options);
  server.kill();
  writer.submit(cycle(0));
  ASSERT_TRUE(eventually([&] { return writer.status().write_errors == 1; }));
  for (int i = 1; i < 10; ++i) writer.submit(cycle(i));
  EXPECT_EQ(writer.status().batches_dropped, 7U);
  EXPECT_EQ(writer.status().queued_batches, 3U);
  EXPECT_EQ(writer.status().queued_bytes, options.max_queued_bytes);
  server.start();
  ASSERT_TRUE(eventually([&] { return writer.status().queued_batches == 0; }));
  EXPECT_EQ(writer.status().batches_written, 3U);
  // The newest three are kept.
  EXPECT_EQ(dtu_times(server), (std::vector<long>{1780311607000, 1780311608000, 1780311609000}));
}

TEST(InfluxWriter, AMissingDatabaseIsRetriedUntilItExists) {
  TestInfluxd server;
  InfluxWriter writer(options_for(server, "solar"));
  writer.submit(cycle(0));
  writer.submit(cycle(1));
  ASSERT_TRUE(eventually([&] { return writer.status().write_errors >= 2; }));
  EXPECT_NE(writer.status().last_error.find("HTTP 404: database not found"), std::string::npos)
      << writer.status().last_error;
  server.query("CREATE DATABASE solar");
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 2; }));
  EXPECT_EQ(server.count("solar", "dtu", "pv_power"), 2);
}

// A batch the server refuses as bad data (here a field type conflict: the measurement
// was written with another type before) cannot succeed later: it is dropped and
// counted, and the batches after it are written.
TEST(InfluxWriter, RefusedDataIsDroppedAndCountedAndLaterBatchesGoThrough) {
  TestInfluxd server;
  server.query("CREATE DATABASE hoymiles");
  const auto seeded =
      test::http_get(server.port(), "/write?db=hoymiles", {}, "POST",
                     "port pv_power=1i 1780311000000000000\n");  // same shard (week) as cycle 0
  ASSERT_EQ(seeded.status, 204) << seeded.body;
  InfluxWriter writer(options_for(server));
  writer.submit(cycle(0));
  ASSERT_TRUE(eventually([&] { return writer.status().batches_rejected == 1; }))
      << writer.status().last_error;
  EXPECT_NE(writer.status().last_error.find("HTTP 400"), std::string::npos);
  EXPECT_NE(writer.status().last_error.find("field type conflict"), std::string::npos)
      << writer.status().last_error;
  EXPECT_EQ(writer.status().state, "failing");
  server.query("DROP MEASUREMENT port", "hoymiles");
  writer.submit(cycle(1));
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 1; }));
  EXPECT_EQ(writer.status().state, "ok");
  EXPECT_EQ(writer.status().batches_rejected, 1U);
}

TEST(InfluxWriter, HttpsNeedsACertificateTheSystemTrusts) {
  test::TempDir dir("smiles-influx-tls");
  test::make_test_certificate(dir.path().string());
  const auto cert = dir.path().string() + "/cert.pem";
  TestInfluxd server({cert, dir.path().string() + "/key.pem"});
  server.query("CREATE DATABASE hoymiles");
  {
    InfluxWriter untrusting(options_for(server));
    untrusting.submit(cycle(0));
    ASSERT_TRUE(eventually([&] { return untrusting.status().write_errors >= 1; }));
    EXPECT_NE(untrusting.status().last_error.find("TLS handshake failed"), std::string::npos)
        << untrusting.status().last_error;
  }
  // Trusted (as a private CA added to the system store would be), it writes.
  ::setenv("SSL_CERT_FILE", cert.c_str(), 1);
  InfluxWriter writer(options_for(server));
  ::unsetenv("SSL_CERT_FILE");
  writer.submit(cycle(0));
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 1; }))
      << writer.status().last_error;
  EXPECT_EQ(server.count("hoymiles", "port", "pv_power"), 2);
}

// InfluxDB 1.x with auth-enabled: INFLUXDB_TOKEN=user:password goes as Basic auth.
TEST(InfluxWriter, UserAndPasswordReachInfluxDb1AndAWrongOneIsNeverShown) {
  test::InfluxdOptions with_auth;
  with_auth.auth = true;
  TestInfluxd server(with_auth);
  server.query("CREATE DATABASE hoymiles");
  server.query("CREATE USER bridge WITH PASSWORD 'w-secret-42'");
  server.query("GRANT WRITE ON hoymiles TO bridge");
  auto options = options_for(server);
  options.token = "bridge:w-secret-42";
  InfluxWriter writer(options);
  writer.submit(cycle(0));
  ASSERT_TRUE(eventually([&] { return writer.status().batches_written == 1; }))
      << writer.status().last_error;
  options.token = "bridge:wrong-9f3e";
  InfluxWriter wrong(options);
  wrong.submit(cycle(1));
  ASSERT_TRUE(eventually([&] { return wrong.status().write_errors >= 1; }));
  const auto error = wrong.status().last_error;
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
  EXPECT_EQ(error.find("wrong-9f3e"), std::string::npos) << error;
  EXPECT_EQ(wrong.status().queued_batches, 1U);  // kept: a fixed password lets it through
}

// submit() never waits for the server, and stop() gives up on a write that hangs.
TEST(InfluxWriter, AFrozenServerHoldsNothingUp) {
  TestInfluxd server;
  server.query("CREATE DATABASE hoymiles");
  auto options = options_for(server);
  options.timeout = 30s;  // longer than the test may take: only stop() ends the write
  InfluxWriter writer(options);
  server.freeze();
  for (int i = 0; i < 100; ++i) writer.submit(cycle(i));
  EXPECT_EQ(writer.status().batches_written, 0U);
  EXPECT_EQ(writer.status().queued_batches, 100U);
  EXPECT_EQ(writer.stop(200ms), 100U);
  EXPECT_EQ(writer.status().batches_dropped, 100U);
  server.thaw();
}

}  // namespace
}  // namespace smiles::api
