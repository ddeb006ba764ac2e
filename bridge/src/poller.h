// One DTU's poll loop: a poll per fixed slot of the query period (no drift, no
// overlap; a poll longer than a period skips the slots it overran), each outcome
// handed to a PollSink. Time comes from the DtuClient's PollClock, so the schedule
// and the states are unit-testable with a manual clock and a fake reader.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "smiles/core/reading.h"
#include "smiles/protocol/dtu_client.h"

namespace smiles::bridge {

// What a failed poll means for the DTU's served state.
struct PollFailure {
  std::string kind;     // the error's kind(): "timeout", "connection", "not_mapped", ...
  std::string message;  // the error's text
  // "error" (the DTU was asked and failed), "backoff" (a poll skipped while the client
  // waits out its reconnect delay: the line was not touched) or "not_mapped".
  std::string state;
};

// Where poll outcomes go (the service: live state, metrics, storage). Called from the
// poller's thread.
class PollSink {
 public:
  virtual ~PollSink() = default;
  // A good reading, its dtu_address filled in; `seconds` is the poll's duration.
  virtual void on_reading(DtuReading& reading, double seconds) = 0;
  virtual void on_failure(const std::string& dtu, const PollFailure& failure, double seconds) = 0;
  // After every poll, good or not: the client's counters so far.
  virtual void on_client_stats(const std::string& dtu, const DtuClientStats& stats) = 0;
};

class Poller {
 public:
  using SteadyTime = protocol::PollClock::SteadyTime;

  // `clock` must be the client's; `period` > 0.
  Poller(protocol::DtuClient client, std::string address,
         std::shared_ptr<protocol::PollClock> clock, std::chrono::milliseconds period,
         PollSink& sink);

  // Polls once now and returns when the next poll is due: the first slot after now,
  // counted in whole periods from the first poll.
  SteadyTime poll_once();
  // poll_once() until `stop`, waiting for each slot on std::chrono::steady_clock
  // (the clock's steady time must be that clock's); a stop cuts the wait short, an
  // in-flight poll finishes.
  void run(const std::stop_token& stop);

  // "" before the first poll, then "ok", "error", "backoff" or "not_mapped"
  // (see PollFailure::state).
  [[nodiscard]] const std::string& state() const { return state_; }

 private:
  protocol::DtuClient client_;
  std::string address_;
  std::shared_ptr<protocol::PollClock> clock_;
  std::chrono::milliseconds period_;
  PollSink& sink_;
  std::optional<SteadyTime> next_;
  std::string state_;
};

}  // namespace smiles::bridge
