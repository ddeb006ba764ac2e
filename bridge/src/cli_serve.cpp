// `hoymiles-smiles serve`: poll the DTUs, store every reading (or spool it), serve
// the HTTP API and metrics.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <thread>

#include "commands.h"
#include "env_config.h"
#include "poller.h"
#include "serve_config.h"
#include "service.h"
#include "smiles/api/http_server.h"
#include "smiles/core/time.h"
#include "smiles/hardware/modbus_register_reader.h"
#include "smiles/storage/errors.h"
#include "time_zone.h"
#include "version.h"

namespace smiles::bridge {

namespace {

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

// The dashboard's live event (GET /api/events): the same JSON as GET /health,
// /api/production/summary (null while no energy is known) and /api/inverters.
std::string live_event(const api::Router& router, const std::string& auth) {
  auto get = [&](const char* target) { return router.handle({"GET", target, auth, ""}); };
  const auto summary = get("/api/production/summary");
  return nlohmann::json{{"type", "update"},
                        {"health", nlohmann::json::parse(get("/health").body)},
                        {"summary", summary.status == 200 ? nlohmann::json::parse(summary.body)
                                                          : nlohmann::json(nullptr)},
                        {"inverters", nlohmann::json::parse(get("/api/inverters").body)}}
      .dump();
}

// /health's "influxdb": {"enabled": false}, or the output's state and totals.
nlohmann::json influx_health(const std::optional<api::InfluxOptions>& config,
                             const api::InfluxWriter* writer) {
  if (!config || writer == nullptr) return {{"enabled", false}};
  const auto s = writer->status();
  auto text_or_null = [](const std::string& t) {
    return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(t);
  };
  return {{"enabled", true},
          {"endpoint", api::influx_endpoint(config->url)},
          {"api", api::influx_api_name(config->api)},
          {"database", config->database},
          {"state", s.state},
          {"queued_batches", s.queued_batches},
          {"queued_bytes", s.queued_bytes},
          {"points_written", s.points_written},
          {"batches_written", s.batches_written},
          {"batches_rejected", s.batches_rejected},
          {"batches_dropped", s.batches_dropped},
          {"write_errors", s.write_errors},
          {"last_error", text_or_null(s.last_error)},
          {"last_success", s.last_success ? nlohmann::json(format_iso8601_utc(*s.last_success))
                                          : nlohmann::json(nullptr)}};
}

int run_serve(const SettingLookup& lookup) {
  std::unique_ptr<Service> service;
  try {
    ServeConfig config = serve_config_from(lookup);
    config.http_host = resolve_bind_host(config.http_host);
    if (const auto note = fit_open_files(config)) spdlog::warn("{}", *note);
    use_time_zone(config.production.timezone);
    service = std::make_unique<Service>(std::move(config));
  } catch (const Error& e) {
    std::cerr << "hoymiles-smiles serve: " << e.what() << "\n";
    return exit_code_for(e, CommandFamily::kService);
  }
  Service& b = *service;
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
  std::unique_ptr<api::InfluxWriter> influx;
  if (b.config.influx) {
    auto options = *b.config.influx;
    options.user_agent = std::string("hoymiles-smiles/") + kVersion;
    const auto endpoint = api::influx_endpoint(options.url);
    options.on_state = [endpoint](const std::string& error) {
      if (error.empty()) {
        spdlog::info("InfluxDB {}: writes succeed again", endpoint);
      } else {
        spdlog::warn("InfluxDB {}: {}; retrying (PostgreSQL has every reading)", endpoint, error);
      }
    };
    spdlog::info("InfluxDB output: {} ({} API, database '{}')", endpoint,
                 api::influx_api_name(options.api), options.database);
    influx = std::make_unique<api::InfluxWriter>(std::move(options));
    b.influx = influx.get();
  }
  api::EventFeed events(static_cast<std::size_t>(b.config.http_event_clients));
  api::RouterOptions router_options;
  router_options.version = kVersion;
  router_options.start_time = start_time;
  router_options.health_stale = b.config.health_stale;
  router_options.api_token = b.config.api_token;
  router_options.protect_all = b.config.protect_all;
  router_options.cors_origin = b.config.cors_origin;
  router_options.register_push = [&b](const std::string& body) { return b.register_push(body); };
  router_options.subscribe_events = [&events] { return events.subscribe(); };
  router_options.health_extra = [&push, &influx, &b](nlohmann::json& health) {
    health["influxdb"] = influx_health(b.config.influx, influx.get());
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
      [&b, &push, &influx] {
        b.metrics.backend(b.backend());
        if (push) {
          const auto status = push->status();
          const auto totals = push->totals();
          const auto connected = static_cast<std::size_t>(std::count_if(
              status.begin(), status.end(), [](const auto& r) { return r.connected; }));
          b.metrics.push(connected, status.size(), totals.sent, totals.dropped);
        }
        if (influx) b.metrics.influx(influx->status());
        return b.metrics.text();
      },
      router_options, [&b] { return b.clock->wall_now(); });
  api::PushOptions push_options;
  push_options.user_agent = std::string("hoymiles-smiles/") + kVersion;
  push = std::make_unique<api::PushHub>(push_options, PushUpdate(router, b.config.api_token));
  b.push = push.get();
  b.sync_push_receivers();
  const std::string auth = b.config.api_token.empty() ? "" : "Bearer " + b.config.api_token;
  b.on_update = [&events, &router, &auth] { events.publish(live_event(router, auth)); };
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

  std::vector<std::unique_ptr<Poller>> pollers;
  for (const auto& d : b.config.dtus) {
    const auto address = protocol::format_dtu_address(d.address);
    spdlog::info("DTU '{}' at {}", d.name, address);
    pollers.push_back(std::make_unique<Poller>(
        protocol::DtuClient(
            d.name, std::make_unique<hardware::ModbusRegisterReader>(d.address, b.config.transport),
            b.config.client, b.clock),
        address, b.clock, b.config.query_period, b));
  }
  std::vector<std::jthread> poll_threads;
  poll_threads.reserve(pollers.size());
  for (auto& p : pollers) {
    poll_threads.emplace_back([&p](const std::stop_token& stop) { p->run(stop); });
  }
  // Checks the database every 5 s and replays the spool, starting at once.
  std::jthread watcher([&b](const std::stop_token& stop) { b.watch_database(stop); });

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, stopping: finishing in-flight polls",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  for (auto& t : poll_threads) t.request_stop();
  watcher.request_stop();
  poll_threads.clear();  // joins: an in-flight poll finishes and its reading is stored or spooled
  watcher = {};
  server.stop();  // no more registrations
  b.on_update = nullptr;
  b.push = nullptr;
  push->stop();
  if (influx) {
    b.influx = nullptr;
    // What is still queued gets a few seconds; PostgreSQL has it in any case.
    if (const auto left = influx->stop(std::chrono::seconds{5}); left > 0) {
      spdlog::warn("InfluxDB: {} poll cycle(s) not written at stop (PostgreSQL has them)", left);
    }
  }
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
