// The dashboard's endpoints through the router: parameters, defaults, the token
// rules, the JSON shape; and the event feed's bounds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_history.h"
#include "readings.h"
#include "smiles/api/event_feed.h"
#include "smiles/api/router.h"

namespace smiles::api {
namespace {

using nlohmann::json;
using test::FakeHistory;
using test::utc;

class RouterHistoryTest : public ::testing::Test {
 protected:
  Response get(const std::string& target, const std::string& auth = "") {
    Router router(
        live, history, [] { return BackendStatus{}; }, [] { return std::string(); }, options,
        [] { return utc("2026-06-01T10:05:00"); });
    return router.handle({"GET", target, auth, ""});
  }
  static std::string code_of(const Response& r) { return json::parse(r.body)["error"]["code"]; }

  LiveState live{[](Timestamp) { return std::string("2026-06-01"); }};
  FakeHistory history;
  RouterOptions options;
};

TEST_F(RouterHistoryTest, EnergyDefaultsToTheLast31ProductionDays) {
  const auto r = get("/api/energy");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(history.last_energy.period, storage::EnergyPeriod::kDay);
  EXPECT_EQ(history.last_energy.from, "2026-05-02");
  EXPECT_EQ(history.last_energy.to, "2026-06-01");
  EXPECT_FALSE(history.last_energy.serial);
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"period_start":"2026-05-02","wh":1200}])"));
}

TEST_F(RouterHistoryTest, EnergyMonthsAndYearsDefaultToAYearAndTenYears) {
  ASSERT_EQ(get("/api/energy?period=month").status, 200);
  EXPECT_EQ(history.last_energy.period, storage::EnergyPeriod::kMonth);
  EXPECT_EQ(history.last_energy.from, "2025-07-01");
  ASSERT_EQ(get("/api/energy?period=year&to=2026-03-31").status, 200);
  EXPECT_EQ(history.last_energy.from, "2017-01-01");
  EXPECT_EQ(history.last_energy.to, "2026-03-31");
  ASSERT_EQ(get("/api/energy?period=day&from=2026-01-01&to=2026-01-31&serial=116123456789").status,
            200);
  EXPECT_EQ(history.last_energy.serial, "116123456789");
}

TEST_F(RouterHistoryTest, EnergyRefusesBadParameters) {
  for (const char* target :
       {"/api/energy?period=week", "/api/energy?from=2026-13-01", "/api/energy?to=yesterday",
        "/api/energy?from=2026-06-02&to=2026-06-01", "/api/energy?from=2026-06-01T00:00:00Z",
        "/api/energy?from=1990-01-01&to=2026-01-01", "/api/energy?serial=12"}) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 400) << target;
  }
  EXPECT_EQ(code_of(get("/api/energy?serial=xyz")), "invalid_serial");
  // Ten years of days is allowed; more than 4000 periods is not.
  EXPECT_EQ(get("/api/energy?from=2016-06-01&to=2026-06-01").status, 200);
  history.down = true;
  EXPECT_EQ(get("/api/energy").status, 503);
}

TEST_F(RouterHistoryTest, PowerSumsTheInvertersIntoThePlantCurve) {
  const auto r = get("/api/power?step=300");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(history.last_power.date, "2026-06-01");  // the current production day
  const auto j = json::parse(r.body);
  EXPECT_EQ(j["step"], 300);
  EXPECT_EQ(j["from"], "2026-06-01T00:00:00.000Z");
  ASSERT_EQ(j["points"].size(), 2U);
  EXPECT_EQ(j["points"][0]["t"], "2026-06-01T10:00:00.000Z");
  EXPECT_DOUBLE_EQ(j["points"][0]["w"].get<double>(), 150.0);  // 100.04 + 50, to 0.1 W
  EXPECT_DOUBLE_EQ(j["points"][1]["w"].get<double>(), 60.0);
  ASSERT_EQ(j["inverters"].size(), 2U);
  EXPECT_EQ(j["inverters"][1]["serial_number"], "116100000002");
  for (const char* target : {"/api/power?step=200", "/api/power?step=90000", "/api/power?step=x",
                             "/api/power?date=2026-02-30", "/api/power?serial=1"}) {
    EXPECT_EQ(get(target).status, 400) << target;
  }
  ASSERT_EQ(get("/api/power?date=2025-12-24&step=3600").status, 200);
  EXPECT_EQ(history.last_power.date, "2025-12-24");
  EXPECT_EQ(history.last_power.step_seconds, 3600);
}

TEST_F(RouterHistoryTest, ThePageIsPublicItsDataIsNot) {
  options.api_token = "s3cret";
  options.protect_all = true;
  const auto page = get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>hoymiles-smiles</title>"), std::string::npos);
  EXPECT_EQ(page.body.find("s3cret"), std::string::npos);
  bool csp = false;
  for (const auto& [name, value] : page.headers) {
    if (name == "Content-Security-Policy")
      csp = value.find("connect-src 'self'") != std::string::npos;
  }
  EXPECT_TRUE(csp);
  for (const char* target : {"/api/energy", "/api/power", "/api/events"}) {
    EXPECT_EQ(get(target).status, 401) << target;
    EXPECT_NE(get(target, "Bearer s3cret").status, 401) << target;
  }
}

TEST_F(RouterHistoryTest, EventsSubscribeUntilTheFeedIsFull) {
  EXPECT_EQ(get("/api/events").status, 404);  // no feed in this bridge
  EventFeed feed(2, 4);
  options.subscribe_events = [&feed] { return feed.subscribe(); };
  auto a = get("/api/events");
  auto b = get("/api/events");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "text/event-stream");
  ASSERT_TRUE(a.events && b.events);
  const auto c = get("/api/events");
  EXPECT_EQ(c.status, 503);
  EXPECT_EQ(code_of(c), "too_many_event_clients");
  b.events.reset();  // a client went: its slot is free
  EXPECT_EQ(get("/api/events").status, 200);
}

TEST(EventFeed, SubscribersGetTheLatestThenEveryMessageAndStalledOnesOverflow) {
  EventFeed feed(8, 3);
  feed.publish("m0");
  auto s = feed.subscribe();
  int wakes = 0;
  s->on_message([&wakes] { ++wakes; });
  feed.publish("m1");
  feed.publish("m2");
  EXPECT_EQ(s->take(), (std::vector<std::string>{"m0", "m1", "m2"}));
  EXPECT_EQ(wakes, 2);
  EXPECT_FALSE(s->overflowed());
  for (int i = 0; i < 4; ++i) feed.publish("x");  // nobody takes them
  EXPECT_TRUE(s->overflowed());
  EXPECT_EQ(feed.subscribers(), 1U);
  s.reset();
  EXPECT_EQ(feed.subscribers(), 0U);
}

}  // namespace
}  // namespace smiles::api
