// DtuClient + ModbusRegisterReader against the simulator over RTU through a
// socat pty pair (the null-modem cable of the test suite).
#include <gtest/gtest.h>

#include "e2e_fixture.h"
#include "process.h"
#include "smiles/protocol/errors.h"

namespace smiles::hardware {

using namespace smiles::protocol;  // what the I/O adapters carry
namespace {

using namespace std::chrono_literals;
using namespace testing;

class RtuE2e : public ::testing::Test {
 protected:
  void start(const std::string& layout, FaultOptions faults = {}, std::uint8_t client_unit = 101) {
    server = std::make_unique<SimulatorServer>(frozen_dtu(layout), faults);
    server->start_rtu(pty.dtu_end(), 9600, 101);
    DtuAddress address;
    address.transport = Transport::kRtu;
    address.device = pty.client_end();
    address.unit = client_unit;
    client = std::make_unique<DtuClient>(
        "rtu-dtu", std::make_unique<ModbusRegisterReader>(address, short_timeouts()),
        fast_recovery());
  }
  DtuReading expected() const { return expected_reading(server->dtu()); }

  smiles::test::PtyPair pty;
  std::unique_ptr<SimulatorServer> server;
  std::unique_ptr<DtuClient> client;
};

TEST_F(RtuE2e, ReadsEveryValueTheSimulatorServes) {
  start("MI:2,HM:4,HMS:1,HMT:6");
  expect_same_values(client->poll(), expected());
  expect_same_values(client->poll(), expected());
  EXPECT_EQ(client->stats().retries, 0U);
}

TEST_F(RtuE2e, WrongByteCountIsAccepted) {
  FaultOptions f;
  f.wrong_byte_count = 80;
  start("HM:2", f);
  expect_same_values(client->poll(), expected());
  EXPECT_EQ(client->stats().wrong_byte_count_accepted, 4U);
  EXPECT_EQ(client->stats().retries, 0U);
}

TEST_F(RtuE2e, BadCrcIsAFrameErrorAndIsRetried) {
  FaultOptions f;
  f.garbage_every = 1;
  start("HM:1", f);
  try {
    client->poll();
    FAIL() << "expected FrameError";
  } catch (const FrameError& e) {
    EXPECT_NE(std::string(e.what()).find("CRC"), std::string::npos) << e.what();
  }
  f.garbage_every = 2;
  server->set_faults(f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().frame_errors, 4U);
}

TEST_F(RtuE2e, SilenceTimesOutAndIsRetried) {
  FaultOptions f;
  f.no_answer_every = 3;
  start("HM:2", f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().timeouts, 1U);
}

TEST_F(RtuE2e, ExceptionsAreTypedAndBusyIsRetried) {
  FaultOptions f;
  f.exception_every = 2;
  start("HM:2", f);
  expect_same_values(client->poll(), expected());
  EXPECT_GE(client->stats().exceptions, 1U);
  f.exception_every = 1;
  f.exception_code = 0x02;
  server->set_faults(f);
  EXPECT_THROW(client->poll(), ModbusException);
}

TEST_F(RtuE2e, NotMappedYetThenMapped) {
  FaultOptions f;
  f.not_mapped_polls = 1;
  start("HM:1", f);
  EXPECT_THROW(client->poll(), NotMappedError);
  expect_same_values(client->poll(), expected());
}

TEST_F(RtuE2e, SlowAnswersTimeOutThenRecover) {
  FaultOptions f;
  f.delay = 400ms;
  start("HM:1", f);
  EXPECT_THROW(client->poll(), TimeoutError);
  server->set_faults({});
  // The late answers still on their way must not be taken for the next requests'.
  expect_same_values(client->poll(), expected());
  EXPECT_EQ(client->stats().frame_errors, 0U);
}

TEST_F(RtuE2e, AnotherUnitIdGetsNoAnswer) {
  start("HM:1", {}, 102);
  EXPECT_THROW(client->poll(), TimeoutError);
}

}  // namespace
}  // namespace smiles::hardware
