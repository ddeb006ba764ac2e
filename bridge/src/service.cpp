#include "service.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "time_zone.h"

namespace smiles::bridge {

Timestamp ServeClock::wall_now() {
  const auto now = WallClock::now();
  if (!simulated_) return now;
  return simulated_->start +
         std::chrono::duration_cast<Timestamp::duration>(
             std::chrono::duration<double>(now - simulated_->anchor) * simulated_->speed);
}

void ServeClock::sleep_until(SteadyTime t) { std::this_thread::sleep_until(t); }

Service::Service(ServeConfig c)
    : config(std::move(c)),
      pool(config.database),
      spool({config.data_dir / "spool.bin", config.spool_max_bytes}),
      writer(pool, config.production),
      durable(writer, spool),
      read_model(pool, config.production),
      live(production_day_function(config.production.reset_hour)) {}

api::BackendStatus Service::backend() const {
  api::BackendStatus s;
  {
    std::lock_guard lock(status_mutex);
    s = status;
  }
  const auto w = durable.stats();
  s.database_writes_failing = w.writes_failing;
  if (w.writes_failing && w.unreachable) {  // fresher news than the watcher's last probe
    s.database_connected = false;
    s.database_error = w.last_error;
  } else if (s.database_connected && w.writes_failing) {
    s.database_error = "reachable, writes failing: " + w.last_error;
  }
  const auto p = pool.stats();
  s.pool_idle = p.idle;
  s.pool_in_use = p.in_use;
  const auto sp = spool.stats();
  s.spool_bytes = sp.bytes;
  s.spool_readings = sp.readings;
  s.spool_dropped = w.dropped;
  s.spool_error = w.spool_error;
  return s;
}

void Service::report_database_state() {
  const auto s = backend();
  const std::string state = !s.database_connected       ? "unreachable"
                            : s.database_writes_failing ? "writes_failing"
                            : !s.schema_current         ? "schema"
                                                        : "ok";
  {
    std::lock_guard lock(report_mutex);
    if (state == reported_state) return;
    reported_state = state;
  }
  if (state == "ok") {
    spdlog::info("database {} reachable, writes succeed", storage::describe(config.database));
  } else if (state == "schema") {
    spdlog::warn("database {} reachable; schema not current, readings are spooled",
                 storage::describe(config.database));
  } else if (state == "writes_failing") {
    spdlog::warn("database {}, readings go to the spool",
                 s.database_error.empty() ? "writes failing" : s.database_error);
  } else {
    spdlog::warn("database unreachable, readings go to the spool: {}", s.database_error);
  }
}

void Service::check_schema(api::BackendStatus& s) {
  storage::Migrator migrator(pool, storage::MigratorOptions{"", config.production});
  auto schema = migrator.status(false);
  if (!schema.up_to_date() && config.auto_migrate && schema.problems.empty()) {
    spdlog::info("DB_AUTO_MIGRATE: upgrading the schema\n{}", storage::format_status(schema));
    migrator.upgrade();
    schema = migrator.status(false);
  }
  s.schema_current = schema.up_to_date();
  if (!s.schema_current) {
    s.database_error = schema.problems.empty()
                           ? "schema not current: run 'hoymiles-smiles db upgrade' or set "
                             "DB_AUTO_MIGRATE=true"
                           : schema.problems.front();
    if (!schema.problems.empty()) throw storage::SchemaError(schema.problems.front());
  }
}

void Service::check_database(bool replay) {
  api::BackendStatus s;
  try {
    pool.run([](pqxx::connection& c) { pqxx::nontransaction(c).exec("SELECT 1"); });
    s.database_connected = true;
    bool known_current;
    {
      std::lock_guard lock(status_mutex);
      known_current = status.database_connected && status.schema_current;
    }
    // The schema needs a fresh look only until it is current, and after an outage
    // (the database may have been restored from elsewhere meanwhile).
    if (known_current) {
      s.schema_current = true;
    } else {
      check_schema(s);
    }
  } catch (const storage::SchemaError&) {
    throw;  // the operator must act: stop with the message
  } catch (const Error& e) {
    s.database_connected = false;
    s.database_error = e.what();
  }
  {
    std::lock_guard lock(status_mutex);
    status = s;
  }
  report_database_state();
  if (replay && s.database_connected && s.schema_current) {
    if (const auto waiting = spool.stats().readings; waiting > 0) {
      spdlog::info("replaying {} spooled readings into the database", waiting);
      const auto started = std::chrono::steady_clock::now();
      const auto n = durable.flush();
      const auto left = spool.stats().readings;
      spdlog::log(left == 0 ? spdlog::level::info : spdlog::level::warn,
                  "replayed {} spooled readings in {:.1f} s{}", n,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  left == 0 ? "" : fmt::format(", {} wait: {}", left, durable.stats().last_error));
      report_database_state();
    }
    sync_push_receivers();
  }
  metrics.backend(backend());
}

void Service::note_dropped(std::size_t n) {
  std::lock_guard lock(report_mutex);
  dropped_unreported += n;
  const auto now = std::chrono::steady_clock::now();
  if (last_drop_log && now - *last_drop_log < std::chrono::minutes{1}) return;
  spdlog::error("{} reading(s) lost{}: the database did not take them and the spool could not: {}",
                dropped_unreported, last_drop_log ? " in the last minute" : "",
                durable.stats().spool_error);
  dropped_unreported = 0;
  last_drop_log = now;
}

void Service::sync_push_receivers() {
  if (push == nullptr) return;
  std::lock_guard lock(push_mutex);
  try {
    if (!push_loaded) {
      std::size_t resumed = 0;
      if (const auto text = config_store.get(storage::kPushReceiversKey)) {
        const auto list = nlohmann::json::parse(*text, nullptr, false);
        for (const auto& item : list.is_array() ? list : nlohmann::json::array()) {
          const auto parsed = api::parse_push_registration(item.dump());
          const auto* r = std::get_if<api::PushReceiver>(&parsed);
          if (r == nullptr) continue;
          // A registration made since the start is newer than a stored one.
          if (push->add(*r, false) == api::PushAdd::kAdded) ++resumed;
        }
      }
      push_loaded = true;
      if (resumed > 0) spdlog::info("resuming WebSocket push to {} receiver(s)", resumed);
    }
    if (push_dirty) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& r : push->receivers()) {
        list.push_back({{"websocket_url", r.url}, {"name", r.name}});
      }
      config_store.put(storage::kPushReceiversKey, list.dump());
      push_dirty = false;
    }
  } catch (const Error& e) {
    spdlog::debug("WebSocket registrations not synced with the database yet: {}", e.what());
  }
}

