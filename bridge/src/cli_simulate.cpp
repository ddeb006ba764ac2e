#include <spdlog/spdlog.h>

#include <csignal>
#include <ctime>
#include <iostream>

#include "commands.h"
#include "smiles/core/error.h"
#include "smiles/core/serial.h"
#include "smiles/core/time.h"
#include "smiles/hardware/simulator_server.h"
#include "smiles/protocol/dtu_address.h"

namespace smiles::bridge {

namespace {

struct SimulateOptions {
  std::string tcp;
  std::string rtu;
  int baud = protocol::kDefaultBaud;
  int unit = protocol::kDefaultTcpUnit;
  int rtu_unit = protocol::kDefaultRtuUnit;
  int inverters = 8;
  int ports = 0;
  std::string layout;
  std::uint32_t seed = 1;
  std::string dtu_serial;
  std::string start_time = "10:30";
  double speed = 1.0;
  double ambient_c = 15;
  std::string anchor;
  bool night_unlinked = false;
  // faults
  int wrong_byte_count = -1;
  int delay_ms = 0;
  int no_answer_every = 0;
  int drop_every = 0;
  int exception_every = 0;
  int exception_code = 6;
  int garbage_every = 0;
  int not_mapped_polls = 0;
  bool zero_blocks = false;
  std::string zero_window;
};

// "now", "HH:MM" (today, UTC) or an ISO-8601 time (core/time.h; no zone = UTC).
Timestamp parse_start_time(const std::string& text) {
  const auto now = WallClock::now();
  if (text == "now") return now;
  if (const auto t = parse_iso8601(text)) return *t;
  // HH:MM: the time part of an ISO-8601 time, on today's date.
  if (const auto f = parse_iso8601_fields("2000-01-01T" + text);
      f && !f->has_seconds && !f->has_zone) {
    const auto today = std::chrono::floor<std::chrono::days>(now);
    return today + std::chrono::hours{f->hour} + std::chrono::minutes{f->minute};
  }
  throw ConfigError("--start-time must be 'now', HH:MM or YYYY-MM-DDTHH:MM:SSZ, got '" + text +
                    "'");
}

std::pair<std::string, std::uint16_t> parse_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return {"127.0.0.1", static_cast<std::uint16_t>(std::stoi(text))};
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const int port = std::stoi(text.substr(colon + 1));
  if (port < 0 || port > 65535) throw ConfigError("--tcp port must be 0..65535");
  return {host.empty() ? "0.0.0.0" : host, static_cast<std::uint16_t>(port)};
}

protocol::FaultOptions fault_options(const SimulateOptions& o) {
  protocol::FaultOptions f;
  if (o.wrong_byte_count >= 0) f.wrong_byte_count = static_cast<std::uint8_t>(o.wrong_byte_count);
  f.delay = std::chrono::milliseconds{o.delay_ms};
  f.no_answer_every = o.no_answer_every;
  f.drop_every = o.drop_every;
  f.exception_every = o.exception_every;
  f.exception_code = static_cast<std::uint8_t>(o.exception_code);
  f.garbage_every = o.garbage_every;
  f.not_mapped_polls = o.not_mapped_polls;
  f.zero_blocks = o.zero_blocks;
  if (!o.zero_window.empty()) {
    int period = 0, duration = 0;
    char tail = 0;
    if (std::sscanf(o.zero_window.c_str(), "%d:%d%c", &period, &duration, &tail) != 2 ||
        period <= 0 || duration <= 0 || duration >= period) {
      throw ConfigError("--zero-window must be PERIOD_S:DURATION_S with 0 < duration < period");
    }
    f.zero_period = std::chrono::seconds{period};
    f.zero_duration = std::chrono::seconds{duration};
  }
  return f;
}

int run_simulate(const SimulateOptions& o) {
  try {
    protocol::SimulatorLayout layout;
    if (!o.layout.empty()) {
      layout = protocol::layout_from_spec(o.layout, o.seed);
    } else if (o.ports > 0) {
      layout = protocol::layout_with_ports(o.ports, o.seed);
    } else {
      layout = protocol::mixed_layout(o.inverters, o.seed);
    }
    if (!o.dtu_serial.empty()) {
      const auto serial = normalize_serial(o.dtu_serial);
      if (!serial) throw ConfigError("--dtu-serial must be 12 hex digits");
      layout.dtu_serial = *serial;
    }
    protocol::ModelOptions model;
    model.start_time = parse_start_time(o.start_time);
    model.speed = o.speed;
    model.ambient_c = o.ambient_c;
    model.night_unlinked = o.night_unlinked;
    const Timestamp real_start = o.anchor.empty() ? WallClock::now() : parse_start_time(o.anchor);

    // Signals go to sigwait below, not to the server threads.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const int ports = layout.port_count();
    const std::size_t inverter_count = layout.inverters.size();
    const std::string dtu_serial = layout.dtu_serial;
    hardware::SimulatorServer server(protocol::SimulatedDtu(std::move(layout), model, real_start),
                                     fault_options(o));
    std::cout << "simulated DTU " << dtu_serial << ": " << inverter_count << " inverters, " << ports
              << " ports, simulated time starts " << format_iso8601_utc(model.start_time)
              << " (speed " << o.speed << "x)\n";
    for (const auto& inv : server.dtu().layout().inverters) {
      std::cout << "  " << inv.serial_number << "  " << inv.model << "  " << inv.ports
                << (inv.ports == 1 ? " port\n" : " ports\n");
    }
    const bool want_tcp = !o.tcp.empty() || o.rtu.empty();
    if (want_tcp) {
      const auto [host, port] = parse_host_port(o.tcp.empty() ? "127.0.0.1:5502" : o.tcp);
      server.start_tcp(host, port, static_cast<std::uint8_t>(o.unit));
      protocol::DtuAddress a;
      a.host = host;
      a.port = server.tcp_port();
      a.unit = static_cast<std::uint8_t>(o.unit);
      std::cout << "listening on " << protocol::format_dtu_address(a) << "\n";
    }
    if (!o.rtu.empty()) {
      server.start_rtu(o.rtu, o.baud, static_cast<std::uint8_t>(o.rtu_unit));
      protocol::DtuAddress a;
      a.transport = protocol::Transport::kRtu;
      a.device = o.rtu;
      a.baud = o.baud;
      a.unit = static_cast<std::uint8_t>(o.rtu_unit);
      std::cout << "listening on " << protocol::format_dtu_address(a) << "\n";
    }
    std::cout << "press Ctrl-C to stop" << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
    const auto stats = server.stats();
    spdlog::info("simulator stopped: {} requests, {} answers, {} faults injected, {} connections",
                 stats.requests, stats.answers, stats.faults_injected, stats.connections);
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "hoymiles-smiles simulate: " << e.what() << "\n";
    return exit_code_for(e, CommandFamily::kService);
  }
}

}  // namespace

