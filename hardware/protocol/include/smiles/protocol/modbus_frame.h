// Pure Modbus framing for read-holding-registers answers, tolerant of the DTU's
// quirks (wrong byte-count byte). Used by the client's receive path, by the
// simulator to build answers, and by the fuzz target.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace smiles::protocol {

enum class Transport : std::uint8_t { kTcp, kRtu };

// Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF); sent low byte first.
std::uint16_t crc16(std::span<const std::uint8_t> bytes);

struct ExpectedResponse {
  std::uint8_t unit = 1;
  std::uint8_t function = 0x03;
  std::size_t payload_bytes = 0;  // what was asked for: 2 * register count
};

struct ParsedResponse {
  enum class Status : std::uint8_t { kIncomplete, kComplete, kInvalid };
  Status status = Status::kIncomplete;
  std::size_t frame_bytes = 0;           // bytes of the buffer the frame used
  std::uint8_t exception_code = 0;       // non-zero for an exception response
  std::uint8_t declared_byte_count = 0;  // the byte-count byte as sent (may lie)
  std::vector<std::uint8_t> payload;     // register bytes as received
  std::string error;                     // why the frame is invalid
};

// TCP: the MBAP length field delimits the frame; the byte-count byte is not trusted.
ParsedResponse parse_tcp_response(std::span<const std::uint8_t> buffer,
                                  const ExpectedResponse& expected);

// RTU has no length field. A frame is complete when the bytes up to the declared
// count, or up to the expected payload, end in a valid CRC. `line_idle` says the
// line has gone quiet: then the whole buffer is judged as one frame.
ParsedResponse parse_rtu_response(std::span<const std::uint8_t> buffer,
                                  const ExpectedResponse& expected, bool line_idle);

// --- builders (simulator side) ---

// PDU of a read answer: function, byte count (or an override to mimic the DTU), payload.
std::vector<std::uint8_t> read_response_pdu(std::span<const std::uint8_t> payload,
                                            std::optional<std::uint8_t> byte_count_override = {});
std::vector<std::uint8_t> exception_pdu(std::uint8_t function, std::uint8_t code);
// Wraps a PDU in an MBAP header (TCP) or unit + CRC (RTU).
std::vector<std::uint8_t> tcp_adu(std::uint16_t transaction_id, std::uint8_t unit,
                                  std::span<const std::uint8_t> pdu);
std::vector<std::uint8_t> rtu_adu(std::uint8_t unit, std::span<const std::uint8_t> pdu);

}  // namespace smiles::protocol
