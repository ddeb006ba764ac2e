// DTU addresses as users write them:
//   tcp://host[:port][?unit=N]
//   rtu://<device>[?baud=B&unit=N]      e.g. rtu:///dev/ttyUSB0?baud=9600&unit=101
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smiles/protocol/modbus_frame.h"

namespace smiles::protocol {

inline constexpr std::uint16_t kDefaultTcpPort = 502;
inline constexpr std::uint8_t kDefaultTcpUnit = 1;
inline constexpr int kDefaultBaud = 9600;
inline constexpr std::uint8_t kDefaultRtuUnit = 101;

struct DtuAddress {
  Transport transport = Transport::kTcp;
  std::string host;  // TCP: name, IPv4 or IPv6 (without brackets)
  std::uint16_t port = kDefaultTcpPort;
  std::string device;       // RTU: serial device path
  int baud = kDefaultBaud;  // RTU: 8 data bits, no parity, 1 stop bit (fixed on the DTU)
  std::uint8_t unit = kDefaultTcpUnit;

  friend bool operator==(const DtuAddress&, const DtuAddress&) = default;
};

// Throws ConfigError with a message that says what is wrong and shows the form.
DtuAddress parse_dtu_address(std::string_view text);
// Canonical text form; parse_dtu_address(format_dtu_address(a)) == a.
std::string format_dtu_address(const DtuAddress& address);

}  // namespace smiles::protocol
