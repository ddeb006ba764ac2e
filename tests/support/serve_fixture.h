// Fixture: `hoymiles-smiles serve` as a process, with the simulator (a process) and a
// real PostgreSQL.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eventually.h"
#include "http_client.h"
#include "loopback.h"
#include "process.h"
#include "smiles/core/time.h"
#include "smiles/protocol/port_block.h"
#include "smiles/protocol/simulator.h"
#include "temp_dir.h"
#include "test_database.h"

namespace smiles::test {

using namespace std::chrono_literals;
using nlohmann::json;

inline constexpr const char* kLayout = "MI:2,HM:4,HMS:1,HMT:6";
inline constexpr const char* kStart = "2026-06-01T11:00:00Z";

inline std::uint16_t port_of(const std::string& line) {
  return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

inline std::unique_ptr<ChildProcess> start_simulator(std::vector<std::string> extra,
                                                     std::uint16_t& port) {
  std::vector<std::string> argv = {
      cli_path(), "simulate", "--tcp",  "127.0.0.1:" + std::to_string(port),
      "--layout", kLayout,    "--seed", "7"};
  if (std::find(extra.begin(), extra.end(), "--start-time") == extra.end()) {
    argv.insert(argv.end(), {"--start-time", kStart});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto sim = std::make_unique<ChildProcess>(argv);
  auto line = sim->wait_for_line("listening on tcp://", 10s);
  if (!line) throw std::runtime_error("simulator did not start");
  const auto q = line->find('?');
  port = port_of(line->substr(0, q));
  return sim;
}

// A loopback connection that sends nothing.
inline int open_idle_connection(std::uint16_t port) {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in addr = loopback_address(port);
  connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  return s;
}

// The stop line: "stopped after P good polls: S readings stored, Q spooled, R replayed,
// D dropped".
struct StopLine {
  unsigned long polls = 0, stored = 0, spooled = 0, replayed = 0, dropped = 0;
};
inline std::optional<StopLine> stop_line(const std::string& log) {
  const auto at = log.rfind("stopped after ");
  StopLine s;
  if (at == std::string::npos ||
      std::sscanf(log.c_str() + at,
                  "stopped after %lu good polls: %lu readings stored, %lu spooled, %lu "
                  "replayed, %lu dropped",
                  &s.polls, &s.stored, &s.spooled, &s.replayed, &s.dropped) != 5) {
    return std::nullopt;
  }
  return s;
}

class ServeTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> sim_extra = {"--speed", "0"},
             std::vector<std::string> env = {}) {
    sim = start_simulator(sim_extra, sim_port);
    std::vector<std::string> argv = {"env", "DATABASE_URL=" + db.url(), "DB_AUTO_MIGRATE=true"};
    if (single_dtu) {
      // As the Python bridge was configured: one DTU, no name (it is called "DTU").
      argv.insert(argv.end(), {"DTU_HOST=127.0.0.1", "DTU_PORT=" + std::to_string(sim_port)});
    } else {
      argv.push_back("DTUS=roof=tcp://127.0.0.1:" + std::to_string(sim_port));
    }
    argv.insert(argv.end(), {"QUERY_PERIOD=0.3", "COMM_TIMEOUT=0.3", "COMM_RETRIES=1",
                             "COMM_RECONNECT_DELAY=0.1", "COMM_RECONNECT_DELAY_MAX=0.2",
                             "HEALTH_HOST=127.0.0.1", "HEALTH_PORT=0", "HTTP_READ_TIMEOUT=2",
                             "HTTP_MAX_CONNECTIONS=8", "DATA_DIR=" + data_dir()});
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {cli_path(), "serve"});
    serve_argv_ = argv;
    launch_serve();
  }
  // Both processes on one simulated clock: simulated `sim_start` at the real `anchor_`
  // (the next whole second), `speed` simulated seconds per real one.
  void start_on_clock(const std::string& sim_start, double speed,
                      std::vector<std::string> sim_extra, std::vector<std::string> env) {
    speed_ = speed;
    start_ = *parse_iso8601(sim_start);
    anchor_ = std::chrono::ceil<std::chrono::seconds>(WallClock::now());
    const auto start_text = format_iso8601_utc(start_), anchor_text = format_iso8601_utc(anchor_);
    sim_args_ = {"--start-time",        start_text, "--speed",
                 std::to_string(speed), "--anchor", anchor_text};
    sim_args_.insert(sim_args_.end(), sim_extra.begin(), sim_extra.end());
    env.insert(env.end(),
               {"SIMULATED_CLOCK=" + start_text + "," + std::to_string(speed) + "," + anchor_text,
                "TIMEZONE=Europe/Berlin", "RESET_HOUR=0"});
    start(sim_args_, env);
  }
  Timestamp sim_now() const {
    return start_ + std::chrono::duration_cast<Timestamp::duration>(
                        std::chrono::duration<double>(WallClock::now() - anchor_) * speed_);
  }
  // Starts serve alone (no simulator) with these settings after the database's and
  // the data directory's.
  void start_serve_only(std::vector<std::string> env) {
    serve_argv_ = {"env", "DATABASE_URL=" + db.url(), "HEALTH_HOST=127.0.0.1", "HEALTH_PORT=0",
                   "DATA_DIR=" + data_dir()};
    serve_argv_.insert(serve_argv_.end(), env.begin(), env.end());
    serve_argv_.insert(serve_argv_.end(), {cli_path(), "serve"});
    launch_serve();
  }
  // Starts serve (again) as start() did, on a new port.
  void launch_serve() {
    auto argv = serve_argv_;
    if (!stderr_log.empty()) {  // the log to a file (exec: the pid stays serve's)
      argv.insert(argv.begin(), {"sh", "-c", "exec \"$0\" \"$@\" 2>>" + stderr_log});
    }
    serve = std::make_unique<ChildProcess>(argv);
    auto line = serve->wait_for_line("listening on http://", 20s);
    ASSERT_TRUE(line) << "serve did not start";
    http_port = port_of(*line);
  }
  void TearDown() override {
    if (serve) serve->stop(SIGKILL);
    if (sim) sim->stop(SIGKILL);
  }
  std::string data_dir() const { return dir_.path().string(); }
  json get_json(const std::string& target) {
    const auto r = http_get(http_port, target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }
  // Waits until /health (200 when healthy, 503 with the same body when not) satisfies
  // `pred`.
  bool wait_health(const std::function<bool(const json&)>& pred,
                   std::chrono::seconds timeout = 20s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      const auto r = http_get(http_port, "/health");
      if ((r.status == 200 || r.status == 503) && pred(json::parse(r.body))) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // Waits until the first poll's readings are in PostgreSQL (/health says "online" as
  // soon as the DTU answered, before the writer stored what it said).
  bool wait_first_stored(int ports = 13) {
    return eventually_true(
        [&] { return std::stoi(db.scalar("SELECT count(*) FROM port_data")) >= ports; });
  }
  std::string metric(const std::string& prefix) {
    const auto text = http_get(http_port, "/metrics").body;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) == 0) return line.substr(line.rfind(' ') + 1);
    }
    return "";
  }

  // Everything serve wrote to stderr (its log) so far.
  std::string log_text() const {
    std::ifstream in(stderr_log);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::vector<std::string> serve_argv_;
  double speed_ = 1;  // of the simulated clock (start_on_clock)
  Timestamp start_{}, anchor_{};
  std::vector<std::string> sim_args_;
  std::string stderr_log;   // when set, serve's stderr goes there
  bool single_dtu = false;  // DTU_HOST/DTU_PORT instead of DTUS=roof=...
  TestDatabase db;
  std::unique_ptr<ChildProcess> sim, serve;
  std::uint16_t sim_port = 0, http_port = 0;
  TempDir dir_{"smiles-serve"};
};

inline bool polled(const json& h) { return h["dtus"]["roof"]["status"] == "online"; }
inline bool polled_single(const json& h) {
  return h["dtus"].contains("DTU") && h["dtus"]["DTU"]["status"] == "online";
}

}  // namespace smiles::test
