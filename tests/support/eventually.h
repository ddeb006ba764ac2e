// Test support: waiting (polling) for a condition, instead of sleeping a guessed time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace smiles::test {

// Whether `pred` holds within `timeout` (asked every `step`, and once more at the end).
inline bool eventually_true(const std::function<bool()>& pred,
                            std::chrono::milliseconds timeout = std::chrono::seconds{20},
                            std::chrono::milliseconds step = std::chrono::milliseconds{20}) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

}  // namespace smiles::test
