// `serve` with INFLUXDB_ENABLED=true, polling the simulator, writing PostgreSQL and a
// real InfluxDB (Debian's influxd 1.6, private to each test, v1 write API): every poll
// stored in PostgreSQL is in InfluxDB under the Python bridge's names, and an InfluxDB
// that hangs or dies holds up neither polling nor PostgreSQL, and loses nothing.
#include "serve_fixture.h"
#include "test_influxd.h"

namespace smiles::test {
namespace {

const std::string kToken = "tok-7c1f-influx-secret";

class InfluxServeTest : public ServeTest {
 protected:
  void start_with(const TestInfluxd& influx) {
    stderr_log = data_dir() + "/serve.log";
    start({"--speed", "0"}, {"INFLUXDB_ENABLED=true", "INFLUXDB_HOST=" + influx.url(),
                             "INFLUXDB_API=v1", "INFLUXDB_TOKEN=" + kToken});
    ASSERT_TRUE(wait_health(polled));
  }
  long pg(const std::string& sql) const { return std::stol(db.scalar(sql)); }
  long polls_stored() const { return pg("SELECT count(DISTINCT timestamp) FROM port_data"); }
  bool influx_health(const std::function<bool(const json&)>& pred,
                     std::chrono::seconds timeout = 20s) {
    return wait_health([&](const json& h) { return pred(h["influxdb"]); }, timeout);
  }
  // Stops serve (which writes what is queued) and compares InfluxDB with PostgreSQL.
  void expect_every_poll_in_influxdb(const TestInfluxd& influx) {
    EXPECT_EQ(serve->stop(SIGTERM), 0);
    const long ports = pg("SELECT count(*) FROM port_data");
    EXPECT_GT(ports, 13 * 4);
    EXPECT_EQ(influx.count("hoymiles", "port", "pv_power"), ports);
    EXPECT_EQ(influx.count("hoymiles", "port", "total_production"), ports);
    EXPECT_EQ(influx.count("hoymiles", "inverter", "link_status"),
              pg("SELECT count(*) FROM inverter_data"));
    EXPECT_EQ(influx.count("hoymiles", "dtu", "pv_power"), polls_stored());
    const auto log = log_text();
    EXPECT_EQ(log.find(kToken), std::string::npos) << "the token was logged";
  }
};

TEST_F(InfluxServeTest, EveryStoredPollIsInInfluxDbAsThePythonBridgeWroteIt) {
  TestInfluxd influx;
  influx.query("CREATE DATABASE hoymiles");
  start_with(influx);
  ASSERT_TRUE(eventually_true([&] { return polls_stored() >= 5; }));
  ASSERT_TRUE(influx_health([](const json& i) { return i["state"] == "ok"; }));
  const auto health = http_get(http_port, "/health").body;
  const auto i = json::parse(health)["influxdb"];
  EXPECT_EQ(i["enabled"], true);
  EXPECT_EQ(i["api"], "v1");
  EXPECT_EQ(i["endpoint"], influx.url());
  EXPECT_EQ(i["database"], "hoymiles");
  EXPECT_GT(i["points_written"].get<int>(), 0);
  EXPECT_TRUE(i["last_success"].is_string());
  EXPECT_EQ(metric("hoymiles_influxdb_up"), "1");
  EXPECT_NE(metric("hoymiles_influxdb_points_total"), "");
  const auto metrics = http_get(http_port, "/metrics").body;
  EXPECT_EQ((health + metrics).find(kToken), std::string::npos);

  expect_every_poll_in_influxdb(influx);
  // The last poll, point by point: tags, values and time as PostgreSQL has them.
  const auto j = influx.query(
      "SELECT pv_power, total_production FROM port GROUP BY serial_number, port_number "
      "ORDER BY time DESC LIMIT 1",
      "hoymiles");
  const auto& series = j["results"][0]["series"];
  ASSERT_EQ(series.size(), 13U);
  const std::string last = "(SELECT max(timestamp) FROM port_data)";
  for (const auto& s : series) {
    const std::string where = " FROM port_data WHERE timestamp = " + last +
                              " AND serial_number = '" +
                              s["tags"]["serial_number"].get<std::string>() +
                              "' AND port_number = " + s["tags"]["port_number"].get<std::string>();
    const auto& row = s["values"][0];
    EXPECT_EQ(row[0].get<long>(),
              pg("SELECT floor(extract(epoch FROM timestamp) * 1000)::bigint" + where));
    EXPECT_DOUBLE_EQ(row[1].get<double>(), std::stod(db.scalar("SELECT pv_power" + where)));
    EXPECT_EQ(row[2].get<long>(), pg("SELECT total_production" + where));
  }
  const auto dtu = influx.query("SELECT last(pv_power) FROM dtu GROUP BY *", "hoymiles");
  const auto& tags = dtu["results"][0]["series"][0]["tags"];
  EXPECT_EQ(tags["dtu_name"], "roof");
  EXPECT_EQ(tags["dtu_serial"].get<std::string>().size(), 12U);
}

TEST_F(InfluxServeTest, AnOutageHoldsUpNeitherPollingNorPostgresAndLosesNothing) {
  TestInfluxd influx;
  influx.query("CREATE DATABASE hoymiles");
  start_with(influx);
  ASSERT_TRUE(influx_health([](const json& i) { return i["state"] == "ok"; }));

  // Frozen: a write hangs (for up to its 10 s timeout); polls go on and are stored.
  influx.freeze();
  const long frozen_at = polls_stored();
  ASSERT_TRUE(eventually_true([&] { return polls_stored() >= frozen_at + 10; }));
  EXPECT_TRUE(influx_health([](const json& i) { return i["queued_batches"] > 0; }));
  influx.thaw();

  // Killed: connections are refused; /health and /metrics say so, polls go on.
  influx.kill();
  ASSERT_TRUE(influx_health([](const json& i) {
    return i["state"] == "failing" &&
           i["last_error"].get<std::string>().find("cannot connect") != std::string::npos;
  }));
  EXPECT_EQ(metric("hoymiles_influxdb_up"), "0");
  const auto errors = metric("hoymiles_influxdb_write_errors_total");
  ASSERT_NE(errors, "");
  EXPECT_GT(std::stod(errors), 0);
  const long killed_at = polls_stored();
  ASSERT_TRUE(eventually_true([&] { return polls_stored() >= killed_at + 10; }));
  EXPECT_TRUE(wait_health(polled));  // the DTU's state is untouched

  // Back: what waited is written, in order, and nothing is missing.
  influx.start();
  ASSERT_TRUE(influx_health(
      [](const json& i) { return i["state"] == "ok" && i["queued_batches"] == 0; }, 60s));
  EXPECT_EQ(get_json("/health")["influxdb"]["batches_dropped"], 0);
  expect_every_poll_in_influxdb(influx);
  const auto log = log_text();
  EXPECT_NE(log.find("retrying (PostgreSQL has every reading)"), std::string::npos) << log;
  EXPECT_NE(log.find("writes succeed again"), std::string::npos) << log;
}

}  // namespace
}  // namespace smiles::test
