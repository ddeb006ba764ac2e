// The dashboard as a person sees it: headless Chromium opens GET / of a bridge polling
// the simulator (frozen in time, so the page and the API must agree exactly) and the
// test compares the page's numbers with the API's, waits for a live update and the
// day's curve, checks that nothing went wrong in the console, and saves a screenshot
// in the build directory. With API_TOKEN the page asks for it once, keeps it in the
// browser, and never puts it in a URL.
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "browser.h"
#include "serve_fixture.h"

namespace smiles::test {
namespace {

// What the page shows, read from the DOM (values in data attributes, as rendered).
constexpr const char* kPageValues = R"js((() => {
  const v = (id) => document.getElementById(id).dataset.value;
  return {
    power: v("plant-power"), today: v("plant-today"), total: v("plant-total"),
    producing: v("plant-producing"),
    cards: [...document.querySelectorAll(".inv")].map((c) => ({
      serial: c.dataset.serial,
      temperature: c.querySelector(".inv-temp").dataset.value,
      voltage: c.querySelector(".inv-grid").dataset.voltage,
      frequency: c.querySelector(".inv-grid").dataset.frequency,
      ports: [...c.querySelectorAll(".port")].map((p) => [p.dataset.port, p.dataset.w]),
    })),
    points: document.getElementById("day-chart").dataset.points,
    bars: document.getElementById("energy-chart").dataset.bars,
    notices: [...document.querySelectorAll(".notice")].map((n) => n.dataset.kind),
  };
})())js";

// The fixture's bridge allows 8 connections (for its flood tests); a browser opens up
// to 6 per host and holds the event stream, and one test has two browsers open.
constexpr const char* kRoomForBrowsers = "HTTP_MAX_CONNECTIONS=64";

// A JSON number as the page's data attribute holds it (JavaScript's String(n)).
std::string js_text(const json& n) {
  const double d = n.get<double>();
  if (d == static_cast<double>(static_cast<long long>(d))) {
    return std::to_string(static_cast<long long>(d));
  }
  return n.dump();
}

class DashboardTest : public ServeTest {
 protected:
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port) + "/"; }
  static std::filesystem::path shot(const char* name) {
    return std::filesystem::path(SMILES_SCREENSHOT_DIR) / name;
  }
  // Waits until the page has loaded everything and shows every inverter.
  static bool ready(Browser& b, std::size_t inverters) {
    return b.wait_for(
        "document.body.dataset.ready === '1' && document.querySelectorAll('.inv')"
        ".length === " +
            std::to_string(inverters),
        20s);
  }
};

