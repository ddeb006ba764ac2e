#include <spdlog/spdlog.h>

#include <iostream>

#include "commands.h"
#include "probe_table.h"
#include "smiles/api/json_views.h"
#include "smiles/hardware/modbus_register_reader.h"
#include "smiles/protocol/dtu_address.h"
#include "smiles/protocol/dtu_client.h"
#include "smiles/protocol/errors.h"

namespace smiles::bridge {

namespace {

struct ProbeOptions {
  std::string dtu;
  std::string name = "dtu";
  int timeout_ms = 1000;
  int byte_timeout_ms = 100;
  int retries = 2;
  int min_gap_ms = 0;
  bool json = false;
};

int run_probe(const ProbeOptions& o) {
  try {
    const auto address = protocol::parse_dtu_address(o.dtu);
    hardware::TransportOptions transport;
    transport.response_timeout = std::chrono::milliseconds{o.timeout_ms};
    transport.byte_timeout = std::chrono::milliseconds{o.byte_timeout_ms};
    protocol::DtuClientOptions client_options;
    client_options.retries = o.retries;
    client_options.min_request_gap = std::chrono::milliseconds{o.min_gap_ms};
    protocol::DtuClient client(o.name,
                               std::make_unique<hardware::ModbusRegisterReader>(address, transport),
                               client_options);
    spdlog::debug("probing {}", protocol::format_dtu_address(address));
    const auto started = std::chrono::steady_clock::now();
    const DtuReading reading = client.poll();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (o.json) {
      auto doc = api::dtu_reading_json(reading);
      doc["address"] = protocol::format_dtu_address(address);
      doc["requests"] = client.stats().requests;
      doc["retries"] = client.stats().retries;
      std::cout << doc.dump(2) << "\n";
    } else {
      std::cout << format_probe_table(reading, {protocol::format_dtu_address(address), elapsed,
                                                client.stats().requests, client.stats().retries});
    }
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "hoymiles-smiles probe: " << e.what() << "\n";
    if (e.kind() == "timeout" || e.kind() == "connection") {
      std::cerr << "hint: check the address and unit id; on some DTU firmware Modbus TCP stays "
                   "silent until the RS485 port is set to remote control; try --timeout-ms 3000 "
                   "--min-gap-ms 100 for a slow DTU\n";
    }
    return exit_code_for(e, CommandFamily::kProbe);
  }
}

}  // namespace

void add_probe_command(CLI::App& app, CommandRun& run) {
  auto opts = std::make_shared<ProbeOptions>();
  auto* cmd = app.add_subcommand("probe", "Read a DTU once and print what it reports");
  cmd->add_option("--dtu", opts->dtu,
                  "DTU address: tcp://host[:port][?unit=N] (port 502, unit 1 by default) or "
                  "rtu:///dev/ttyUSB0[?baud=9600&unit=101]")
      ->required();
  cmd->add_option("--name", opts->name, "Name shown for this DTU")->capture_default_str();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "Answer timeout per request")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  cmd->add_option("--byte-timeout-ms", opts->byte_timeout_ms, "RTU: silence that ends a frame")
      ->check(CLI::Range(1, 5000))
      ->capture_default_str();
  cmd->add_option("--retries", opts->retries, "Extra attempts per request")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_option("--min-gap-ms", opts->min_gap_ms,
                  "Pause between an answer and the next request (real DTUs: 50-200)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print JSON instead of a table");
  cmd->footer(
      "Exit codes: 0 ok, 2 bad arguments, 3 DTU unreachable or silent, 4 inverters not mapped "
      "yet (retry in a few minutes), 5 protocol error (garbled frames, exception answers).");
  cmd->callback([&run, opts] { run = [opts] { return run_probe(*opts); }; });
}

}  // namespace smiles::bridge
