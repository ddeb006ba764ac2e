// `hoymiles-smiles serve`: poll the DTUs, store every reading (or spool it), serve
// the HTTP API and metrics.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stop_token>
#include <thread>

#include "commands.h"
#include "env_config.h"
#include "serve_config.h"
#include "smiles/api/http_server.h"
#include "smiles/api/live_state.h"
#include "smiles/api/metrics.h"
#include "smiles/api/push_hub.h"
#include "smiles/api/router.h"
#include "smiles/core/time.h"
#include "smiles/protocol/errors.h"
#include "smiles/storage/config_store.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/served_state_file.h"
#include "smiles/storage/spooling_writer.h"
#include "time_zone.h"
#include "version.h"

namespace smiles::bridge {

namespace {

// The bridge's wall clock: the system's, or for tests and demos the simulator's
// (SIMULATED_CLOCK), so that readings carry the simulated time.
class ServeClock final : public protocol::PollClock {
 public:
  explicit ServeClock(std::optional<SimulatedClock> simulated) : simulated_(simulated) {}
  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }
  Timestamp wall_now() override {
    const auto now = WallClock::now();
    if (!simulated_) return now;
    return simulated_->start +
           std::chrono::duration_cast<Timestamp::duration>(
               std::chrono::duration<double>(now - simulated_->anchor) * simulated_->speed);
  }
  void sleep_until(SteadyTime t) override { std::this_thread::sleep_until(t); }

 private:
  std::optional<SimulatedClock> simulated_;
};

// Shared state of the running bridge.
struct Bridge {
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
  api::PushHub* push = nullptr;  // set while serving
  std::mutex push_mutex;
  bool push_loaded = false;                  // the stored registrations are in the hub
  bool push_dirty = false;                   // the hub has registrations the database lacks
  std::atomic<std::uint64_t> good_polls{0};  // readings accepted from the DTUs
  std::mutex report_mutex;
  std::string reported_state;  // last database state logged
  std::uint64_t dropped_unreported = 0;
  std::optional<std::chrono::steady_clock::time_point> last_drop_log;

  explicit Bridge(ServeConfig c)
      : config(std::move(c)),
        pool(config.database),
        spool({config.data_dir / "spool.bin", config.spool_max_bytes}),
        writer(pool, config.production),
        durable(writer, spool),
        read_model(pool, config.production),
        live(production_day_function(config.production.reset_hour)) {}

