// Energy Home Assistant can trust: `serve` and the simulator on one simulated clock
// (SIMULATED_CLOCK, simulate --anchor) over a simulated day and more, every energy
// value the API serves fed through Home Assistant's total_increasing statistics
// (ha_statistics.h), and the energy recorded compared with the simulator's true
// energy. Run serially: the restart stops the shared PostgreSQL.
#include <map>

#include "ha_statistics.h"
#include "serve_fixture.h"
#include "smiles/core/time.h"
#include "smiles/protocol/port_block.h"
#include "smiles/protocol/simulator.h"

namespace smiles::test {
namespace {

Timestamp parse(const std::string& text) {
  int y, mo, d, h, mi, s, ms = 0;
  std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms);
  return Timestamp{std::chrono::sys_days{std::chrono::year{y} / mo / d}.time_since_epoch()} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s} +
         std::chrono::milliseconds{ms};
}

// Every energy value of every endpoint, as Home Assistant would record it.
class HomeAssistantRecorder {
 public:
  explicit HomeAssistantRecorder(std::uint16_t& port) : port_(port) {}

  // One round of polling; endpoints that do not answer 200 are unavailable, skipped.
  void sample() {
    if (const auto r = http_get(port_, "/api/production/current"); r.status == 200) {
      for (const auto& p : json::parse(r.body)) {
        const auto key = port_key(p);
        meter("current total " + key).observe(p["total_production"].get<double>());
        meter("current today " + key).observe(p["today_production"].get<double>());
        auto& span = spans_[key];
        const auto t = parse(p["last_updated"].get<std::string>());
        if (!span.first) span.first = {t, p["total_production"].get<double>()};
        span.last = {t, p["total_production"].get<double>()};
      }
    }
    if (const auto r = http_get(port_, "/api/production/summary"); r.status == 200) {
      const auto s = json::parse(r.body);
      meter("summary total").observe(s["total_wh"].get<double>());
      meter("summary today").observe(s["today_wh"].get<double>());
      meter("summary kwh").observe(s["total_kwh"].get<double>() * 1000);
    }
    if (const auto r = http_get(port_, "/api/inverters"); r.status == 200) {
      for (const auto& inv : json::parse(r.body)) {
        double total = 0;
        for (const auto& p : inv["ports"]) {
          meter("inverters total " + port_key(p)).observe(p["total_production"].get<double>());
          meter("inverters today " + port_key(p)).observe(p["today_production"].get<double>());
          total += p["total_production"].get<double>();
        }
        // The Home Assistant package's per-inverter energy sensor sums the ports.
        meter("inverter sum " + inv["serial_number"].get<std::string>()).observe(total);
      }
    }
    if (const auto r = http_get(port_, "/api/ports"); r.status == 200) {
      for (const auto& p : json::parse(r.body)) {
        meter("ports total " + port_key(p)).observe(p["total_production"].get<double>());
        meter("ports today " + port_key(p)).observe(p["today_production"].get<double>());
      }
    }
  }

  std::map<std::string, TotalIncreasing> meters;
  struct Point {
    Timestamp t;
    double total;
  };
  struct Span {
    std::optional<Point> first, last;
  };
  std::map<std::string, Span> spans_;  // per port: first and last served total (current)

 private:
  static std::string port_key(const json& p) {
    return p["serial_number"].get<std::string>() + "/" +
           std::to_string(p["port_number"].get<int>());
  }
  TotalIncreasing& meter(const std::string& name) { return meters[name]; }
  std::uint16_t& port_;
};

