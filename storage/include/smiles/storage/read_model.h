// Read side for the API: what is stored, newest first. Header-only interface, so the
// api layer depends on it without seeing libpqxx; PgReadModel implements it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smiles/core/energy.h"
#include "smiles/core/reading.h"

namespace smiles::storage {

inline constexpr int kMaxHistoryLimit = 10000;

struct HistoryQuery {
  int limit = 100;                 // 1..kMaxHistoryLimit
  std::optional<Timestamp> since;  // inclusive
  std::optional<Timestamp> until;  // inclusive
};

struct InverterSample {
  Timestamp timestamp;
  InverterReading values;  // without ports
};

struct PortSample {
  Timestamp timestamp;
  PortReading values;
};

struct StoredInverter {
  std::string dtu_name;
  Timestamp first_seen;
  Timestamp last_seen;
  std::optional<InverterSample> latest;  // with the latest port values in values.ports
};

// What the bridge serves, kept across restarts (the state file in DATA_DIR and the
// production cache): every port's energy state and every inverter's latest reading.
struct ServedState {
  std::vector<PortEnergyRecord> ports;
  std::vector<StoredInverter> inverters;
};

struct StorageStats {
  std::map<std::string, std::int64_t> table_rows;
  bool rows_estimated = false;  // big tables are counted from planner statistics
  std::int64_t total_records = 0;
  std::int64_t database_size_bytes = 0;
  std::optional<Timestamp> oldest_reading;
  std::optional<Timestamp> newest_reading;
};

// Energy per period from the energy history (migration 4), by the served-energy rules.
enum class EnergyPeriod { kDay, kMonth, kYear };

struct EnergyQuery {
  EnergyPeriod period = EnergyPeriod::kDay;
  std::string from;                   // YYYY-MM-DD; the period it falls in is the first
  std::string to;                     // YYYY-MM-DD; the period it falls in is the last
  std::optional<std::string> serial;  // one inverter; all when empty
};

// One period: its first day and the energy booked to its production days (0 when none).
struct EnergyBar {
  std::string period_start;  // YYYY-MM-DD
  std::int64_t wh = 0;
};

struct PowerQuery {
  std::string date;        // YYYY-MM-DD: from local midnight (TIMEZONE) to the next
  int step_seconds = 300;  // a multiple of 300
  std::optional<std::string> serial;
};

struct PowerPoint {
  Timestamp at;  // start of the step
  double watts = 0;
};

// Per inverter, the mean power of its good readings in each step that has any.
struct PowerSeries {
  std::string serial_number;
  std::vector<PowerPoint> points;
};

struct PowerCurve {
  Timestamp from{};  // local midnight of the date, in UTC
  Timestamp to{};    // the next local midnight
  std::vector<PowerSeries> inverters;
};

// The API's view of storage. Implementations throw DatabaseUnavailable when the
// database is away (the API answers 503) and ConfigError for a bad query.
class ReadModel {
 public:
  virtual ~ReadModel() = default;
  virtual std::vector<StoredInverter> inverters(const std::optional<std::string>& serial) = 0;
  virtual std::vector<InverterSample> inverter_history(const std::string& serial,
                                                       const HistoryQuery& query) = 0;
  virtual std::vector<PortSample> port_history(const std::string& serial, int port,
                                               const HistoryQuery& query) = 0;
  // The energy state of every port, as the writer keeps it in production_cache.
  virtual std::vector<PortEnergyRecord> energy_states() = 0;
  virtual StorageStats stats() = 0;
  virtual std::vector<EnergyBar> energy(const EnergyQuery& query) = 0;
  virtual PowerCurve power(const PowerQuery& query) = 0;
};

}  // namespace smiles::storage
