// RegisterReader over libmodbus, for Modbus TCP and RTU. libmodbus opens the
// connection / serial line and frames requests; answers are framed by
// modbus_frame.h so that the DTU's wrong byte-count byte is tolerated.
#pragma once

#include <chrono>
#include <memory>

#include "smiles/protocol/dtu_address.h"
#include "smiles/protocol/register_reader.h"

namespace smiles::hardware {

struct TransportOptions {
  std::chrono::milliseconds response_timeout{1000};  // request sent -> complete answer
  std::chrono::milliseconds byte_timeout{100};       // RTU: silence that ends a frame
};

class ModbusRegisterReader final : public protocol::RegisterReader {
 public:
  ModbusRegisterReader(protocol::DtuAddress address, TransportOptions options);
  ~ModbusRegisterReader() override;
  ModbusRegisterReader(const ModbusRegisterReader&) = delete;
  ModbusRegisterReader& operator=(const ModbusRegisterReader&) = delete;

  protocol::RegisterPayload read_holding_registers(std::uint16_t address,
                                                   std::uint16_t count) override;
  void reset() override;
  [[nodiscard]] bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smiles::hardware
