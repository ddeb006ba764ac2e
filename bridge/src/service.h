// The running bridge (`serve`): the storage stack, the live state, the metrics, the
// push hub and the InfluxDB output, with what happens to each poll's outcome (a
// PollSink) and the database watcher. The CLI file only wires it to the HTTP server
// and the signals.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "poller.h"
#include "serve_config.h"
#include "smiles/api/influx_lines.h"
#include "smiles/api/influx_writer.h"
#include "smiles/api/live_state.h"
#include "smiles/api/metrics.h"
#include "smiles/api/push_hub.h"
#include "smiles/api/router.h"
#include "smiles/storage/config_store.h"
#include "smiles/storage/connection_pool.h"
#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/reading_writer.h"
#include "smiles/storage/served_state_file.h"
#include "smiles/storage/spool.h"
#include "smiles/storage/spooling_writer.h"
#include "version.h"

namespace smiles::bridge {

// The bridge's wall clock: the system's, or for tests and demos the simulator's
// (SIMULATED_CLOCK), so that readings carry the simulated time. Steady time is
// std::chrono::steady_clock's (Poller::run waits on it).
class ServeClock final : public protocol::PollClock {
 public:
  explicit ServeClock(std::optional<SimulatedClock> simulated) : simulated_(simulated) {}
  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }
  Timestamp wall_now() override;
  void sleep_until(SteadyTime t) override;

 private:
  std::optional<SimulatedClock> simulated_;
};

// Shared state of the running bridge. Thread-safe where noted: poller threads, the
// database watcher and the HTTP threads use it at once.
struct Service final : PollSink {
  ServeConfig config;
  storage::ConnectionPool pool;
  storage::Spool spool;
  storage::ReadingWriter writer;
  storage::SpoolingWriter durable;
  storage::PgReadModel read_model;
  api::LiveState live;
  api::BridgeMetrics metrics{kVersion};
  mutable std::mutex status_mutex;
  api::BackendStatus status;  // refreshed by the database watcher
  storage::ConfigStore config_store{pool};
  storage::ServedStateFile state_file{config.data_dir / "served-state"};
  std::atomic<bool> state_file_failing{false};
  std::shared_ptr<ServeClock> clock = std::make_shared<ServeClock>(config.clock);
  api::PushHub* push = nullptr;         // set while serving
  api::InfluxWriter* influx = nullptr;  // set while serving, when INFLUXDB_ENABLED
  std::function<void()> on_update;      // after each stored reading (the live event feed)
  std::mutex push_mutex;
  bool push_loaded = false;                  // the stored registrations are in the hub
  bool push_dirty = false;                   // the hub has registrations the database lacks
  std::atomic<std::uint64_t> good_polls{0};  // readings accepted from the DTUs
  std::mutex report_mutex;
  std::string reported_state;  // last database state logged
  std::uint64_t dropped_unreported = 0;
  std::optional<std::chrono::steady_clock::time_point> last_drop_log;

  explicit Service(ServeConfig c);

  // The database, pool and spool as /health and /metrics show them.
  api::BackendStatus backend() const;
  // One log line per change of the database's state (reachable, writes failing,
  // unreachable), from whichever thread notices it first.
  void report_database_state();
  // Schema state, auto-migrating when allowed. Throws SchemaError when the operator
  // must act.
  void check_schema(api::BackendStatus& s);
  // Connectivity and schema (auto-migrating when allowed); with `replay`, the spool
  // is replayed (in batches: polling and HTTP go on meanwhile).
  void check_database(bool replay);
  // check_database(true) every 5 s until `stop`, starting at once.
  void watch_database(const std::stop_token& stop);
  // Readings the spool could not take: one log line a minute at most, with the count.
  void note_dropped(std::size_t n);
  // WebSocket receivers are kept in config_cache: loaded once the database is there,
  // saved after each change (by the watcher when the database was away).
  void sync_push_receivers();
  api::Response register_push(const std::string& body);
  // What was served before a restart: from the state file and from the database,
  // the newer of the two per port and per inverter.
  void seed_served_state();
  // After every poll: the served state survives a restart without the database.
  void save_served_state();

  // PollSink: a good reading is served, counted and stored (or spooled); a failure
  // is served as the DTU's state.
  void on_reading(DtuReading& reading, double seconds) override;
  void on_failure(const std::string& dtu, const PollFailure& failure, double seconds) override;
  void on_client_stats(const std::string& dtu, const DtuClientStats& stats) override;
};

}  // namespace smiles::bridge