api::Response Service::register_push(const std::string& body) {
  const auto parsed = api::parse_push_registration(body);
  if (const auto* error = std::get_if<api::Response>(&parsed)) return *error;
  const auto& receiver = std::get<api::PushReceiver>(parsed);
  const auto added = push->add(receiver);
  const auto where = api::parse_push_url(receiver.url)->without_query;
  if (added == api::PushAdd::kFull) {
    spdlog::warn("refused WebSocket receiver '{}' at {}: {} receivers are registered already",
                 receiver.name, where, push->receivers().size());
    return api::error_response(400, "too_many_registrations",
                               "at most " + std::to_string(push->receivers().size()) +
                                   " WebSocket receivers may be registered");
  }
  if (added != api::PushAdd::kUnchanged) {
    spdlog::info("WebSocket receiver '{}' {}: {}", receiver.name,
                 added == api::PushAdd::kReplaced ? "registered again (new token)" : "registered",
                 where);
    {
      std::lock_guard lock(push_mutex);
      push_dirty = true;
    }
    sync_push_receivers();
  }
  api::Response r;
  r.body = R"({"status":"registered"})";
  return r;
}

void Service::seed_served_state() {
  bool seeded = false;
  try {
    if (const auto state = state_file.load()) {
      live.seed(*state);
      seeded = true;
    }
  } catch (const Error& e) {
    spdlog::warn("ignoring the served-state file: {}", e.what());
  }
  try {
    live.seed({read_model.energy_states(), read_model.inverters(std::nullopt)});
    seeded = true;
  } catch (const Error& e) {
    spdlog::warn("could not load the last stored values from the database: {}", e.what());
  }
  if (!seeded) {
    spdlog::warn(
        "no served values from before: energy endpoints answer 503 until a DTU "
        "sends a good reading");
  }
}

void Service::save_served_state() {
  try {
    state_file.save(live.snapshot());
    state_file_failing = false;
  } catch (const Error& e) {
    if (!state_file_failing) spdlog::warn("cannot keep the served state: {}", e.what());
    state_file_failing = true;
  }
}

void Service::watch_database(const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    try {
      check_database(true);
    } catch (const storage::SchemaError& e) {
      spdlog::error("schema problem: {}", e.what());
    }
    std::unique_lock lock(m);
    wake.wait_for(lock, stop, std::chrono::seconds{5}, [] { return false; });
  }
}

void Service::on_reading(DtuReading& reading, double seconds) {
  ++good_polls;
  // Metrics first: whatever /health shows as online is already counted in /metrics.
  metrics.poll(reading.dtu_name, "ok", seconds);
  live.record_success(reading);
  save_served_state();
  const auto served = live.production(reading.timestamp);
  metrics.reading(reading, served);
  const auto outcome = durable.store({&reading, 1});
  if (influx != nullptr) influx->submit(api::influx_lines(reading, served));
  const char* where = outcome == storage::StoreOutcome::kStored    ? "stored"
                      : outcome == storage::StoreOutcome::kSpooled ? "spooled"
                                                                   : "dropped";
  metrics.stored(where, 1);
  report_database_state();
  if (outcome == storage::StoreOutcome::kDropped) note_dropped(1);
  spdlog::debug("DTU '{}': {} inverters in {:.0f} ms, {}", reading.dtu_name,
                reading.inverters.size(), seconds * 1000, where);
  if (push != nullptr) push->notify();
  if (on_update) on_update();
}

void Service::on_failure(const std::string& dtu, const PollFailure& failure, double seconds) {
  metrics.poll(dtu, failure.kind, seconds);
  live.record_failure(dtu, failure.message, clock->wall_now(), failure.state,
                      failure.state == "backoff");
  if (on_update) on_update();
}

void Service::on_client_stats(const std::string& dtu, const DtuClientStats& stats) {
  metrics.modbus(dtu, stats);
}

}  // namespace smiles::bridge
