// What the bridge knows right now, kept in memory for the API: the latest reading
// of every DTU and inverter, per-DTU health, and every port's served energy
// (core/energy.h: totals never go down, "today" from the lifetime counter, restarting
// at the production-day boundary). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "smiles/core/energy.h"
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
};

struct InverterView {
  std::string dtu_name;
  Timestamp first_seen{};
  Timestamp last_seen{};
  Timestamp timestamp{};  // of the latest reading
  // The latest reading; in views from inverters()/inverter(), each port's
  // today/total_production are the served values.
  InverterReading latest;
  // Per port of `latest`: its energy values are held over (the latest reading was not
  // taken: an upload or night block, a glitch).
  std::vector<bool> energy_held;
};

using storage::ServedState;

struct ProductionSummary {
  double power_w = 0;
  std::uint64_t today_wh = 0;
  std::uint64_t total_wh = 0;
  int inverters_producing = 0;
  std::optional<Timestamp> updated_at;
  int ports_held = 0;  // ports whose energy is held over
};

class LiveState {
 public:
  // The production day of a moment ("YYYY-MM-DD", core/energy.h's rule). Injected so
  // the time-zone rules live at the edge.
  using DayFunction = std::function<std::string(Timestamp)>;
  explicit LiveState(DayFunction production_day);

  void register_dtu(const std::string& name, const std::string& address);
  void record_success(const DtuReading& reading);
  // A failed poll. With `same_cause` (a poll skipped while backing off) the last
  // error and its time stay those of the failure that caused it.
  void record_failure(const std::string& dtu, const std::string& message, Timestamp when,
                      std::string_view status = "error", bool same_cause = false);
  // Starting values after a restart (the state file, the database): per port and per
  // inverter the newer of what is known and `state` wins.
  void seed(const ServedState& state);
  // Everything seed() takes, for the state file.
  [[nodiscard]] ServedState snapshot() const;

  [[nodiscard]] std::vector<DtuHealth> health() const;
  // Latest values with served energy; `now` decides "today". An inverter appears once
  // the energy of one of its ports is known (ports never counted serve 0).
  [[nodiscard]] std::vector<InverterView> inverters(Timestamp now) const;
  [[nodiscard]] std::optional<InverterView> inverter(const std::string& serial,
                                                     Timestamp now) const;
  // Served energy of every port with a known value; empty until the first good
  // reading (or a seed).
  [[nodiscard]] std::vector<ProductionEntry> production(Timestamp now) const;
  [[nodiscard]] ProductionSummary summary(Timestamp now) const;
  // The production day `now` belongs to.
  [[nodiscard]] std::string production_day(Timestamp now) const { return production_day_(now); }
  // Whether any port's energy is known (else the energy endpoints answer 503).
  [[nodiscard]] bool energy_known() const;
  // Newest successful poll of any DTU.
  [[nodiscard]] std::optional<Timestamp> last_success() const;
  // Changes whenever the latest values change (for caching their JSON).
  [[nodiscard]] std::uint64_t version() const;

 private:
  // `v` with its served energy; nullopt while none of its ports' energy is known.
  std::optional<InverterView> served(const InverterView& v, const std::string& today) const;

  DayFunction production_day_;
  mutable std::mutex mutex_;
  std::uint64_t version_ = 0;
  std::map<std::string, DtuHealth> health_;
  std::map<std::string, InverterView> inverters_;
  std::map<std::pair<std::string, int>, PortEnergy> energy_;
};

}  // namespace smiles::api