  api::BackendStatus backend() const {
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

  // One log line per change of the database's state (reachable, writes failing,
  // unreachable), from whichever thread notices it first.
  void report_database_state() {
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

  // Schema state, auto-migrating when allowed. Throws SchemaError when the operator
  // must act.
  void check_schema(api::BackendStatus& s) {
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

  // Connectivity and schema (auto-migrating when allowed); with `replay`, the spool
  // is replayed (in batches: polling and HTTP go on meanwhile).
  void check_database(bool replay) {
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
        spdlog::log(
            left == 0 ? spdlog::level::info : spdlog::level::warn,
            "replayed {} spooled readings in {:.1f} s{}", n,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            left == 0 ? "" : fmt::format(", {} wait: {}", left, durable.stats().last_error));
        report_database_state();
      }
      sync_push_receivers();
    }
    metrics.backend(backend());
  }

  // Readings the spool could not take: one log line a minute at most, with the count.
  void note_dropped(std::size_t n) {
    std::lock_guard lock(report_mutex);
    dropped_unreported += n;
    const auto now = std::chrono::steady_clock::now();
    if (last_drop_log && now - *last_drop_log < std::chrono::minutes{1}) return;
    spdlog::error(
        "{} reading(s) lost{}: the database did not take them and the spool could not: {}",
        dropped_unreported, last_drop_log ? " in the last minute" : "",
        durable.stats().spool_error);
    dropped_unreported = 0;
    last_drop_log = now;
  }

  // WebSocket receivers are kept in config_cache: loaded once the database is there,
  // saved after each change (by the watcher when the database was away).
  void sync_push_receivers() {
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

  api::Response register_push(const std::string& body) {
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

  // What was served before a restart: from the state file and from the database,
  // the newer of the two per port and per inverter.
  void seed_served_state() {
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

  // After every poll: the served state survives a restart without the database.
  void save_served_state() {
    try {
      state_file.save(live.snapshot());
      state_file_failing = false;
    } catch (const Error& e) {
      if (!state_file_failing) spdlog::warn("cannot keep the served state: {}", e.what());
      state_file_failing = true;
    }
  }
};

// The push message: the same JSON as GET /health, /stats and /api/inverters, as the
// Home Assistant component reads them ({"type":"update","data":{...}}). /stats needs
// the database; while it is away its last answer stands in. Called by the push hub's
// thread only.
class PushUpdate {
 public:
  PushUpdate(const api::Router& router, const std::string& token)
      : router_(router), auth_(token.empty() ? "" : "Bearer " + token) {}

  std::string operator()() {
    auto get = [&](const char* target) { return router_.handle({"GET", target, auth_, ""}); };
    nlohmann::json data;
    data["health"] = nlohmann::json::parse(get("/health").body);
    if (const auto stats = get("/stats"); stats.status == 200) {
      last_stats_ = nlohmann::json::parse(stats.body);
    }
    data["stats"] = last_stats_;
    data["inverters"] = nlohmann::json::parse(get("/api/inverters").body);
    return nlohmann::json{{"type", "update"}, {"data", std::move(data)}}.dump();
  }

 private:
  const api::Router& router_;
  std::string auth_;
  nlohmann::json last_stats_ = nlohmann::json::object();
};

void poll_loop(Bridge& b, const DtuConfig& dtu, std::stop_token stop) {
  const std::string address = protocol::format_dtu_address(dtu.address);
  protocol::DtuClient client(
      dtu.name, std::make_unique<hardware::ModbusRegisterReader>(dtu.address, b.config.transport),
      b.config.client, b.clock);
  std::mutex m;
  std::condition_variable_any wake;
  const auto period = b.config.query_period;
  auto next = std::chrono::steady_clock::now();
  std::string last_state;
  while (!stop.stop_requested()) {
    const auto started = std::chrono::steady_clock::now();
    std::string state = "ok";
    try {
      DtuReading reading = client.poll();
      reading.dtu_address = address;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      ++b.good_polls;
      b.live.record_success(reading);
      b.save_served_state();
      b.metrics.poll(dtu.name, "ok", seconds);
      b.metrics.reading(reading, b.live.production(reading.timestamp));
      const auto outcome = b.durable.store({&reading, 1});
      const char* where = outcome == storage::StoreOutcome::kStored    ? "stored"
                          : outcome == storage::StoreOutcome::kSpooled ? "spooled"
                                                                       : "dropped";
      b.metrics.stored(where, 1);
      b.report_database_state();
      if (outcome == storage::StoreOutcome::kDropped) b.note_dropped(1);
      spdlog::debug("DTU '{}': {} inverters in {:.0f} ms, {}", dtu.name, reading.inverters.size(),
                    seconds * 1000, where);
      if (b.push != nullptr) b.push->notify();
    } catch (const Error& e) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const std::string kind(e.kind());
      state = kind == "not_mapped" ? "not_mapped" : client.backoff_until() ? "backoff" : "error";
      b.live.record_failure(dtu.name, kind, e.what(), b.clock->wall_now(), state,
                            dynamic_cast<const protocol::BackingOff*>(&e) != nullptr);
      b.metrics.poll(dtu.name, kind, seconds);
      if (state != last_state) spdlog::warn("DTU '{}' ({}): {}", dtu.name, address, e.what());
    }
    {
      const auto& c = client.stats();
      b.metrics.modbus(dtu.name, {c.requests, c.retries, c.timeouts, c.frame_errors, c.exceptions,
                                  c.connection_errors, c.wrong_byte_count_accepted});
    }
    if (state == "ok" && !last_state.empty() && last_state != "ok") {
      spdlog::info("DTU '{}' answers again", dtu.name);
    }
    last_state = state;
    // Fixed slots: no drift, no overlap; a poll longer than a period skips slots.
    const auto now = std::chrono::steady_clock::now();
    while (next <= now) next += period;
    std::unique_lock lock(m);
    wake.wait_until(lock, stop, next, [] { return false; });
  }
}

int run_serve(const SettingLookup& lookup) {
  std::unique_ptr<Bridge> bridge;
  try {
    ServeConfig config = serve_config_from(lookup);
    config.http_host = resolve_bind_host(config.http_host);
    if (const auto note = fit_open_files(config)) spdlog::warn("{}", *note);
    use_time_zone(config.production.timezone);
    bridge = std::make_unique<Bridge>(std::move(config));
  } catch (const ConfigError& e) {
    std::cerr << "hoymiles-smiles serve: " << e.what() << "\n";
    return kExitUsage;
  } catch (const Error& e) {
    std::cerr << "hoymiles-smiles serve: " << e.what() << "\n";
    return kExitFailure;
  }
  Bridge& b = *bridge;
  const auto start_time = b.clock->wall_now();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    b.check_database(false);  // the spool is replayed by the watcher, in the background
  } catch (const storage::SchemaError& e) {
    spdlog::error("refusing to start: {}", e.what());
    return kExitFailure;
  }
  b.seed_served_state();
  for (const auto& d : b.config.dtus)
    b.live.register_dtu(d.name, protocol::format_dtu_address(d.address));

  std::unique_ptr<api::PushHub> push;  // built after the router it reads
  api::RouterOptions router_options;
  router_options.version = kVersion;
  router_options.start_time = start_time;
  router_options.health_stale = b.config.health_stale;
  router_options.api_token = b.config.api_token;
  router_options.protect_all = b.config.protect_all;
  router_options.cors_origin = b.config.cors_origin;
  router_options.register_push = [&b](const std::string& body) { return b.register_push(body); };
  router_options.health_extra = [&push](nlohmann::json& health) {
    if (!push) return;
    nlohmann::json receivers = nlohmann::json::array();
    for (const auto& r : push->status()) {
      receivers.push_back(
          {{"name", r.name},
           {"url", r.url},
           {"connected", r.connected},
           {"connects", r.connects},
           {"sent", r.sent},
           {"dropped", r.dropped},
           {"last_sent", r.last_sent ? nlohmann::json(format_iso8601_utc(*r.last_sent))
                                     : nlohmann::json(nullptr)},
           {"last_error",
            r.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.last_error)}});
    }
    health["push"] = {{"receivers", receivers}};
  };
  api::Router router(
      b.live, b.read_model, [&b] { return b.backend(); },
      [&b, &push] {
        b.metrics.backend(b.backend());
        if (push) {
          const auto status = push->status();
          const auto totals = push->totals();
          const auto connected = static_cast<std::size_t>(std::count_if(
              status.begin(), status.end(), [](const auto& r) { return r.connected; }));
          b.metrics.push(connected, status.size(), totals.sent, totals.dropped);
        }
        return b.metrics.text();
      },
      router_options, [&b] { return b.clock->wall_now(); });
  api::PushOptions push_options;
  push_options.user_agent = std::string("hoymiles-smiles/") + kVersion;
  push = std::make_unique<api::PushHub>(push_options, PushUpdate(router, b.config.api_token));
  b.push = push.get();
  b.sync_push_receivers();
  api::HttpServerOptions http_options;
  http_options.host = b.config.http_host;
  http_options.port = b.config.http_port;
  http_options.read_timeout = b.config.http_read_timeout;
  http_options.max_connections = b.config.http_max_connections;
  http_options.max_connections_per_client =
      std::min(b.config.http_max_connections_per_client, b.config.http_max_connections);
  http_options.hard_max_connections =
      b.config.http_max_connections + b.config.http_reserve_connections;
  http_options.threads = b.config.http_threads;
  api::HttpServer server(
      http_options, [&router](const api::Request& r) { return router.handle(r); },
      [&b](const api::Request&, const api::Response& res, double seconds) {
        b.metrics.http_request(std::string(res.route), res.status, seconds);
      },
      [](const std::string& error, std::uint64_t failures) {
        if (!error.empty()) {
          spdlog::error("cannot accept HTTP connections: {}; pausing new connections", error);
        } else {
          spdlog::info("accepting HTTP connections again after {} failed attempt(s)", failures);
        }
      });
  try {
    server.start();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("hoymiles-smiles {} serving http://{}:{} ; polling {} DTU(s) every {} s; spool {}",
               kVersion, b.config.http_host, server.port(), b.config.dtus.size(),
               std::chrono::duration<double>(b.config.query_period).count(),
               b.spool.path().string());
  std::cout << "listening on http://" << b.config.http_host << ":" << server.port() << std::endl;

  std::vector<std::jthread> pollers;
  for (const auto& d : b.config.dtus) {
    spdlog::info("DTU '{}' at {}", d.name, protocol::format_dtu_address(d.address));
    pollers.emplace_back([&b, &d](std::stop_token stop) { poll_loop(b, d, stop); });
  }
  // Checks the database every 5 s and replays the spool, starting at once.
  std::jthread watcher([&b](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      try {
        b.check_database(true);
      } catch (const storage::SchemaError& e) {
        spdlog::error("schema problem: {}", e.what());
      }
      std::unique_lock lock(m);
      wake.wait_for(lock, stop, std::chrono::seconds{5}, [] { return false; });
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, stopping: finishing in-flight polls",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  for (auto& p : pollers) p.request_stop();
  watcher.request_stop();
  pollers.clear();  // joins: an in-flight poll finishes and its reading is stored or spooled
  watcher = {};
  server.stop();  // no more registrations
  b.push = nullptr;
  push->stop();
  const auto s = b.durable.stats();
  spdlog::info(
      "stopped after {} good polls: {} readings stored, {} spooled, {} replayed, {} dropped",
      b.good_polls.load(), s.stored, s.spooled, s.replayed, s.dropped);
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, CommandRun& run) {
  auto* cmd = app.add_subcommand(
      "serve", "Poll the DTUs, store every reading in PostgreSQL, serve the REST API and metrics");
  auto flags = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& s : kSettings) {
    std::string help = std::string(s.help) + " [env: " + std::string(s.env) + "]";
    if (!s.default_text.empty()) help += " (default " + std::string(s.default_text) + ")";
    cmd->add_option_function<std::string>(
        std::string(s.flag),
        [flags, flag = std::string(s.flag)](const std::string& v) { (*flags)[flag] = v; }, help);
  }
  cmd->footer(
      "Every option may be given as its environment variable; a flag overrides the variable. "
      "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot start (database schema problem, port in "
      "use, data directory), 2 bad configuration.");
  cmd->callback([&run, flags] {
    run = [flags] { return run_serve(settings_lookup(*flags, process_environment())); };
  });
}

}  // namespace smiles::bridge
