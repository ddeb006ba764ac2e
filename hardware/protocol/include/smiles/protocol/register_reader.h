// The I/O edge of the hardware layer: read holding registers from one DTU.
#pragma once

#include <cstdint>
#include <vector>

namespace smiles::protocol {

struct RegisterPayload {
  std::vector<std::uint8_t> bytes;       // as received; may differ from what was asked
  std::uint8_t declared_byte_count = 0;  // the frame's byte-count byte (the DTU may lie)
};

// One request, one answer: no retries, no pacing (DtuClient does those).
// Not thread-safe; one reader belongs to one polling thread.
class RegisterReader {
 public:
  virtual ~RegisterReader() = default;
  // Throws ConnectionError, TimeoutError, FrameError or ModbusException.
  virtual RegisterPayload read_holding_registers(std::uint16_t address, std::uint16_t count) = 0;
  // Drops the connection and any buffered input; the next read reconnects.
  virtual void reset() = 0;
};

}  // namespace smiles::protocol
