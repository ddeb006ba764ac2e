// Fault-injection fakes for DtuClient unit tests: a reader answering from the real
// simulator model (frozen time) unless a scripted fault is queued, and a manual clock.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "smiles/protocol/dtu_client.h"
#include "smiles/protocol/simulator.h"

namespace smiles::protocol::testing {

class ManualClock final : public PollClock {
 public:
  SteadyTime steady_now() override { return now; }
  Timestamp wall_now() override { return Timestamp{} + std::chrono::hours{24 * 20000}; }
  void sleep_until(SteadyTime t) override {
    sleeps.push_back(t - now);
    if (t > now) now = t;
  }
  void advance(std::chrono::milliseconds d) { now += d; }
  SteadyTime now{};
  std::vector<SteadyTime::duration> sleeps;
};

class ModelReader final : public RegisterReader {
 public:
  using Script = std::function<RegisterPayload(std::uint16_t, std::uint16_t)>;

  ModelReader(const SimulatedDtu& dtu, std::shared_ptr<ManualClock> clock)
      : dtu_(dtu), clock_(std::move(clock)) {}

  RegisterPayload read_holding_registers(std::uint16_t address, std::uint16_t count) override {
    calls.push_back({address, clock_->now});
    clock_->advance(std::chrono::milliseconds{5});  // line latency
    if (!script.empty()) {
      auto next = std::move(script.front());
      script.pop_front();
      if (next) return next(address, count);
    }
    std::uint8_t code = 0;
    auto bytes = dtu_.read(address, count, Timestamp{} + std::chrono::hours{12}, false, code);
    if (!bytes) throw std::runtime_error("model refused the request");
    const auto n = static_cast<std::uint8_t>(bytes->size());
    return {std::move(*bytes), n};
  }
  void reset() override { ++resets; }

  struct Call {
    std::uint16_t address;
    PollClock::SteadyTime at;
  };
  std::vector<Call> calls;
  std::deque<Script> script;  // an empty function lets the model answer
  int resets = 0;

 private:
  const SimulatedDtu& dtu_;
  std::shared_ptr<ManualClock> clock_;
};

}  // namespace smiles::protocol::testing
