// Hardware-specific error kinds, all rooted in smiles::Error.
#pragma once

#include <cstdint>
#include <string>

#include "smiles/core/error.h"

namespace smiles::protocol {

// A frame that is not a valid Modbus answer: bad CRC, truncated MBAP, wrong function.
class FrameError : public DataError {
 public:
  using DataError::DataError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "frame"; }
  // A garbled frame on a live line is usually a one-off: worth another request.
  [[nodiscard]] bool retryable() const noexcept override { return true; }
};

// The DTU answered with a Modbus exception response.
class ModbusException : public IoError {
 public:
  ModbusException(std::uint8_t code, const std::string& context);
  [[nodiscard]] std::string_view kind() const noexcept override { return "exception"; }
  // Busy / acknowledge / gateway codes are transient; illegal address or value are not.
  [[nodiscard]] bool retryable() const noexcept override;
  [[nodiscard]] std::uint8_t code() const noexcept { return code_; }

 private:
  std::uint8_t code_;
};

// A poll skipped because the client waits out its reconnect backoff: not news about
// the DTU (the failure that started the backoff is).
class BackingOff : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// The DTU answered the first port block with no data: it has not finished
// discovering its inverters (typical for minutes after a DTU restart).
class NotMappedError : public IoError {
 public:
  using IoError::IoError;
  [[nodiscard]] std::string_view kind() const noexcept override { return "not_mapped"; }
};

// Human name of a Modbus exception code ("illegal data address", ...).
std::string modbus_exception_name(std::uint8_t code);

}  // namespace smiles::protocol
