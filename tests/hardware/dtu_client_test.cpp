#include "smiles/protocol/dtu_client.h"

#include <gtest/gtest.h>

#include "fake_reader.h"
#include "smiles/protocol/errors.h"

namespace smiles::protocol {
namespace {

using namespace std::chrono_literals;
using testing::ManualClock;
using testing::ModelReader;

class DtuClientTest : public ::testing::Test {
 protected:
  DtuClient make(const SimulatedDtu& dtu, DtuClientOptions options = {}) {
    auto fake = std::make_unique<ModelReader>(dtu, clock);
    reader = fake.get();
    return DtuClient("roof", std::move(fake), options, clock);
  }
  static SimulatedDtu model(const SimulatorLayout& layout) {
    return SimulatedDtu(layout, ModelOptions{Timestamp{}, 0, 15}, Timestamp{});
  }
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  ModelReader* reader = nullptr;
};

RegisterPayload timeout(std::uint16_t, std::uint16_t) { throw TimeoutError("silent"); }

TEST_F(DtuClientTest, ReadsSerialThenBlocksUntilTheFirstZeroSerial) {
  const auto dtu = model(layout_from_spec("MI:2,HMT:6,HM:1", 3));
  auto client = make(dtu);
  const auto reading = client.poll();
  EXPECT_EQ(reading.dtu_name, "roof");
  EXPECT_EQ(reading.dtu_serial, dtu.layout().dtu_serial);
  ASSERT_EQ(reading.inverters.size(), 3U);
  EXPECT_EQ(reading.inverters[0].inverter_type, "MI");
  EXPECT_EQ(reading.inverters[1].ports.size(), 6U);
  EXPECT_EQ(reading.inverters[2].serial_number, dtu.layout().inverters[2].serial_number);
  ASSERT_EQ(reader->calls.size(), 1U + 9U + 1U);  // serial, 9 ports, end marker
  EXPECT_EQ(reader->calls[0].address, kDtuSerialAddress);
  EXPECT_EQ(reader->calls[1].address, 0x1000);
  EXPECT_EQ(reader->calls[10].address, 0x1000 + 9 * 40);
  EXPECT_EQ(client.state(), DtuState::kOk);
  EXPECT_EQ(client.stats().last_poll_requests, 11U);
}

TEST_F(DtuClientTest, SerialIsReadOncePerConnection) {
  const auto dtu = model(layout_with_ports(99, 1));
  auto client = make(dtu);
  client.poll();
  EXPECT_EQ(client.stats().last_poll_requests, 101U);
  client.poll();
  EXPECT_EQ(client.stats().last_poll_requests, 100U);  // 99 ports + end marker (block 99)
}

TEST_F(DtuClientTest, StopsAfterMaxBlocks) {
  const auto dtu = model(layout_with_ports(99, 1));
  DtuClientOptions options;
  options.max_blocks = 10;
  auto client = make(dtu, options);
  const auto reading = client.poll();
  int ports = 0;
  for (const auto& inv : reading.inverters) ports += static_cast<int>(inv.ports.size());
  EXPECT_EQ(ports, 10);
  EXPECT_EQ(reader->calls.size(), 11U);
}

TEST_F(DtuClientTest, RetriesTimeoutsWithinTheBudget) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  DtuClientOptions options;
  options.retries = 2;
  auto client = make(dtu, options);
  reader->script = {nullptr, timeout, timeout};  // serial ok, block 0 fails twice, then ok
  const auto reading = client.poll();
  EXPECT_EQ(reading.inverters.size(), 1U);
  EXPECT_EQ(client.stats().timeouts, 2U);
  EXPECT_EQ(client.stats().retries, 2U);
}

TEST_F(DtuClientTest, ExhaustedRetriesFailThePollAndStartBackoff) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  DtuClientOptions options;
  options.retries = 1;
  options.reconnect_delay = 1000ms;
  options.reconnect_delay_max = 4000ms;
  auto client = make(dtu, options);
  reader->script = {timeout, timeout};
  EXPECT_THROW(client.poll(), TimeoutError);
  EXPECT_EQ(client.state(), DtuState::kFailing);
  EXPECT_EQ(reader->resets, 1);
  ASSERT_TRUE(client.backoff_until().has_value());

  // Within the backoff the line is not touched.
  const auto calls = reader->calls.size();
  clock->advance(500ms);
  EXPECT_THROW(client.poll(), ConnectionError);
  EXPECT_EQ(reader->calls.size(), calls);
  EXPECT_EQ(client.stats().backoff_skips, 1U);

