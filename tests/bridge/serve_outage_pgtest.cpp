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

}  // namespace
}  // namespace smiles::test
