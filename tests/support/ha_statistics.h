// Home Assistant's long-term statistics of a `total_increasing` sensor, as its
// recorder compiles them (developers.home-assistant.io, "state class
// total_increasing"): the first value is the zero point, every rise adds to the sum,
// and any decrease is the start of a new meter cycle whose value is counted from 0.
// (The recorder tolerates small dips in some versions; this model does not, so it is
// the stricter judge.) Unavailable states are not observed.
#pragma once

#include <optional>

namespace smiles::test {

class TotalIncreasing {
 public:
  void observe(double value) {
    if (last_) {
      if (value >= *last_) {
        sum_ += value - *last_;
      } else {
        sum_ += value;  // a "meter reset": the whole new value counts again
        ++resets_;
      }
    }
    last_ = value;
  }
  [[nodiscard]] double sum() const { return sum_; }
  [[nodiscard]] int resets() const { return resets_; }
  [[nodiscard]] std::optional<double> last() const { return last_; }

 private:
  std::optional<double> last_;
  double sum_ = 0;
  int resets_ = 0;
};

}  // namespace smiles::test