  // Backoff doubles on each failed poll and is capped.
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 4; ++i) {
    clock->now = *client.backoff_until();
    reader->script = {timeout, timeout};
    const auto failed_at = clock->now;
    EXPECT_THROW(client.poll(), TimeoutError);
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        *client.backoff_until() - failed_at - 10ms));  // two 5 ms requests
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::milliseconds>{2000ms, 4000ms, 4000ms, 4000ms}));

  // Recovery resets the backoff.
  clock->now = *client.backoff_until();
  EXPECT_NO_THROW(client.poll());
  EXPECT_EQ(client.state(), DtuState::kOk);
  EXPECT_FALSE(client.backoff_until().has_value());
}

TEST_F(DtuClientTest, NonRetryableExceptionFailsAtOnce) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  auto client = make(dtu);
  reader->script = {
      [](std::uint16_t, std::uint16_t) -> RegisterPayload { throw ModbusException(0x02, "test"); }};
  try {
    client.poll();
    FAIL() << "expected ModbusException";
  } catch (const ModbusException& e) {
    EXPECT_EQ(e.code(), 0x02);
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("illegal data address"), std::string::npos);
  }
  EXPECT_EQ(reader->calls.size(), 1U);
  EXPECT_EQ(client.stats().exceptions, 1U);
}

TEST_F(DtuClientTest, BusyExceptionIsRetried) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  auto client = make(dtu);
  reader->script = {nullptr, [](std::uint16_t, std::uint16_t) -> RegisterPayload {
                      throw ModbusException(0x06, "test");
                    }};
  EXPECT_NO_THROW(client.poll());
  EXPECT_EQ(client.stats().exceptions, 1U);
  EXPECT_EQ(client.stats().retries, 1U);
}

TEST_F(DtuClientTest, NotMappedIsItsOwnStateWithoutBackoff) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  auto client = make(dtu);
  reader->script = {nullptr, [](std::uint16_t, std::uint16_t) { return RegisterPayload{{}, 0}; }};
  EXPECT_THROW(client.poll(), NotMappedError);
  EXPECT_EQ(client.state(), DtuState::kNotMapped);
  EXPECT_FALSE(client.backoff_until().has_value());
  EXPECT_EQ(reader->resets, 0);
  EXPECT_EQ(client.stats().not_mapped, 1U);
  EXPECT_NO_THROW(client.poll());
  EXPECT_EQ(client.state(), DtuState::kOk);
}

TEST_F(DtuClientTest, WrongByteCountIsAcceptedAndCounted) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  auto client = make(dtu);
  auto lie = [&](std::uint16_t a, std::uint16_t c) {
    std::uint8_t code = 0;
    auto bytes = dtu.read(a, c, Timestamp{} + std::chrono::hours{12}, false, code);
    return RegisterPayload{*bytes, 80};
  };
  reader->script = {lie, lie, lie};
  const auto reading = client.poll();
  EXPECT_EQ(reading.inverters.size(), 1U);
  EXPECT_EQ(client.stats().wrong_byte_count_accepted, 3U);
}

TEST_F(DtuClientTest, PayloadOfTheWrongSizeIsRetriedAsAFrameError) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  auto client = make(dtu);
  reader->script = {nullptr, [](std::uint16_t, std::uint16_t) {
                      return RegisterPayload{std::vector<std::uint8_t>(12, 1), 12};
                    }};
  EXPECT_NO_THROW(client.poll());
  EXPECT_EQ(client.stats().frame_errors, 1U);
}

TEST_F(DtuClientTest, KeepsTheMinimumGapBetweenRequests) {
  const auto dtu = model(layout_from_spec("HM:2", 1));
  DtuClientOptions options;
  options.min_request_gap = 150ms;
  auto client = make(dtu, options);
  client.poll();
  ASSERT_EQ(reader->calls.size(), 4U);
  for (std::size_t i = 1; i < reader->calls.size(); ++i) {
    // each answer takes 5 ms; the next request starts 150 ms after it
    EXPECT_EQ(reader->calls[i].at - reader->calls[i - 1].at, 155ms) << i;
  }
}

TEST_F(DtuClientTest, RejectsBadOptions) {
  const auto dtu = model(layout_from_spec("HM:1", 1));
  DtuClientOptions options;
  options.max_blocks = 101;
  EXPECT_THROW(make(dtu, options), ConfigError);
  options = {};
  options.retries = -1;
  EXPECT_THROW(make(dtu, options), ConfigError);
}

}  // namespace
}  // namespace smiles::protocol
