// libFuzzer target for everything that parses bytes or text from outside:
// Modbus TCP/RTU answer framing, the port-block decoder and DTU addresses.
// Besides "no crash", it checks round-trip properties and traps when one breaks.
#include <cstdint>
#include <span>
#include <string>

#include "smiles/core/error.h"
#include "smiles/protocol/dtu_address.h"
#include "smiles/protocol/modbus_frame.h"
#include "smiles/protocol/port_block.h"
#include "smiles/protocol/simulator.h"

using namespace smiles::protocol;

namespace {

void check_block(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kPortBlockBytes) return;
  const auto raw = decode_raw_port_block(bytes);
  (void)scale_port_block(raw);
  // Everything the map covers must survive decode -> encode unchanged.
  const auto again = encode_port_block(raw);
  for (std::size_t i = 0; i <= 32; ++i) {
    if (again[i] != bytes[i]) __builtin_trap();
  }
}

void check_frames(std::span<const std::uint8_t> data, std::uint8_t selector) {
  const ExpectedResponse expected{static_cast<std::uint8_t>(selector | 1), 0x03,
                                  std::size_t{selector % 3 == 0 ? 6U : 40U}};
  const auto tcp = parse_tcp_response(data, expected);
  if (tcp.status == ParsedResponse::Status::kComplete) {
    if (tcp.frame_bytes > data.size()) __builtin_trap();
    check_block(tcp.payload);
  }
  for (bool idle : {false, true}) {
    const auto rtu = parse_rtu_response(data, expected, idle);
    if (rtu.status == ParsedResponse::Status::kComplete) {
      if (rtu.frame_bytes > data.size()) __builtin_trap();
      if (rtu.exception_code == 0 && rtu.frame_bytes != rtu.payload.size() + 5) __builtin_trap();
      check_block(rtu.payload);
    }
  }
  // Frames we build must parse back to what we put in.
  if (data.size() <= 250) {
    const auto built = rtu_adu(expected.unit, read_response_pdu(data));
    const auto back = parse_rtu_response(built, {expected.unit, 0x03, data.size()}, true);
    if (back.status != ParsedResponse::Status::kComplete ||
        !std::equal(back.payload.begin(), back.payload.end(), data.begin(), data.end())) {
      __builtin_trap();
    }
  }
}

void check_text(const std::string& text) {
  try {
    const auto address = parse_dtu_address(text);
    const auto again = parse_dtu_address(format_dtu_address(address));
    if (!(again == address)) __builtin_trap();
  } catch (const smiles::ConfigError&) {
  }
  try {
    (void)layout_from_spec(text, 1);
  } catch (const smiles::ConfigError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  check_frames(rest, data[0]);
  check_block(rest.first(std::min<std::size_t>(rest.size(), kPortBlockBytes)));
  check_text(std::string(reinterpret_cast<const char*>(rest.data()), rest.size()));
  return 0;
}