class EnergyDayTest : public ServeTest {
 protected:
  // Samples until simulated time `until`, calling `at` once when `event` has come.
  void run_until(HomeAssistantRecorder& ha, Timestamp until,
                 std::optional<Timestamp> event = std::nullopt,
                 const std::function<void()>& at = {}) {
    bool done = !event;
    while (sim_now() < until) {
      ha.sample();
      if (!done && sim_now() >= *event) {
        done = true;
        at();
      }
      std::this_thread::sleep_for(40ms);
    }
    ha.sample();
  }
  // The simulator's true lifetime total of each port at `t` (the same model, clock
  // and seed as the simulate process).
  std::map<std::string, double> true_totals(Timestamp t, bool night_unlinked) const {
    protocol::ModelOptions options{start_, speed_, 15, night_unlinked};
    const protocol::SimulatedDtu model(protocol::layout_from_spec(kLayout, 7), options, anchor_);
    std::map<std::string, double> out;
    int block = 0;
    for (const auto& inv : model.layout().inverters) {
      for (int p = 1; p <= inv.ports; ++p, ++block) {
        const auto scaled = protocol::scale_port_block(model.port_block(block, t));
        out[inv.serial_number + "/" + std::to_string(p)] =
            static_cast<double>(scaled.total_production_wh);
      }
    }
    return out;
  }
  // Recorded energy of every meter against the truth between the first and the last
  // served reading of each port: within 1 Wh per port.
  void expect_recorded_equals_truth(const HomeAssistantRecorder& ha, bool night_unlinked,
                                    int expected_today_resets) {
    double truth_sum = 0;
    ASSERT_EQ(ha.spans_.size(), 13U);
    for (const auto& [key, span] : ha.spans_) {
      ASSERT_TRUE(span.first && span.last) << key;
      const double truth = true_totals(span.last->t, night_unlinked).at(key) -
                           true_totals(span.first->t, night_unlinked).at(key);
      truth_sum += truth;
      EXPECT_GT(truth, 100) << key << ": the run should span production";
      for (const char* endpoint : {"current", "inverters", "ports"}) {
        const auto& total = ha.meters.at(std::string(endpoint) + " total " + key);
        EXPECT_NEAR(total.sum(), truth, 1.0) << endpoint << " total " << key;
        EXPECT_EQ(total.resets(), 0) << endpoint << " total " << key << " went down";
        EXPECT_EQ(total.dips(), 0) << endpoint << " total " << key << " dipped";
        const auto& today = ha.meters.at(std::string(endpoint) + " today " + key);
        EXPECT_NEAR(today.sum(), truth, 1.0) << endpoint << " today " << key;
        EXPECT_EQ(today.resets(), expected_today_resets) << endpoint << " today " << key;
        EXPECT_EQ(today.dips(), 0) << endpoint << " today " << key;
      }
    }
    EXPECT_NEAR(ha.meters.at("summary total").sum(), truth_sum, 13.0);
    EXPECT_EQ(ha.meters.at("summary total").resets(), 0);
    EXPECT_EQ(ha.meters.at("summary total").dips(), 0);
    EXPECT_NEAR(ha.meters.at("summary today").sum(), truth_sum, 13.0);
    EXPECT_NEAR(ha.meters.at("summary kwh").sum(), truth_sum, 13.0 + 1.0);
    for (const auto& [name, m] : ha.meters) {
      if (name.rfind("inverter sum ", 0) == 0) {
        EXPECT_EQ(m.resets(), 0) << name;
        EXPECT_EQ(m.dips(), 0) << name;
      }
    }
  }

  // /api/energy per inverter and production day (Europe/Berlin, CEST in June) against
  // the simulator's truth: within 1 Wh per port per day. A day's energy is what was
  // measured up to its last good reading (linked, with a total) since the last good
  // reading before it; what comes after (the evening after an inverter went to sleep,
  // a DTU away) is measured by the next good reading, on its day. The truth is the
  // model's counter (a night-unlinked DTU sends zeros instead: read it linked).
  void expect_energy_days_equal_truth(const std::string& first_day, const std::string& last_day) {
    std::vector<std::string> days;
    for (auto d = std::chrono::floor<std::chrono::days>(parse(first_day + "T00:00:00Z"));
         format_iso8601_date(d) <= last_day; d += std::chrono::days{1}) {
      days.push_back(format_iso8601_date(d));
    }
    // The last good reading of a port up to `until` (the first day's start if none).
    const auto last_good = [&](const std::string& serial, int port, Timestamp until) {
      const auto t = db.scalar(
          "SELECT to_char(max(p.\"timestamp\") AT TIME ZONE 'UTC', "
          "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM port_data p JOIN inverter_data i ON "
          "i.serial_number = p.serial_number AND i.\"timestamp\" = p.\"timestamp\" WHERE "
          "p.serial_number = '" +
          serial + "' AND p.port_number = " + std::to_string(port) +
          " AND i.link_status <> 0 AND p.total_production <> 0 AND p.\"timestamp\" < '" +
          format_iso8601_utc(until) + "'");
      return t.empty() ? parse(days.front() + "T00:00:00Z") - 2h : parse(t);
    };
    for (const auto& inv : protocol::layout_from_spec(kLayout, 7).inverters) {
      const auto bars = get_json("/api/energy?period=day&from=" + first_day + "&to=" + last_day +
                                 "&serial=" + inv.serial_number);
      ASSERT_EQ(bars.size(), days.size());
      for (std::size_t i = 0; i < days.size(); ++i) {
        const auto day_start = parse(days[i] + "T00:00:00Z") - 2h;
        double truth = 0;
        for (int p = 1; p <= inv.ports; ++p) {
          const auto key = inv.serial_number + "/" + std::to_string(p);
          const auto from = last_good(inv.serial_number, p, day_start);
          const auto to = last_good(inv.serial_number, p, day_start + 24h);
          truth += true_totals(to, false).at(key) - true_totals(from, false).at(key);
        }
        EXPECT_EQ(bars[i]["period_start"], days[i]);
        EXPECT_NEAR(bars[i]["wh"].get<double>(), truth, inv.ports * 1.0)
            << inv.serial_number << " on " << days[i];
        if (days[i] != last_day) {
          EXPECT_GT(truth, 1000) << "a day of production";
        }
      }
    }
  }
};

