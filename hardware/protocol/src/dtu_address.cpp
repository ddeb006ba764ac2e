#include "smiles/protocol/dtu_address.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "smiles/core/error.h"

namespace smiles::protocol {

namespace {

constexpr std::string_view kForms =
    "expected tcp://host[:port][?unit=N] or rtu:///dev/ttyUSB0[?baud=9600&unit=101]";
constexpr std::array<int, 11> kBauds = {1200,  2400,   4800,   9600,   19200, 38400,
                                        57600, 115200, 230400, 460800, 921600};

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw ConfigError("invalid DTU address '" + std::string(text) + "': " + why + " (" +
                    std::string(kForms) + ")");
}

long parse_number(std::string_view text, std::string_view value, std::string_view what) {
  long n = 0;
  const auto* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || ec != std::errc() || ptr != end) {
    fail(text, std::string(what) + " must be a number, got '" + std::string(value) + "'");
  }
  return n;
}

}  // namespace

DtuAddress parse_dtu_address(std::string_view text) {
  DtuAddress address;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) fail(text, "missing scheme");
  std::string scheme(text.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view rest = text.substr(scheme_end + 3);
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  if (scheme == "tcp") {
    address.transport = Transport::kTcp;
    address.unit = kDefaultTcpUnit;
    std::string_view port_text;
    if (rest.starts_with('[')) {  // [IPv6]:port
      const auto close = rest.find(']');
      if (close == std::string_view::npos) fail(text, "unclosed '[' in IPv6 address");
      address.host = std::string(rest.substr(1, close - 1));
      std::string_view after = rest.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') fail(text, "expected ':' after ']'");
        port_text = after.substr(1);
        if (port_text.empty()) fail(text, "empty port");
      }
    } else {
      const auto colon = rest.rfind(':');
      if (colon != std::string_view::npos) {
        if (rest.find(':') != colon) fail(text, "IPv6 addresses must be written in [brackets]");
        port_text = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        if (port_text.empty()) fail(text, "empty port");
      }
      address.host = std::string(rest);
    }
    if (address.host.empty()) fail(text, "missing host");
    if (address.host.find('/') != std::string::npos) fail(text, "host must not contain '/'");
    if (!port_text.empty()) {
      const long port = parse_number(text, port_text, "port");
      if (port < 1 || port > 65535) fail(text, "port must be 1..65535");
      address.port = static_cast<std::uint16_t>(port);
    }
  } else if (scheme == "rtu") {
    address.transport = Transport::kRtu;
    address.unit = kDefaultRtuUnit;
    if (rest.empty()) fail(text, "missing serial device");
    if (!rest.starts_with('/')) {
      fail(text, "serial device must be an absolute path (three slashes: rtu:///dev/ttyUSB0)");
    }
    address.device = std::string(rest);
  } else {
    fail(text, "unknown scheme '" + scheme + "'");
  }

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      fail(text, "option '" + std::string(pair) + "' needs a value");
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (key == "unit") {
      const long unit = parse_number(text, value, "unit");
      const long lo = address.transport == Transport::kTcp ? 0 : 1;
      if (unit < lo || unit > 255) {
        fail(text, "unit must be " + std::to_string(lo) + "..255");
      }
      address.unit = static_cast<std::uint8_t>(unit);
    } else if (key == "baud") {
      if (address.transport != Transport::kRtu) fail(text, "baud applies to rtu:// only");
      const long baud = parse_number(text, value, "baud");
      if (std::find(kBauds.begin(), kBauds.end(), baud) == kBauds.end()) {
        fail(text, "unsupported baud rate " + std::to_string(baud));
      }
      address.baud = static_cast<int>(baud);
    } else {
      fail(text, "unknown option '" + std::string(key) + "' (known: unit, baud)");
    }
  }
  return address;
}

std::string format_dtu_address(const DtuAddress& address) {
  if (address.transport == Transport::kRtu) {
    return "rtu://" + address.device + "?baud=" + std::to_string(address.baud) +
           "&unit=" + std::to_string(address.unit);
  }
  const bool v6 = address.host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + address.host + "]" : address.host) + ":" +
         std::to_string(address.port) + "?unit=" + std::to_string(address.unit);
}

}  // namespace smiles::protocol
