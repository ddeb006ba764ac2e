#include "smiles/protocol/errors.h"

#include <cstdio>

namespace smiles::protocol {

std::string modbus_exception_name(std::uint8_t code) {
  switch (code) {
    case 0x01:
      return "illegal function";
    case 0x02:
      return "illegal data address";
    case 0x03:
      return "illegal data value";
    case 0x04:
      return "server device failure";
    case 0x05:
      return "acknowledge";
    case 0x06:
      return "server device busy";
    case 0x08:
      return "memory parity error";
    case 0x0A:
      return "gateway path unavailable";
    case 0x0B:
      return "gateway target device failed to respond";
    default:
      return "unknown exception";
  }
}

namespace {
std::string exception_message(std::uint8_t code, const std::string& context) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", code);
  return "DTU answered Modbus exception " + std::string(hex) + " (" + modbus_exception_name(code) +
         ") to " + context;
}
}  // namespace

ModbusException::ModbusException(std::uint8_t code, const std::string& context)
    : IoError(exception_message(code, context)), code_(code) {}

bool ModbusException::retryable() const noexcept {
  return code_ == 0x05 || code_ == 0x06 || code_ == 0x0A || code_ == 0x0B;
}

}  // namespace smiles::protocol
