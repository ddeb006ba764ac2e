#include "smiles/api/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_history.h"
#include "readings.h"
#include "smiles/core/error.h"

namespace smiles::api {
namespace {

using nlohmann::json;
using test::FakeHistory;
using test::make_reading;
using test::utc;

class RouterTest : public ::testing::Test {
 protected:
  Router router(RouterOptions options = {}) {
    options.start_time = utc("2026-06-01T09:00:00");
    return Router(
        live, history, [this] { return backend; }, [] { return std::string("m 1\n"); }, options,
        [] { return utc("2026-06-01T10:05:00"); });
  }
  Response get(const std::string& target, RouterOptions options = {},
               const std::string& auth = "") {
    return router(std::move(options)).handle({"GET", target, auth, ""});
  }
  static std::string code_of(const Response& r) { return json::parse(r.body)["error"]["code"]; }

  LiveState live{[](Timestamp) { return std::string("2026-06-01"); }};
  FakeHistory history;
  BackendStatus backend{true, false, "", true, 0, 0, 0, 0, 0, ""};
};

// The answer the Python bridge gave (hoymiles_smiles/health.py) and its Home Assistant
// component reads (coordinator.py, sensor.py, binary_sensor.py): 200 when healthy,
// 503 with the same body when not; integers for the seconds; "online"/"error".
TEST_F(RouterTest, HealthAnswersLikeThePythonBridge) {
  live.register_dtu("DTU", "tcp://x");
  RouterOptions options;
  options.health_stale = std::chrono::seconds{300};
  // Started 65 min ago, no DTU answered yet: not healthy, 503, same body.
  auto r = get("/health", options);
  EXPECT_EQ(r.status, 503);
  auto j = json::parse(r.body);
  EXPECT_FALSE(j["healthy"]);
  EXPECT_EQ(j["dtus"]["DTU"]["status"], "unknown");
  EXPECT_EQ(j["dtus"]["DTU"]["state"], "starting");
  EXPECT_TRUE(j["dtus"]["DTU"]["seconds_since_last_success"].is_null());

  live.record_success(make_reading(utc("2026-06-01T10:02:29"), 1, 1, 1, "DTU"));
  r = get("/health", options);
  EXPECT_EQ(r.status, 200);
  j = json::parse(r.body);
  EXPECT_TRUE(j["healthy"]);
  for (const char* f :
       {"healthy", "status", "uptime_seconds", "start_time", "version", "database", "dtus"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
  EXPECT_TRUE(j["uptime_seconds"].is_number_integer()) << j["uptime_seconds"];
  EXPECT_EQ(j["uptime_seconds"], 3900);
  const auto& dtu = j["dtus"]["DTU"];
  for (const char* f : {"status", "last_successful_query", "seconds_since_last_success",
                        "query_count", "error_count", "last_error", "last_error_time"}) {
    EXPECT_TRUE(dtu.contains(f)) << f;
  }
  EXPECT_EQ(dtu["status"], "online");
  EXPECT_EQ(dtu["state"], "ok");
  EXPECT_TRUE(dtu["seconds_since_last_success"].is_number_integer());
  EXPECT_EQ(dtu["seconds_since_last_success"], 151);  // 2 min 31 s, truncated as Python did
  EXPECT_TRUE(dtu["query_count"].is_number_integer());

  live.record_failure("DTU", "no answer", utc("2026-06-01T10:03:00"), "backoff");
  j = json::parse(get("/health", options).body);
  EXPECT_EQ(j["dtus"]["DTU"]["status"], "error");
  EXPECT_EQ(j["dtus"]["DTU"]["state"], "backoff");
  EXPECT_TRUE(j["healthy"]);  // the last answer is 151 s old: still fresh

  // A database outage alone is not unhealthy while readings are spooled.
  backend.database_connected = false;
  r = get("/health", options);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(json::parse(r.body)["database"]["connected"]);
  backend.spool_dropped = 3;  // the spool is full: readings are lost
  EXPECT_EQ(get("/health", options).status, 503);
  backend.database_connected = true;

  // No DTU answered for HEALTH_STALE_SECONDS.
  options.health_stale = std::chrono::seconds{150};
  r = get("/health", options);
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(json::parse(r.body)["healthy"]);
  EXPECT_EQ(json::parse(r.body)["status"], "unhealthy");
}

TEST_F(RouterTest, StatsCarryThePythonBridgesKeys) {
  struct Counted : FakeHistory {
    storage::StorageStats stats() override {
      storage::StorageStats s;
      s.table_rows = {
          {"inverters", 4},    {"inverter_data", 100}, {"port_data", 300}, {"production_cache", 13},
          {"config_cache", 2}, {"system_metrics", 7},  {"dtus", 1}};
      s.total_records = 427;
      return s;
    }
  } counted;
  Router r(
      live, counted, [this] { return backend; }, [] { return std::string(); }, {},
      [] { return utc("2026-06-01T10:05:00"); });
  const auto j = json::parse(r.handle({"GET", "/stats", "", ""}).body);
  EXPECT_EQ(j["database_type"], "POSTGRES");
  EXPECT_EQ(j["inverters_count"], 4);
  EXPECT_EQ(j["inverter_data_entries"], 100);
  EXPECT_EQ(j["port_data_entries"], 300);
  EXPECT_EQ(j["production_cache_entries"], 13);
  EXPECT_EQ(j["config_cache_entries"], 2);
  EXPECT_EQ(j["metrics_entries"], 7);
  EXPECT_EQ(j["total_records"], 427);
  EXPECT_EQ(j["database_size_bytes"], 0);
}

TEST_F(RouterTest, ApiAnswersCarryTheCorsHeaderAsThePythonBridgeSentIt) {
  auto header = [](const Response& r) -> std::string {
    for (const auto& [k, v] : r.headers) {
      if (k == "Access-Control-Allow-Origin") return v;
    }
    return "(none)";
  };
  EXPECT_EQ(header(get("/api/inverters")), "*");
  EXPECT_EQ(header(get("/api/nothing")), "*");
  EXPECT_EQ(header(get("/health")), "(none)");
  RouterOptions o;
  o.cors_origin = "https://ha.example";
  EXPECT_EQ(header(get("/api/ports", o)), "https://ha.example");
  o.cors_origin = "";
  EXPECT_EQ(header(get("/api/ports", o)), "(none)");
}

TEST_F(RouterTest, PushRegistrationIsAPostWithItsOwnHandler) {
  RouterOptions o;
  EXPECT_EQ(router(o).handle({"POST", "/api/websocket/register", "", "{}"}).status, 404);
  std::string seen;
  o.register_push = [&seen](const std::string& body) {
    seen = body;
    Response r;
    r.body = R"({"status":"registered"})";
    return r;
  };
  auto r = router(o).handle({"POST", "/api/websocket/register", "", R"({"x":1})"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen, R"({"x":1})");
  r = router(o).handle({"GET", "/api/websocket/register", "", ""});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.front(), std::make_pair(std::string("Allow"), std::string("POST")));
  EXPECT_EQ(router(o).handle({"POST", "/api/inverters", "", ""}).status, 405);
  o.api_token = "t0ken";
  seen.clear();
  EXPECT_EQ(router(o).handle({"POST", "/api/websocket/register", "", "{}"}).status, 401);
  EXPECT_EQ(seen, "");
  EXPECT_EQ(router(o).handle({"POST", "/api/websocket/register", "Bearer t0ken", "{}"}).status,
            200);
  EXPECT_EQ(Router::route_label("/api/websocket/register"), "/api/websocket/register");
}

TEST_F(RouterTest, ReadyNeedsDatabaseSchemaAndEveryDtu) {
  live.register_dtu("roof", "tcp://x");
  auto r = get("/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("has not answered"), std::string::npos);
  live.record_success(make_reading(utc("2026-06-01T10:00:00")));
  EXPECT_EQ(get("/ready").status, 200);
  backend.schema_current = false;
  EXPECT_EQ(get("/ready").status, 503);
}

TEST_F(RouterTest, LatestValuesComeFromMemory) {
  live.record_success(make_reading(utc("2026-06-01T10:00:00"), 2, 3));
  history.down = true;  // no database needed
  auto r = get("/api/inverters");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  ASSERT_EQ(j.size(), 2U);
  EXPECT_EQ(j[0]["ports"].size(), 3U);
  EXPECT_EQ(j[0]["first_seen"], "2026-06-01T10:00:00.000Z");
  EXPECT_EQ(json::parse(get("/api/inverters/116100000002").body)["serial_number"], "116100000002");
  EXPECT_EQ(json::parse(get("/api/inverters/116100000002/ports").body).size(), 3U);
  EXPECT_EQ(json::parse(get("/api/ports").body).size(), 6U);
  EXPECT_EQ(json::parse(get("/api/production/current").body).size(), 6U);
  auto s = json::parse(get("/api/production/summary").body);
  for (const char* f :
       {"power_w", "today_wh", "total_wh", "total_kwh", "inverters_producing", "updated_at"}) {
    EXPECT_TRUE(s.contains(f)) << f;
  }
  EXPECT_TRUE(s["total_kwh"].is_number());
}

TEST_F(RouterTest, BadRequestsGetTheRightStatus) {
  live.record_success(make_reading(utc("2026-06-01T10:00:00")));
  EXPECT_EQ(get("/api/inverters/12345").status, 400);
  EXPECT_EQ(code_of(get("/api/inverters/ZZZZZZZZZZZZ")), "invalid_serial");
  EXPECT_EQ(get("/api/inverters/999999999999").status, 404);
  EXPECT_EQ(get("/api/nothing").status, 404);
  EXPECT_EQ(get("/index.php").status, 404);
  EXPECT_EQ(get("/").status, 200);  // the dashboard
  for (const char* limit : {"0", "abc", "1000000000", "-5", "", "10001", "1e3"}) {
    EXPECT_EQ(get(std::string("/api/inverters/116100000001/history?limit=") + limit).status, 400)
        << limit;
  }
  EXPECT_EQ(get("/api/inverters/116100000001/history?since=yesterday").status, 400);
  EXPECT_EQ(get("/api/inverters/116100000001/history?since=2026-06-02&until=2026-06-01").status,
            400);
  EXPECT_EQ(get("/api/inverters/116100000001/ports/0/history").status, 400);
  EXPECT_EQ(get("/api/inverters/116100000001/history?limit=%zz").status, 400);
  auto r = router().handle({"POST", "/health", "", ""});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(router().handle({"DELETE", "/api/inverters", "", ""}).status, 405);
}

TEST_F(RouterTest, HistoryParametersReachTheReadModel) {
  live.record_success(make_reading(utc("2026-06-01T10:00:00")));
  EXPECT_EQ(
      get("/api/inverters/116100000001/history?limit=7&since=2026-06-01T08:00:00%2B02:00").status,
      200);
  EXPECT_EQ(history.last.limit, 7);
  EXPECT_EQ(history.last.since, utc("2026-06-01T06:00:00"));
  EXPECT_EQ(get("/api/inverters/116100000001/ports/2/history?until=2026-06-01T10:00:00.5Z").status,
            200);
  EXPECT_EQ(history.last.limit, 100);
  EXPECT_EQ(history.last.until, utc("2026-06-01T10:00:00") + std::chrono::milliseconds{500});
}

TEST_F(RouterTest, DatabaseDownIs503ForDataEndpoints) {
  live.record_success(make_reading(utc("2026-06-01T10:01:00")));
  history.down = true;
  auto r = get("/api/inverters/116100000001/history");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(code_of(r), "database_unavailable");
  EXPECT_EQ(get("/stats").status, 503);
  EXPECT_EQ(get("/health").status, 200);  // the DTU answered 4 minutes ago
}

TEST_F(RouterTest, BearerToken) {
  RouterOptions o;
  o.api_token = "t0ken";
  EXPECT_EQ(get("/api/inverters", o).status, 401);
  EXPECT_EQ(get("/api/inverters", o, "Bearer wrong").status, 401);
  EXPECT_EQ(get("/api/inverters", o, "Bearer t0ken").status, 200);
  EXPECT_EQ(get("/stats", o).status, 401);
  EXPECT_EQ(get("/health", o).status, 503);  // open, and unhealthy: no DTU answered
  EXPECT_EQ(get("/metrics", o).status, 200);
  o.protect_all = true;
  EXPECT_EQ(get("/health", o).status, 401);
  EXPECT_EQ(get("/health", o, "Bearer t0ken").status, 503);
  EXPECT_EQ(get("/metrics", o, "Bearer t0ken").status, 200);
}

TEST_F(RouterTest, MetricsContentTypeAndRouteLabels) {
  EXPECT_EQ(get("/metrics").content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Router::route_label("/api/inverters/116100000001/history?limit=3"),
            "/api/inverters/{serial}/history");
  EXPECT_EQ(Router::route_label("/api/inverters/116100000001/ports/2/history"),
            "/api/inverters/{serial}/ports/{port}/history");
  EXPECT_EQ(Router::route_label("/wp-admin/x.php"), "other");
  EXPECT_EQ(Router::route_label("/health"), "/health");
  // Raw segments never reach a label: unknown endpoints and bytes that are not UTF-8.
  EXPECT_EQ(Router::route_label("/api/production/x9"), "other");
  EXPECT_EQ(Router::route_label("/api/production/\xff"), "other");
  EXPECT_EQ(Router::route_label("/api/inverters/116100000001/x9"), "other");
  // Empty segments do not count, for routing as for the label.
  EXPECT_EQ(Router::route_label("/api/inverters//history"), "/api/inverters/{serial}");
  EXPECT_EQ(Router::route_label("/api/production/current"), "/api/production/current");
  for (const auto& label : Router::route_labels()) {
    EXPECT_TRUE(label == "other" || label.starts_with('/')) << label;
  }
}

// The route table is the one list: every label is an endpoint that answers, and the
// answer names its pattern (the label the metrics count it under).
TEST_F(RouterTest, EveryRouteLabelIsAnEndpoint) {
  for (const auto& pattern : Router::route_labels()) {
    if (pattern == "other" || pattern == kPushRegisterPath) continue;
    auto path = pattern;
    for (const auto& [param, value] :
         {std::pair<std::string, std::string>{"{serial}", "116100000001"}, {"{port}", "1"}}) {
      if (const auto at = path.find(param); at != std::string::npos)
        path.replace(at, param.size(), value);
    }
    const auto r = get(path + "?limit=1");
    EXPECT_TRUE(r.status != 404 || code_of(r) != "not_found") << path << ": " << r.body;
    EXPECT_EQ(r.route, pattern) << path;
    EXPECT_EQ(Router::route_label(path + "?limit=1"), pattern);
  }
  const auto unknown = get("/api/nothing");
  EXPECT_EQ(code_of(unknown), "not_found");
  EXPECT_EQ(unknown.route, "other");
  // A refusal (401) still names the route it was aimed at.
  RouterOptions o;
  o.api_token = "t0ken";
  EXPECT_EQ(get("/api/inverters/116100000001/history", o).route, "/api/inverters/{serial}/history");
}

TEST_F(RouterTest, PathsThatAreNotUtf8GetJsonErrorsNot500) {
  for (const char* target : {"/api/production/\xff", "/api/inverters/\xfe\xff/history", "/\xc3\x28",
                             "/api/inverters/116100000001/history?since=%ff"}) {
    const auto r = get(target);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << target << ": " << r.status << " " << r.body;
    EXPECT_TRUE(json::accept(r.body)) << r.body;
  }
}

TEST(QueryValues, DecodeAndTimes) {
  EXPECT_EQ(url_decode("a%20b+c"), "a b c");
  EXPECT_FALSE(url_decode("%2"));
  EXPECT_FALSE(url_decode("%zz"));
  EXPECT_EQ(parse_iso8601("2026-06-01"), utc("2026-06-01T00:00:00"));
  EXPECT_EQ(parse_iso8601("2026-06-01T12:30:15Z"), utc("2026-06-01T12:30:15"));
  EXPECT_EQ(parse_iso8601("2026-06-01T12:30:15-01:30"), utc("2026-06-01T14:00:15"));
  EXPECT_FALSE(parse_iso8601("2026-02-30"));
  EXPECT_FALSE(parse_iso8601("2026-06-01T25:00"));
  EXPECT_FALSE(parse_iso8601("2026-06-01Tfoo"));
  EXPECT_FALSE(parse_iso8601("1717238400"));
  // Signs and spaces where digits belong (sscanf took them).
  for (const char* bad :
       {"2026-06-01T-1:00Z", "2026-06-01T00:-5Z", "2026-+6-01", "2026-06-01T12:-1Z", "2026-06- 1",
        "+026-06-01", "2026-06-01T12:00:+1Z", "2026-06-01T12:00+-1:00", "2026-06-01T12:00:00.Z",
        "2026-06-01T12:00Z ", "2026-06-01T12:00+24:00"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
  // Only what 64-bit nanoseconds hold (to 2262-04-11), with a margin.
  EXPECT_FALSE(parse_iso8601("2263-01-01"));
  EXPECT_FALSE(parse_iso8601("2262-01-01"));
  EXPECT_FALSE(parse_iso8601("1899-12-31"));
  EXPECT_TRUE(parse_iso8601("2261-12-31T23:59:59.999999Z"));
  EXPECT_TRUE(parse_iso8601("1900-01-01"));
  EXPECT_EQ(parse_iso8601("2026-06-01 12:30"), utc("2026-06-01T12:30:00"));
  EXPECT_EQ(parse_iso8601("2026-06-01T12:30:15.5+02:00"),
            utc("2026-06-01T10:30:15") + std::chrono::milliseconds{500});
}

}  // namespace
}  // namespace smiles::api
