// The database stops while serve polls (run serially: it stops the shared server).
#include "serve_fixture.h"

namespace smiles::test {
namespace {

class ServeOutageTest : public ServeTest {};

TEST_F(ServeOutageTest, DatabaseOutageLosesNothingAndDuplicatesNothing) {
  start({"--speed", "60"});
  ASSERT_TRUE(wait_health(polled));
  std::this_thread::sleep_for(1s);
  stop_postgres("immediate");
  ASSERT_TRUE(wait_health([](const json& h) { return h["spool"]["readings"] > 3; }))
      << "nothing spooled";
  // A database outage alone is not unhealthy while readings are spooled (the DTU
  // answers): Home Assistant keeps its entities.
  const auto health_down = get_json("/health");
  EXPECT_TRUE(health_down["healthy"]);
  EXPECT_FALSE(health_down["database"]["connected"]);
  EXPECT_EQ(http_get(http_port, "/api/inverters/102100007000/history").status, 503);
  start_postgres();
  ASSERT_TRUE(wait_health(
      [](const json& h) {
        return h["database"]["connected"] == true && h["spool"]["readings"] == 0;
      },
      30s));
  EXPECT_EQ(serve->stop(SIGTERM), 0);  // the in-flight poll is stored before exit
  serve.reset();
  const auto stored = std::stoll(db.scalar("SELECT count(DISTINCT \"timestamp\") FROM port_data"));
  EXPECT_GT(stored, 5);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM port_data"), std::to_string(stored * 13));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM inverter_data"), std::to_string(stored * 4));
}

// Every PostgreSQL process stopped (kill -STOP) for longer than DB_TIMEOUT: polling
// goes on, readings are spooled, /health and the log say the database hangs within
// seconds, SIGTERM ends the bridge in bounded time; after kill -CONT every good poll
// is in the database exactly once.
TEST_F(ServeOutageTest, AHungDatabaseCostsNoPollAndNoReading) {
  stderr_log = data_dir() + "/serve.log";
  start({"--speed", "60"}, {"DB_TIMEOUT=2"});
  ASSERT_TRUE(wait_health(polled));
  std::this_thread::sleep_for(1s);
  struct Thaw {
    bool frozen = false;
    ~Thaw() {
      if (frozen) thaw_postgres();
    }
  } thaw;
  const auto polls_before = get_json("/health")["dtus"]["roof"]["query_count"].get<int>();
  freeze_postgres();
  thaw.frozen = true;
  const auto frozen_at = std::chrono::steady_clock::now();
  // Reported within seconds (DB_TIMEOUT 2 s, the watcher checks every 5 s).
  ASSERT_TRUE(wait_health(
      [](const json& h) {
        const auto error = h["database"].value("error", "");
        return h["database"]["connected"] == false &&
               error.find("did not answer within") != std::string::npos;
      },
      15s))
      << get_json("/health").dump();
  const double reported =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
  std::this_thread::sleep_for(8s);
  const auto h = json::parse(http_get(http_port, "/health").body);
  const auto polls_during = h["dtus"]["roof"]["query_count"].get<int>() - polls_before;
  const double hung =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
  std::cout << "hang reported after " << reported << " s; " << polls_during << " polls in " << hung
            << " s of hang; " << h["spool"]["readings"] << " spooled\n";
  EXPECT_EQ(h["dtus"]["roof"]["state"], "ok");
  EXPECT_GT(polls_during, static_cast<int>(hung / 0.3 * 0.6)) << "polling stalled";
  EXPECT_GT(h["spool"]["readings"].get<int>(), polls_during / 2);
  // SIGTERM while the database still hangs.
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  const double stop_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count();
  std::cout << "SIGTERM to exit with the database hung: " << stop_seconds << " s\n";
  EXPECT_LT(stop_seconds, 10.0);
  thaw_postgres();
  thaw.frozen = false;
  auto log = log_text();
  EXPECT_NE(log.find("did not answer within"), std::string::npos) << log;
  const auto stop = stop_line(log);
  ASSERT_TRUE(stop) << log;
  const auto [polls, stored, spooled, replayed, dropped] = *stop;
  std::cout << "first run: " << polls << " good polls = " << stored << " stored + " << spooled
            << " spooled (" << replayed << " replayed), " << dropped << " dropped\n";
  EXPECT_EQ(dropped, 0U);
  EXPECT_EQ(stored + spooled, polls);
  // Back with the database and without the DTU: the spool is replayed, nothing new.
  sim->stop(SIGKILL);
  launch_serve();
  ASSERT_TRUE(wait_health([](const json& s) { return s["spool"]["readings"] == 0; }, 30s));
  EXPECT_EQ(serve->stop(SIGTERM), 0);
  EXPECT_EQ(std::stoul(db.scalar("SELECT count(DISTINCT \"timestamp\") FROM port_data")), polls);
  EXPECT_EQ(std::stoul(db.scalar("SELECT count(*) FROM port_data")), polls * 13);
}

}  // namespace
}  // namespace smiles::test
