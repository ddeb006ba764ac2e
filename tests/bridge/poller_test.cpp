// The poll scheduler without sockets or sleeping: a Poller over the DtuClient with the
// simulator's model behind a fake reader (fake_reader.h) and a manual clock.
#include "poller.h"

#include <gtest/gtest.h>

#include "fake_reader.h"
#include "smiles/protocol/errors.h"

namespace smiles::bridge {
namespace {

using namespace std::chrono_literals;
using protocol::testing::ManualClock;
using protocol::testing::ModelReader;

struct RecordingSink final : PollSink {
  void on_reading(DtuReading& reading, double seconds) override {
    readings.push_back(reading);
    durations.push_back(seconds);
  }
  void on_failure(const std::string& dtu, const PollFailure& failure, double seconds) override {
    EXPECT_EQ(dtu, "roof");
    failures.push_back(failure);
    durations.push_back(seconds);
  }
  void on_client_stats(const std::string&, const DtuClientStats& stats) override {
    ++stats_calls;
    last_stats = stats;
  }
  std::vector<DtuReading> readings;
  std::vector<PollFailure> failures;
  std::vector<double> durations;
  int stats_calls = 0;
  DtuClientStats last_stats;
};

protocol::RegisterPayload silent(std::uint16_t, std::uint16_t) { throw TimeoutError("no answer"); }
protocol::RegisterPayload empty(std::uint16_t, std::uint16_t) { return {}; }

class PollerTest : public ::testing::Test {
 protected:
  PollerTest()
      : dtu(protocol::layout_from_spec("HM:2", 3), protocol::ModelOptions{Timestamp{}, 0, 15},
            Timestamp{}) {
    clock->now = protocol::PollClock::SteadyTime{} + 1000h;
  }
  // What the model answers (the reader's own answer, for scripted slow ones).
  protocol::RegisterPayload answer(std::uint16_t address, std::uint16_t count) const {
    std::uint8_t code = 0;
    auto bytes = dtu.read(address, count, Timestamp{} + 12h, false, code);
    const auto n = static_cast<std::uint8_t>(bytes->size());
    return {std::move(*bytes), n};
  }
  Poller make(std::chrono::milliseconds period, protocol::DtuClientOptions options = {}) {
    options.retries = 0;
    auto fake = std::make_unique<ModelReader>(dtu, clock);
    reader = fake.get();
    return Poller(protocol::DtuClient("roof", std::move(fake), options, clock), "tcp://dtu:502",
                  clock, period, sink);
  }
  protocol::SimulatedDtu dtu;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  ModelReader* reader = nullptr;
  RecordingSink sink;
};

TEST_F(PollerTest, SlotsAreCountedFromTheFirstPollSoPollTimeNeverDrifts) {
  auto poller = make(1000ms);
  const auto first = clock->now;
  for (int i = 1; i <= 5; ++i) {
    const auto due = poller.poll_once();  // each poll takes 4 requests x 5 ms
    EXPECT_EQ(due, first + i * 1000ms) << "poll " << i;
    clock->now = due;
  }
  ASSERT_EQ(sink.readings.size(), 5U);
  EXPECT_EQ(sink.readings[0].dtu_address, "tcp://dtu:502");
  EXPECT_EQ(sink.readings[0].dtu_name, "roof");
  EXPECT_EQ(sink.readings[0].inverters.size(), 1U);
  EXPECT_NEAR(sink.durations[0], 0.020, 1e-9);  // serial, 2 ports, end marker
  EXPECT_NEAR(sink.durations[1], 0.015, 1e-9);  // the serial is read once per connection
  EXPECT_EQ(sink.stats_calls, 5);
  EXPECT_EQ(sink.last_stats.polls, 5U);
  EXPECT_EQ(poller.state(), "ok");
}

TEST_F(PollerTest, APollLongerThanAPeriodSkipsTheSlotsItOverran) {
  auto poller = make(1000ms);
  const auto first = clock->now;
  reader->script = {[this](std::uint16_t a, std::uint16_t c) {
    clock->advance(2500ms);  // a DTU answering very slowly
    return answer(a, c);
  }};
  EXPECT_EQ(poller.poll_once(), first + 3000ms);
  EXPECT_EQ(sink.readings.size(), 1U);
  EXPECT_NEAR(sink.durations[0], 2.520, 1e-9);
}

TEST_F(PollerTest, APollEndingOnASlotBoundaryWaitsForTheNextSlot) {
  auto poller = make(1000ms);
  const auto first = clock->now;
  reader->script = {[this](std::uint16_t a, std::uint16_t c) {
    clock->advance(980ms);  // with the 4 requests' 5 ms each: exactly one period
    return answer(a, c);
  }};
  EXPECT_EQ(poller.poll_once(), first + 2000ms);
}

TEST_F(PollerTest, AFailedPollIsAnErrorAndPollsSkippedDuringBackoffAreBackoff) {
  protocol::DtuClientOptions options;
  options.reconnect_delay = 1500ms;
  options.reconnect_delay_max = 1500ms;
  auto poller = make(1000ms, options);
  poller.poll_once();
  EXPECT_EQ(poller.state(), "ok");

  reader->script = {silent};  // the DTU goes silent: the next poll asks and fails
  clock->now = poller.poll_once();
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_EQ(sink.failures[0].kind, "timeout");
  EXPECT_EQ(sink.failures[0].state, "error");
  EXPECT_EQ(poller.state(), "error");

  const auto requests = reader->calls.size();
  clock->now = poller.poll_once();  // 1 s later, within the 1.5 s backoff: skipped
  ASSERT_EQ(sink.failures.size(), 2U);
  EXPECT_EQ(sink.failures[1].state, "backoff");
  EXPECT_EQ(sink.failures[1].kind, "connection");
  EXPECT_EQ(reader->calls.size(), requests) << "a skipped poll must not touch the line";
  EXPECT_EQ(poller.state(), "backoff");

  clock->now = poller.poll_once();  // 2 s after the failure: asks again, and it answers
  EXPECT_EQ(poller.state(), "ok");
  EXPECT_EQ(sink.readings.size(), 2U);
  EXPECT_EQ(sink.stats_calls, 4);
  EXPECT_EQ(sink.last_stats.backoff_skips, 1U);
}

TEST_F(PollerTest, AnEmptyFirstBlockIsNotMappedWithoutBackoff) {
  auto poller = make(1000ms);
  reader->script = {nullptr, empty};  // serial answered, first port block empty
  clock->now = poller.poll_once();
  ASSERT_EQ(sink.failures.size(), 1U);
  EXPECT_EQ(sink.failures[0].state, "not_mapped");
  EXPECT_EQ(poller.state(), "not_mapped");
  poller.poll_once();  // no backoff: the next slot asks again and gets the inverters
  EXPECT_EQ(poller.state(), "ok");
  EXPECT_EQ(sink.readings.size(), 1U);
}

TEST_F(PollerTest, ANonPositivePeriodIsRefused) { EXPECT_THROW(make(0ms), ConfigError); }

}  // namespace
}  // namespace smiles::bridge
