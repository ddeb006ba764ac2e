// DtuClient + ModbusRegisterReader against the simulator over loopback TCP.
#include <gtest/gtest.h>

#include "e2e_fixture.h"
#include "smiles/protocol/errors.h"

namespace smiles::hardware {

using namespace smiles::protocol;  // what the I/O adapters carry
namespace {

using namespace std::chrono_literals;
using namespace testing;

class TcpE2e : public ::testing::Test {
 protected:
  void start(const std::string& layout, FaultOptions faults = {}) {
    server = std::make_unique<SimulatorServer>(frozen_dtu(layout), faults);
    server->start_tcp("127.0.0.1", 0, 1);
    DtuAddress address;
    address.host = "127.0.0.1";
    address.port = server->tcp_port();
    client = std::make_unique<DtuClient>(
        "tcp-dtu", std::make_unique<ModbusRegisterReader>(address, short_timeouts()),
        fast_recovery());
  }
  DtuReading expected() const { return expected_reading(server->dtu()); }

  std::unique_ptr<SimulatorServer> server;
  std::unique_ptr<DtuClient> client;
};

TEST_F(TcpE2e, ReadsEveryValueTheSimulatorServes) {
  start("MI:1,MI:2,MI:4,HM:1,HM:2,HM:4,HMS:1,HMS:2,HMS:4,HMT:6");
  const auto reading = client->poll();
  expect_same_values(reading, expected());
  EXPECT_EQ(reading.inverters.size(), 10U);
  EXPECT_EQ(reading.dtu_name, "tcp-dtu");
}

TEST_F(TcpE2e, FullDtuOf99PortsTakes100RequestsPerCycle) {
  server = std::make_unique<SimulatorServer>(
      SimulatedDtu(layout_with_ports(99, 5), ModelOptions{frozen_noon(), 0, 15}), FaultOptions{});
  server->start_tcp("127.0.0.1", 0, 1);
  DtuAddress address{Transport::kTcp, "127.0.0.1", server->tcp_port(), "", 9600, 1};
  DtuClient c("full", std::make_unique<ModbusRegisterReader>(address, short_timeouts()),
              fast_recovery());
  auto reading = c.poll();
  int ports = 0;
  for (const auto& inv : reading.inverters) ports += static_cast<int>(inv.ports.size());
  EXPECT_EQ(ports, 99);
  EXPECT_EQ(c.stats().last_poll_requests, 101U);  // first poll also reads the DTU serial
  c.poll();
  EXPECT_EQ(c.stats().last_poll_requests, 100U);
}

TEST_F(TcpE2e, WrongByteCountIsAccepted) {
  for (int lie : {80, 255}) {
    FaultOptions f;
    f.wrong_byte_count = static_cast<std::uint8_t>(lie);
    start("HM:2,MI:1", f);
    expect_same_values(client->poll(), expected());
    EXPECT_EQ(client->stats().wrong_byte_count_accepted, 5U) << lie;  // serial + 3 + end
    EXPECT_EQ(client->stats().retries, 0U);
  }
}

TEST_F(TcpE2e, SlowAnswersTimeOutAndTheClientRecovers) {
  FaultOptions f;
  f.delay = 600ms;  // longer than the 250 ms timeout
  start("HM:1", f);
  EXPECT_THROW(client->poll(), TimeoutError);
  EXPECT_EQ(client->stats().timeouts, 3U);  // 1 + 2 retries
  server->set_faults({});
  expect_same_values(client->poll(), expected());
}

TEST_F(TcpE2e, DroppedConnectionsAreRetried) {
  FaultOptions f;
  f.drop_every = 3;
  start("HM:4", f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().connection_errors, 1U);
  EXPECT_GE(server->stats().connections, 2U);
}

TEST_F(TcpE2e, MissingAnswersAreRetried) {
  FaultOptions f;
  f.no_answer_every = 4;
  start("HM:4", f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().timeouts, 1U);
}

TEST_F(TcpE2e, BusyExceptionsAreRetried) {
  FaultOptions f;
  f.exception_every = 2;
  f.exception_code = 0x06;
  start("HM:2", f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().exceptions, 1U);
}

TEST_F(TcpE2e, IllegalAddressExceptionFailsThePollWithItsCode) {
  FaultOptions f;
  f.exception_every = 1;
  f.exception_code = 0x02;
  start("HM:2", f);
  try {
    client->poll();
    FAIL() << "expected an exception";
  } catch (const ModbusException& e) {
    EXPECT_EQ(e.code(), 0x02);
  }
  server->set_faults({});
  expect_same_values(client->poll(), expected());
}

TEST_F(TcpE2e, TruncatedFramesAreReportedAndRetried) {
  FaultOptions f;
  f.garbage_every = 1;
  start("HM:1", f);
  EXPECT_THROW(client->poll(), FrameError);
  EXPECT_EQ(client->stats().frame_errors, 3U);
  f.garbage_every = 3;
  server->set_faults(f);
  expect_same_values(client->poll(), expected());
}

TEST_F(TcpE2e, NotMappedYetThenMapped) {
  FaultOptions f;
  f.not_mapped_polls = 2;
  start("HMS:2", f);
  EXPECT_THROW(client->poll(), NotMappedError);
  EXPECT_EQ(client->state(), DtuState::kNotMapped);
  EXPECT_THROW(client->poll(), NotMappedError);
  expect_same_values(client->poll(), expected());
  EXPECT_EQ(client->state(), DtuState::kOk);
}

TEST_F(TcpE2e, ZeroBlocksKeepSerialsAndReadZero) {
  FaultOptions f;
  f.zero_blocks = true;
  start("HM:2,MI:1", f);
  const auto reading = client->poll();
  expect_same_values(reading, expected_reading(server->dtu(), /*zeroed=*/true));
  ASSERT_EQ(reading.inverters.size(), 2U);
  EXPECT_EQ(reading.inverters[0].ports[0].total_production_wh, 0U);
  EXPECT_EQ(reading.inverters[0].link_status, 0);
}

TEST_F(TcpE2e, UnreachableDtuBacksOffThenReconnects) {
  start("HM:1");
  const auto port = server->tcp_port();
  expect_same_values(client->poll(), expected());
  server.reset();  // DTU gone
  auto clock = system_poll_clock();
  DtuClientOptions o = fast_recovery();
  o.reconnect_delay = 200ms;
  o.reconnect_delay_max = 400ms;
  DtuAddress address{Transport::kTcp, "127.0.0.1", port, "", 9600, 1};
  DtuClient c("gone", std::make_unique<ModbusRegisterReader>(address, short_timeouts()), o);
  EXPECT_THROW(c.poll(), ConnectionError);
  EXPECT_THROW(c.poll(), ConnectionError);  // backing off: line not touched
  EXPECT_EQ(c.stats().backoff_skips, 1U);

  server = std::make_unique<SimulatorServer>(frozen_dtu("HM:1"), FaultOptions{});
  server->start_tcp("127.0.0.1", port, 1);
  clock->sleep_until(*c.backoff_until());
  expect_same_values(c.poll(), expected());
}

TEST_F(TcpE2e, WrongUnitIdGetsAGatewayException) {
  start("HM:1");
  DtuAddress address{Transport::kTcp, "127.0.0.1", server->tcp_port(), "", 9600, 9};
  DtuClient c("wrong-unit", std::make_unique<ModbusRegisterReader>(address, short_timeouts()),
              fast_recovery());
  try {
    c.poll();
    FAIL();
  } catch (const ModbusException& e) {
    EXPECT_EQ(e.code(), 0x0B);
  }
}

}  // namespace
}  // namespace smiles::hardware