void add_simulate_command(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Serve a simulated DTU (inverters, day curve, faults) over Modbus TCP and/or RTU");
  cmd->add_option(
      "--tcp", o->tcp,
      "Serve Modbus TCP on [HOST:]PORT (default 127.0.0.1:5502; port 0 picks a free one)");
  cmd->add_option("--rtu", o->rtu,
                  "Serve Modbus RTU on this serial device (e.g. one end of a socat pty pair)");
  cmd->add_option("--baud", o->baud, "RTU baud rate")->capture_default_str();
  cmd->add_option("--unit", o->unit, "TCP unit id")
      ->check(CLI::Range(0, 255))
      ->capture_default_str();
  cmd->add_option("--rtu-unit", o->rtu_unit, "RTU unit id")
      ->check(CLI::Range(1, 247))
      ->capture_default_str();
  auto* g =
      cmd->add_option_group("plant", "What the DTU reports (one of --inverters/--ports/--layout)");
  auto* inv = g->add_option("--inverters", o->inverters, "Number of inverters of mixed families")
                  ->check(CLI::Range(1, 99))
                  ->capture_default_str();
  auto* ports =
      g->add_option("--ports", o->ports, "Exactly this many PV ports (1..99) over mixed families")
          ->check(CLI::Range(1, 99));
  auto* layout =
      g->add_option("--layout", o->layout, "Explicit inverters, e.g. MI:2,HM:4,HMS:1,HMT:6");
  inv->excludes(ports)->excludes(layout);
  ports->excludes(layout);
  g->add_option("--seed", o->seed, "Seed for serials and per-panel variation")
      ->capture_default_str();
  g->add_option("--dtu-serial", o->dtu_serial, "DTU serial (12 hex digits; default from the seed)");
  g->add_option("--start-time", o->start_time,
                "Simulated time at start: HH:MM today (UTC), 'now', or YYYY-MM-DDTHH:MM:SSZ; "
                "daytime by default so a demo shows production")
      ->capture_default_str();
  g->add_option("--speed", o->speed, "Simulated seconds per real second (0 freezes time)")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  g->add_option("--ambient", o->ambient_c, "Night-time inverter temperature in C (may be negative)")
      ->capture_default_str();
  g->add_option("--anchor", o->anchor,
                "The real (UTC) time at which the simulated clock shows --start-time, "
                "YYYY-MM-DDTHH:MM:SSZ (default: the start); serve's SIMULATED_CLOCK takes the "
                "same three values and then runs on the same clock");
  g->add_flag("--night-unlinked", o->night_unlinked,
              "At night the inverters sleep: zero blocks with link status 0, as real DTUs report");
  auto* f =
      cmd->add_option_group("faults", "Misbehaviour of real DTUs to inject (N counts requests)");
  f->add_option("--wrong-byte-count", o->wrong_byte_count,
                "Send this byte-count byte in every read answer (e.g. 80 or 255)")
      ->check(CLI::Range(0, 255));
  f->add_option("--delay-ms", o->delay_ms, "Delay every answer")->check(CLI::Range(0, 600000));
  f->add_option("--no-answer-every", o->no_answer_every, "Ignore every Nth request")
      ->check(CLI::NonNegativeNumber);
  f->add_option("--drop-every", o->drop_every,
                "Close the TCP connection at every Nth request (RTU: no answer)")
      ->check(CLI::NonNegativeNumber);
  f->add_option("--exception-every", o->exception_every,
                "Answer every Nth request with a Modbus exception")
      ->check(CLI::NonNegativeNumber);
  f->add_option("--exception-code", o->exception_code,
                "Exception code to send (6 busy, 2 illegal address)")
      ->check(CLI::Range(1, 255))
      ->capture_default_str();
  f->add_option("--garbage-every", o->garbage_every,
                "Corrupt every Nth answer (RTU: bad CRC; TCP: truncated frame)")
      ->check(CLI::NonNegativeNumber);
  f->add_option("--not-mapped-polls", o->not_mapped_polls,
                "Answer the first N reads of the first block with no data")
      ->check(CLI::NonNegativeNumber);
  f->add_flag("--zero-blocks", o->zero_blocks, "Zero every block's values (cloud upload / night)");
  f->add_option("--zero-window", o->zero_window,
                "Zero blocks for DURATION_S of every PERIOD_S of simulated time, e.g. 900:20");
  cmd->callback([&run, o] { run = [o] { return run_simulate(*o); }; });
}

}  // namespace smiles::bridge