TEST_F(DashboardTest, ThePageShowsWhatTheApiServesAndUpdatesLive) {
  start({"--speed", "0"}, {kRoomForBrowsers});
  ASSERT_TRUE(eventually_true(
      [&] { return http_get(http_port, "/api/production/summary").status == 200; }));
  ASSERT_TRUE(wait_health([](const json& h) { return h["healthy"] == true; }));
  Browser browser(1280, 1800);
  browser.navigate(url());
  const auto inverters = get_json("/api/inverters");
  ASSERT_EQ(inverters.size(), 4U);
  ASSERT_TRUE(ready(browser, inverters.size())) << browser.eval(kPageValues).dump();

  // A live update arrives (one per poll cycle) without a reload.
  const auto updates = browser.eval("Number(document.body.dataset.updates)").get<int>();
  ASSERT_TRUE(
      browser.wait_for("Number(document.body.dataset.updates) > " + std::to_string(updates), 10s));
  EXPECT_EQ(browser.eval("document.getElementById('live').textContent"), "live");
  // Today's curve has points from the stored readings.
  ASSERT_TRUE(
      browser.wait_for("Number(document.getElementById('day-chart').dataset.points) > 0", 20s));

  // The numbers equal the API's (the simulator is frozen: they do not move).
  const auto summary = get_json("/api/production/summary");
  const auto page = browser.eval(kPageValues);
  EXPECT_EQ(page["power"], js_text(summary["power_w"]));
  EXPECT_EQ(page["today"], js_text(summary["today_wh"]));
  EXPECT_EQ(page["total"], js_text(summary["total_wh"]));
  EXPECT_EQ(page["producing"], js_text(summary["inverters_producing"]));
  EXPECT_GT(summary["power_w"].get<double>(), 0);
  ASSERT_EQ(page["cards"].size(), inverters.size());
  for (std::size_t i = 0; i < inverters.size(); ++i) {
    const auto& card = page["cards"][i];
    const auto& inv = inverters[i];
    EXPECT_EQ(card["serial"], inv["serial_number"]);
    EXPECT_EQ(card["temperature"], js_text(inv["temperature"]));
    EXPECT_EQ(card["voltage"], js_text(inv["grid_voltage"]));
    EXPECT_EQ(card["frequency"], js_text(inv["grid_frequency"]));
    ASSERT_EQ(card["ports"].size(), inv["ports"].size()) << inv["serial_number"];
    for (std::size_t p = 0; p < inv["ports"].size(); ++p) {
      EXPECT_EQ(card["ports"][p][0], js_text(inv["ports"][p]["port_number"]));
      EXPECT_EQ(card["ports"][p][1], js_text(inv["ports"][p]["pv_power"]));
    }
  }
  EXPECT_EQ(page["bars"], "31");  // the last 31 days
  EXPECT_EQ(page["notices"], json::array()) << "nothing held, stale or spooled";
  const auto power = get_json("/api/power");
  EXPECT_EQ(page["points"], std::to_string(power["points"].size()));

  // Months and years on request; another day by the date picker.
  browser.eval("document.querySelector('button[data-period=month]').click()");
  EXPECT_TRUE(
      browser.wait_for("document.getElementById('energy-chart').dataset.bars === '12'", 10s));
  browser.eval("document.getElementById('day-prev').click()");
  EXPECT_TRUE(browser.wait_for(
      "document.getElementById('day-title').textContent.startsWith('Power on ')", 10s));
  EXPECT_EQ(browser.eval("document.getElementById('day-chart').dataset.points"), "0");
  browser.eval("document.getElementById('day-today').click()");
  EXPECT_TRUE(
      browser.wait_for("document.getElementById('day-title').textContent === 'Power today'", 10s));

  EXPECT_EQ(browser.errors(), std::vector<std::string>{});
  browser.screenshot(shot("dashboard.png"));
  // Dark when the system is dark.
  const auto background = "getComputedStyle(document.body).backgroundColor";
  const auto light = browser.eval(background);
  browser.call(
      "Emulation.setEmulatedMedia",
      {{"features", json::array({{{"name", "prefers-color-scheme"}, {"value", "dark"}}})}});
  EXPECT_EQ(browser.eval(background), "rgb(18, 22, 28)") << "light: " << light;
  browser.screenshot(shot("dashboard-dark.png"));
  EXPECT_GT(std::filesystem::file_size(shot("dashboard.png")), 20000U);
  std::cout << "screenshot: " << shot("dashboard.png").string() << "\n";

  // A phone (390 CSS pixels wide): nothing wider than the screen.
  Browser phone(1280, 1400);
  phone.emulate(390, 844, true);
  phone.navigate(url());
  ASSERT_TRUE(ready(phone, inverters.size()));
  EXPECT_EQ(phone.eval("window.innerWidth"), 390);
  EXPECT_LE(phone.eval("document.documentElement.scrollWidth").get<int>(), 390);
  phone.screenshot(shot("dashboard-phone.png"));
  EXPECT_EQ(phone.errors(), std::vector<std::string>{});
}

