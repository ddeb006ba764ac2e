#include "poller.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "smiles/core/error.h"
#include "smiles/protocol/errors.h"

namespace smiles::bridge {

namespace {

std::string_view episode(std::string_view state) {
  return state == "backoff" ? std::string_view("error") : state;
}

}  // namespace

Poller::Poller(protocol::DtuClient client, std::string address,
               std::shared_ptr<protocol::PollClock> clock, std::chrono::milliseconds period,
               PollSink& sink)
    : client_(std::move(client)),
      address_(std::move(address)),
      clock_(std::move(clock)),
      period_(period),
      sink_(sink) {
  if (period_.count() <= 0) throw ConfigError("the query period must be positive");
}

Poller::SteadyTime Poller::poll_once() {
  const auto started = clock_->steady_now();
  if (!next_) next_ = started;
  const auto elapsed = [&] {
    return std::chrono::duration<double>(clock_->steady_now() - started).count();
  };
  std::string state = "ok";
  try {
    DtuReading reading = client_.poll();
    reading.dtu_address = address_;
    // The client's counters go out before the outcome, so the two agree wherever
    // the outcome is seen (/health, then /metrics).
    sink_.on_client_stats(client_.name(), client_.stats());
    sink_.on_reading(reading, elapsed());
  } catch (const Error& e) {
    const double seconds = elapsed();
    PollFailure failure{std::string(e.kind()), e.what(), "error"};
    if (failure.kind == "not_mapped") {
      failure.state = "not_mapped";
    } else if (dynamic_cast<const protocol::BackingOff*>(&e) != nullptr) {
      failure.state = "backoff";
    }
    state = failure.state;
    sink_.on_client_stats(client_.name(), client_.stats());
    sink_.on_failure(client_.name(), failure, seconds);
    // One warning per episode: failing polls and skipped ones alternate while backing off.
    if (episode(state) != episode(state_)) {
      spdlog::warn("DTU '{}' ({}): {}", client_.name(), address_, e.what());
    }
  }
  if (state == "ok" && !state_.empty() && state_ != "ok") {
    spdlog::info("DTU '{}' answers again", client_.name());
  }
  state_ = state;
  const auto now = clock_->steady_now();
  while (*next_ <= now) *next_ += period_;
  return *next_;
}

void Poller::run(const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    const auto due = poll_once();
    std::unique_lock lock(m);
    wake.wait_until(lock, stop, due, [] { return false; });
  }
}

}  // namespace smiles::bridge
