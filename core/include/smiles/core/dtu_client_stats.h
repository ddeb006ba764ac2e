// A DTU client's counters (protocol::DtuClient keeps them, /metrics exports them):
// in core because the protocol library and the API both use them.
#pragma once

#include <cstdint>

namespace smiles {

// Counters since the client was made; one reader thread, copied out by value.
struct DtuClientStats {
  std::uint64_t polls = 0;
  std::uint64_t polls_failed = 0;
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t frame_errors = 0;
  std::uint64_t exceptions = 0;
  std::uint64_t connection_errors = 0;
  std::uint64_t wrong_byte_count_accepted = 0;
  std::uint64_t not_mapped = 0;
  std::uint64_t backoff_skips = 0;
  std::uint64_t last_poll_requests = 0;
};

}  // namespace smiles