// Two simulated days and a morning at 3600x (a reading every 6 simulated minutes):
// the picture README shows (docs/dashboard.png is this test's screenshot). Every bar
// of a past day is the API's energy of that day, and today's curve is whole.
TEST_F(DashboardTest, DaysOfProductionAsTheReadmeShowsThem) {
  // /health turns unhealthy after HEALTH_STALE_SECONDS of the simulated clock: 300 s
  // would be 83 ms here, less than a slow (sanitizer) build takes to poll.
  start_on_clock("2026-05-30T02:00:00Z", 3600, {},
                 {"QUERY_PERIOD=0.1", "HEALTH_STALE_SECONDS=36000", kRoomForBrowsers});
  if (HasFatalFailure()) return;
  const auto until = *parse_iso8601("2026-06-01T12:30:00Z");
  while (sim_now() < until) std::this_thread::sleep_for(200ms);
  Browser browser(1280, 1800);
  browser.navigate(url());
  ASSERT_TRUE(ready(browser, 4));
  ASSERT_TRUE(
      browser.wait_for("Number(document.getElementById('day-chart').dataset.points) > 100", 20s))
      << browser.eval(kPageValues).dump();
  const auto bars = get_json("/api/energy?period=day");
  const auto page = browser.eval(
      "[...document.querySelectorAll('#energy-chart rect.bar')].map((b) => [b.dataset.start, "
      "Number(b.dataset.wh)])");
  ASSERT_EQ(page.size(), bars.size());
  int producing_days = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(page[i][0], bars[i]["period_start"]);
    if (i + 1 < bars.size()) {
      EXPECT_EQ(page[i][1], bars[i]["wh"]) << bars[i]["period_start"];
    } else {  // today goes on growing
      EXPECT_LE(page[i][1].get<long long>(), bars[i]["wh"].get<long long>());
      EXPECT_GT(page[i][1].get<long long>(), 1000);
    }
    if (bars[i]["wh"].get<long long>() > 1000) ++producing_days;
  }
  EXPECT_EQ(producing_days, 3);  // 30 and 31 May, this morning
  EXPECT_EQ(browser.errors(), std::vector<std::string>{});
  browser.screenshot(shot("dashboard-days.png"));
  std::cout << "screenshot: " << shot("dashboard-days.png").string() << "\n";
}

// The page shows when the database is away: readings go to the spool and it says so.
TEST_F(DashboardTest, ThePageSaysWhenReadingsAreSpooled) {
  start({"--speed", "0"}, {kRoomForBrowsers});
  ASSERT_TRUE(eventually_true(
      [&] { return http_get(http_port, "/api/production/summary").status == 200; }));
  Browser browser(1280, 1400);
  browser.navigate(url());
  ASSERT_TRUE(ready(browser, 4));
  // The bridge's database goes away (the server stays up for the other tests).
  pqxx::connection admin(admin_database_url());
  pqxx::nontransaction(admin).exec("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  pqxx::nontransaction(admin).exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
  EXPECT_TRUE(browser.wait_for(
      "[...document.querySelectorAll('.notice')].some((n) => n.dataset.kind === 'spooled')", 30s))
      << browser.eval(kPageValues).dump();
  pqxx::nontransaction(admin).exec("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");
  EXPECT_TRUE(browser.wait_for(
      "![...document.querySelectorAll('.notice')].some((n) => n.dataset.kind === 'spooled')", 30s));
  // The DTU goes silent: its values are stale, and the page says so.
  sim->stop(SIGKILL);
  EXPECT_TRUE(browser.wait_for(
      "[...document.querySelectorAll('.notice')].some((n) => n.dataset.kind === 'stale')", 30s))
      << browser.eval(kPageValues).dump();
  EXPECT_EQ(browser.eval("['error', 'backoff'].includes(document.querySelector('.dtu "
                         ".pill').textContent)"),
            true);
}

TEST_F(DashboardTest, WithATokenThePageAsksOnceAndNeverPutsItInAUrl) {
  const std::string token = "dash-7c1e9a-secret";
  start({"--speed", "0"}, {kRoomForBrowsers, "API_TOKEN=" + token});
  ASSERT_TRUE(wait_health([](const json& h) { return h["healthy"] == true; }));
  Browser browser(1280, 1400);
  browser.navigate(url());
  ASSERT_TRUE(
      browser.wait_for("document.getElementById('token-dialog').classList.contains('open')", 20s));
  browser.eval("document.getElementById('token-input').value = '" + token +
               "'; document.getElementById('token-form').requestSubmit(); true");
  ASSERT_TRUE(ready(browser, 4));
  ASSERT_TRUE(browser.wait_for("Number(document.body.dataset.updates) > 0", 10s));
  // Kept in the browser: a reload does not ask again.
  browser.navigate(url());
  ASSERT_TRUE(ready(browser, 4));
  EXPECT_EQ(browser.eval("document.getElementById('token-dialog').classList.contains('open')"),
            false);
  for (const auto& u : browser.requests()) EXPECT_EQ(u.find(token), std::string::npos) << u;
  EXPECT_GT(browser.requests().size(), 8U);
  // The only errors are the 401 answers before the token was given (seen: so the
  // browser's errors do reach the test).
  const auto errors = browser.errors();
  EXPECT_FALSE(errors.empty());
  for (const auto& e : errors) EXPECT_NE(e.find("401"), std::string::npos) << e;
}

}  // namespace
}  // namespace smiles::test
