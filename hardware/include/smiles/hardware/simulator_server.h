// Serves a SimulatedDtu over Modbus TCP and/or RTU (a serial device, e.g. one end
// of a socat pty pair). Requests are received with libmodbus; answers follow the
// fault plan. Thread-safe: faults may be changed while serving.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "smiles/protocol/simulator.h"

namespace smiles::hardware {

struct SimulatorStats {
  std::uint64_t requests = 0;
  std::uint64_t answers = 0;
  std::uint64_t faults_injected = 0;
  std::uint64_t connections = 0;
};

class SimulatorServer {
 public:
  SimulatorServer(protocol::SimulatedDtu dtu, protocol::FaultOptions faults);
  ~SimulatorServer();
  SimulatorServer(const SimulatorServer&) = delete;
  SimulatorServer& operator=(const SimulatorServer&) = delete;

  // Port 0 picks a free port (see tcp_port()). Throws ConnectionError / ConfigError.
  void start_tcp(const std::string& host, std::uint16_t port, std::uint8_t unit);
  // Unit 1..247 (libmodbus's RTU server range). Throws ConnectionError / ConfigError.
  void start_rtu(const std::string& device, int baud, std::uint8_t unit);
  void stop();

  [[nodiscard]] std::uint16_t tcp_port() const;
  void set_faults(const protocol::FaultOptions& faults);
  [[nodiscard]] protocol::FaultOptions faults() const;
  [[nodiscard]] SimulatorStats stats() const;
  [[nodiscard]] const protocol::SimulatedDtu& dtu() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smiles::hardware
