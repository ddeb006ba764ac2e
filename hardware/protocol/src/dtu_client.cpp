#include "smiles/protocol/dtu_client.h"

#include <cstdio>
#include <thread>

#include "smiles/protocol/errors.h"
#include "smiles/protocol/port_block.h"

namespace smiles::protocol {

namespace {

class SystemPollClock final : public PollClock {
 public:
  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }
  Timestamp wall_now() override { return WallClock::now(); }
  void sleep_until(SteadyTime t) override { std::this_thread::sleep_until(t); }
};

}  // namespace

std::shared_ptr<PollClock> system_poll_clock() {
  static const auto clock = std::make_shared<SystemPollClock>();
  return clock;
}

DtuClient::DtuClient(std::string dtu_name, std::unique_ptr<RegisterReader> reader,
                     DtuClientOptions options, std::shared_ptr<PollClock> clock)
    : name_(std::move(dtu_name)),
      reader_(std::move(reader)),
      options_(options),
      clock_(std::move(clock)) {
  if (options_.retries < 0) throw ConfigError("retries must be >= 0");
  if (options_.max_blocks < 1 || options_.max_blocks > kMaxPortBlocks) {
    throw ConfigError("max_blocks must be 1.." + std::to_string(kMaxPortBlocks));
  }
  if (options_.reconnect_delay_max < options_.reconnect_delay) {
    throw ConfigError("reconnect_delay_max must be >= reconnect_delay");
  }
}

RegisterPayload DtuClient::request(std::uint16_t address, std::uint16_t count) {
  const std::size_t expected_bytes = std::size_t{count} * 2;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) ++stats_.retries;
    if (last_answer_ && options_.min_request_gap.count() > 0) {
      clock_->sleep_until(*last_answer_ + options_.min_request_gap);
    }
    ++stats_.requests;
    try {
      RegisterPayload payload = reader_->read_holding_registers(address, count);
      last_answer_ = clock_->steady_now();
      // An empty answer is meaningful (not mapped yet); any other wrong size is garbage.
      if (!payload.bytes.empty() && payload.bytes.size() != expected_bytes) {
        throw FrameError("DTU '" + name_ + "' sent " + std::to_string(payload.bytes.size()) +
                         " bytes for " + std::to_string(count) + " registers, expected " +
                         std::to_string(expected_bytes));
      }
      if (payload.declared_byte_count != payload.bytes.size()) {
        ++stats_.wrong_byte_count_accepted;
      }
      return payload;
    } catch (const Error& e) {
      last_answer_ = clock_->steady_now();
      const auto kind = e.kind();
      if (kind == "timeout") {
        ++stats_.timeouts;
      } else if (kind == "frame") {
        ++stats_.frame_errors;
      } else if (kind == "exception") {
        ++stats_.exceptions;
      } else if (kind == "connection") {
        ++stats_.connection_errors;
      }
      if (!e.retryable() || attempt >= options_.retries) throw;
    }
  }
}

void DtuClient::note_failure() {
  ++stats_.polls_failed;
  state_ = DtuState::kFailing;
  reader_->reset();
  dtu_serial_.reset();
  next_backoff_ = next_backoff_.count() == 0
                      ? options_.reconnect_delay
                      : std::min(next_backoff_ * 2, options_.reconnect_delay_max);
  backoff_until_ = clock_->steady_now() + next_backoff_;
}

DtuReading DtuClient::poll() {
  ++stats_.polls;
  const auto now = clock_->steady_now();
  if (backoff_until_ && now < *backoff_until_) {
    ++stats_.backoff_skips;
    ++stats_.polls_failed;
    const double wait_s = std::chrono::duration<double>(*backoff_until_ - now).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", wait_s);
    throw BackingOff("DTU '" + name_ + "' is backing off after failures; next attempt in " + buf +
                     " s");
  }
  const auto requests_before = stats_.requests;
  DtuReading reading;
  reading.dtu_name = name_;
  reading.timestamp = clock_->wall_now();
  try {
    if (!dtu_serial_) {
      auto payload = request(kDtuSerialAddress, kDtuSerialRegisters);
      dtu_serial_ = decode_dtu_serial(payload.bytes);
    }
    reading.dtu_serial = *dtu_serial_;
    std::vector<PortBlock> blocks;
    for (int i = 0; i < options_.max_blocks; ++i) {
      auto payload = request(port_block_address(i), kPortBlockRegisters);
      if (payload.bytes.empty()) {
        if (i == 0) {
          throw NotMappedError("DTU '" + name_ +
                               "' has not mapped its inverters yet (empty first port block); "
                               "this is normal for a few minutes after a DTU restart");
        }
        throw FrameError("DTU '" + name_ + "' sent an empty answer for port block " +
                         std::to_string(i));
      }
      auto block = decode_port_block(payload.bytes);
      if (block.is_end_of_list()) break;
      blocks.push_back(std::move(block));
    }
    reading.inverters = group_port_blocks(blocks);
  } catch (const NotMappedError&) {
    // Reachable but not ready: no backoff, the connection stays.
    ++stats_.not_mapped;
    ++stats_.polls_failed;
    state_ = DtuState::kNotMapped;
    stats_.last_poll_requests = stats_.requests - requests_before;
    throw;
  } catch (const Error&) {
    note_failure();
    stats_.last_poll_requests = stats_.requests - requests_before;
    throw;
  }
  stats_.last_poll_requests = stats_.requests - requests_before;
  state_ = DtuState::kOk;
  next_backoff_ = std::chrono::milliseconds{0};
  backoff_until_.reset();
  return reading;
}

}  // namespace smiles::protocol
