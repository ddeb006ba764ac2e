// Home Assistant's long-term statistics of a `total_increasing` sensor, written from
// its recorder (home-assistant/core, homeassistant/components/sensor/recorder.py:
// reset_detected() and the "sum" part of compile_statistics()):
// - the first state is the zero point;
// - a new cycle ("meter reset") is detected when a state is below 0.9 x the previous
//   one: the old cycle's growth is added to the sum and the new state counts from 0,
//   so all of it is added again;
// - a smaller decrease is only warned about ("not strictly increasing"): the sum
//   follows the state down and back up;
// - negative states are skipped.
// Unavailable states (a 503) are not observed. dips() counts the small decreases, so
// a test can hold served totals to the stricter rule "never down at all".
#pragma once

#include <optional>

namespace smiles::test {

class TotalIncreasing {
 public:
  void observe(double value) {
    if (value < 0) return;
    if (!start_) {
      start_ = last_ = value;
      return;
    }
    if (value < 0.9 * *last_) {
      sum_ += *last_ - *start_;
      start_ = 0;
      ++resets_;
    } else if (value < *last_) {
      ++dips_;
    }
    last_ = value;
  }
  // The recorded sum: closed cycles plus the growth of the current one.
  [[nodiscard]] double sum() const { return start_ ? sum_ + *last_ - *start_ : 0; }
  [[nodiscard]] int resets() const { return resets_; }
  [[nodiscard]] int dips() const { return dips_; }
  [[nodiscard]] std::optional<double> last() const { return last_; }

 private:
  std::optional<double> start_;  // the current cycle's starting point
  std::optional<double> last_;
  double sum_ = 0;
  int resets_ = 0;
  int dips_ = 0;
};

}  // namespace smiles::test
