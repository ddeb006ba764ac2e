// Reads a whole DTU: serial, then port blocks until the first all-zero serial or
// 100 blocks, grouped into inverters. Owns retries, request pacing and reconnect
// backoff; the RegisterReader below it does single requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "smiles/core/dtu_client_stats.h"
#include "smiles/core/reading.h"
#include "smiles/protocol/register_map.h"
#include "smiles/protocol/register_reader.h"

namespace smiles::protocol {

// Time source, injectable so pacing and backoff are testable without sleeping.
class PollClock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  virtual ~PollClock() = default;
  virtual SteadyTime steady_now() = 0;
  virtual Timestamp wall_now() = 0;
  virtual void sleep_until(SteadyTime t) = 0;
};
std::shared_ptr<PollClock> system_poll_clock();

struct DtuClientOptions {
  int retries = 2;                                  // extra attempts per request
  std::chrono::milliseconds min_request_gap{0};     // answer -> next request
  std::chrono::milliseconds reconnect_delay{1000};  // first backoff after a failed poll
  std::chrono::milliseconds reconnect_delay_max{60000};
  int max_blocks = kMaxPortBlocks;  // 1..100
};

enum class DtuState : std::uint8_t { kIdle, kOk, kNotMapped, kFailing };

// Not thread-safe: one DtuClient per polling thread.
class DtuClient {
 public:
  DtuClient(std::string dtu_name, std::unique_ptr<RegisterReader> reader, DtuClientOptions options,
            std::shared_ptr<PollClock> clock = system_poll_clock());

  // One full read. Throws NotMappedError, ConnectionError (also while backing off,
  // without touching the line), TimeoutError, FrameError, ModbusException, DataError.
  DtuReading poll();

  [[nodiscard]] DtuState state() const { return state_; }
  [[nodiscard]] const DtuClientStats& stats() const { return stats_; }
  // When the next poll may touch the line again, if backing off.
  [[nodiscard]] std::optional<PollClock::SteadyTime> backoff_until() const {
    return backoff_until_;
  }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  RegisterPayload request(std::uint16_t address, std::uint16_t count);
  void note_failure();

  std::string name_;
  std::unique_ptr<RegisterReader> reader_;
  DtuClientOptions options_;
  std::shared_ptr<PollClock> clock_;
  DtuState state_ = DtuState::kIdle;
  DtuClientStats stats_;
  std::optional<std::string> dtu_serial_;  // cached while the connection lasts
  std::optional<PollClock::SteadyTime> last_answer_;
  std::optional<PollClock::SteadyTime> backoff_until_;
  std::chrono::milliseconds next_backoff_{0};
};

}  // namespace smiles::protocol