// A day and more: zero blocks during the cloud upload (5 of every 15 minutes), a night
// with linked inverters whose DTU keeps yesterday's daily counter until UTC midnight
// while the bridge's day starts at midnight in Europe/Berlin (22:00 UTC), and a
// restart at noon with PostgreSQL stopped and the DTU away.
TEST_F(EnergyDayTest, HomeAssistantRecordsTheTrueEnergyThroughUploadsMidnightsAndARestart) {
  start_on_clock("2026-06-01T19:00:00Z", 1200, {"--zero-window", "900:300"}, {});
  HomeAssistantRecorder ha(http_port);
  std::map<std::string, json> before;
  run_until(ha, parse("2026-06-03T01:00:00Z"), parse("2026-06-02T12:00:00Z"), [&] {
    // A restart with PostgreSQL stopped and the DTU away.
    const auto summary = get_json("/api/production/summary");
    stop_postgres("immediate");
    EXPECT_EQ(serve->stop(SIGTERM), 0);
    sim->stop(SIGKILL);
    launch_serve();
    const auto again = http_get(http_port, "/api/production/summary");
    ASSERT_EQ(again.status, 200) << again.body;
    const auto s = json::parse(again.body);
    EXPECT_EQ(s["total_wh"], summary["total_wh"]);  // served before: never less
    EXPECT_EQ(s["today_wh"], summary["today_wh"]);
    const auto serial = get_json("/api/inverters")[0]["serial_number"].get<std::string>();
    EXPECT_EQ(http_get(http_port, "/api/inverters/" + serial + "/ports").status, 200);
    ha.sample();
    sim = start_simulator(sim_args_, sim_port);  // the same clock: time went on meanwhile
    start_postgres();
  });
  expect_recorded_equals_truth(ha, false, 2);
  // Readings taken while PostgreSQL was away reached it from the spool.
  ASSERT_TRUE(wait_health([](const json& h) { return h["spool"]["readings"] == 0; }, 30s));
  // The energy history has every day the simulator produced, the replayed ones too.
  expect_energy_days_equal_truth("2026-06-01", "2026-06-03");
  EXPECT_GT(std::stoll(db.scalar("SELECT count(*) FROM port_data WHERE \"timestamp\" > "
                                 "'2026-06-02T12:30:00Z'")),
            13 * 5);
}

// A night with the inverters asleep (unlinked zero blocks) and upload windows by day:
// no endpoint's energy ever goes down, and the recorded energy is the true one.
// The run starts three simulated hours (4.5 s) before the simulated sunset (18:00 UTC),
// so that even a slow start (the sanitizer build) serves a day's energy before the
// night, and the Berlin midnight (22:00 UTC) is the one "today" reset expected.
TEST_F(EnergyDayTest, ANightOfUnlinkedInvertersNeverLowersAnything) {
  start_on_clock("2026-06-01T15:00:00Z", 2400, {"--night-unlinked", "--zero-window", "900:300"},
                 {});
  HomeAssistantRecorder ha(http_port);
  run_until(ha, parse("2026-06-02T18:05:00Z"));
  for (const auto& [key, span] : ha.spans_) {
    ASSERT_TRUE(span.first) << key;
    ASSERT_LT(span.first->t, parse("2026-06-01T18:00:00Z"))
        << key << ": the first served reading came after sunset; the test needs the evening";
  }
  expect_recorded_equals_truth(ha, true, 1);
  expect_energy_days_equal_truth("2026-06-01", "2026-06-02");
}

// The first start ever, with the DTU away: energy endpoints answer 503, never 0.
TEST_F(ServeTest, WithNothingKnownEnergyEndpointsAnswer503) {
  start_serve_only({"DB_AUTO_MIGRATE=true", "DTUS=roof=tcp://127.0.0.1:1"});
  for (const char* target : {"/api/production/summary", "/api/production/current"}) {
    const auto r = http_get(http_port, target);
    EXPECT_EQ(r.status, 503) << target << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "energy_unknown") << target;
  }
  EXPECT_EQ(get_json("/api/inverters").size(), 0U);
}

// A kill -9 with PostgreSQL away: the state file alone brings back what was served.
TEST_F(ServeTest, AKilledBridgeWithoutItsDatabaseServesWhatItServedBefore) {
  start({"--speed", "60"});
  ASSERT_TRUE(wait_health([](const json& h) { return h["dtus"]["roof"]["query_count"] >= 3; }));
  stop_postgres("immediate");
  ASSERT_TRUE(wait_health([](const json& h) { return h["spool"]["readings"] >= 2; }));
  sim->stop(SIGKILL);  // the DTU goes away too
  ASSERT_TRUE(wait_health([](const json& h) { return h["dtus"]["roof"]["status"] == "error"; }));
  const auto summary = get_json("/api/production/summary");
  const auto inverters = get_json("/api/inverters");
  serve->stop(SIGKILL);
  launch_serve();
  const auto again = get_json("/api/production/summary");
  EXPECT_EQ(again["total_wh"], summary["total_wh"]);
  EXPECT_EQ(again["today_wh"], summary["today_wh"]);
  EXPECT_GT(again["total_wh"].get<std::uint64_t>(), 0U);
  EXPECT_EQ(get_json("/api/inverters").size(), inverters.size());
  EXPECT_EQ(get_json("/api/production/current").size(), 13U);
  start_postgres();
}

}  // namespace
}  // namespace smiles::test
