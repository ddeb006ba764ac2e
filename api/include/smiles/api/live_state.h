// What the bridge knows right now, kept in memory for the API: the latest reading
// of every DTU and inverter, per-DTU health, and served energy values that obey the
// monotonic rules (totals never go down; zero or unlinked readings never replace a
// good value; "today" restarts once per production day). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "smiles/core/production.h"
#include "smiles/core/reading.h"
#include "smiles/storage/read_model.h"

namespace smiles::api {

struct DtuHealth {
  std::string name;
  std::string address;
  std::string status = "starting";  // starting, ok, not_mapped, error, backoff
  std::optional<Timestamp> last_success;
  std::optional<Timestamp> last_error_time;
  std::uint64_t query_count = 0;
  std::uint64_t error_count = 0;
  std::string last_error;
  std::string last_error_kind;
};

struct InverterView {
  std::string dtu_name;
  Timestamp first_seen{};
  Timestamp last_seen{};
  Timestamp timestamp{};  // of the latest reading
  InverterReading latest;
};

using storage::ProductionEntry;  // today_production_wh is 0 once its day has passed

struct ProductionSummary {
  double power_w = 0;
  std::uint64_t today_wh = 0;
  std::uint64_t total_wh = 0;
  int inverters_producing = 0;
  std::optional<Timestamp> updated_at;
};

class LiveState {
 public:
  // Maps a moment to its production day (local date, shifted by the reset hour),
  // e.g. "2026-06-01". Injected so the time-zone rules live at the edge.
  using DayFunction = std::function<std::string(Timestamp)>;
  explicit LiveState(DayFunction production_day);

  void register_dtu(const std::string& name, const std::string& address);
  void record_success(const DtuReading& reading);
  void record_failure(const std::string& dtu, std::string_view kind, const std::string& message,
                      Timestamp when, std::string_view status = "error");
  // Starting values of the served energy counters (e.g. from the database's cache).
  void seed_production(const std::vector<ProductionEntry>& entries);
  // Latest stored values of an inverter, shown until its DTU is polled (after a restart).
  void seed_inverter(const InverterView& view);

  [[nodiscard]] std::vector<DtuHealth> health() const;
  [[nodiscard]] std::vector<InverterView> inverters() const;
  [[nodiscard]] std::optional<InverterView> inverter(const std::string& serial) const;
  [[nodiscard]] std::vector<ProductionEntry> production(Timestamp now) const;
  [[nodiscard]] ProductionSummary summary(Timestamp now) const;
  // Newest successful poll of any DTU.
  [[nodiscard]] std::optional<Timestamp> last_success() const;
  // Changes whenever the latest values change (for caching their JSON).
  [[nodiscard]] std::uint64_t version() const;

 private:
  DayFunction production_day_;
  mutable std::mutex mutex_;
  std::uint64_t version_ = 0;
  std::map<std::string, DtuHealth> health_;
  std::map<std::string, InverterView> inverters_;
  std::map<std::pair<std::string, int>, PortEnergy> energy_;
};

}  // namespace smiles::api
