#include "smiles/protocol/modbus_frame.h"

#include <algorithm>

namespace smiles::protocol {

namespace {

constexpr std::size_t kMbapHeader = 7;      // transaction, protocol, length, unit
constexpr std::size_t kMaxTcpLength = 254;  // unit + PDU of at most 253 bytes

ParsedResponse invalid(std::string why) {
  ParsedResponse r;
  r.status = ParsedResponse::Status::kInvalid;
  r.error = std::move(why);
  return r;
}

bool crc_ok(std::span<const std::uint8_t> frame) {
  if (frame.size() < 4) return false;
  const std::uint16_t crc = crc16(frame.first(frame.size() - 2));
  return frame[frame.size() - 2] == (crc & 0xFF) && frame[frame.size() - 1] == (crc >> 8);
}

std::string hex_byte(std::uint8_t b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0x0F];
}

// Function byte + rest of the PDU -> response (shared by TCP and RTU).
ParsedResponse from_pdu(std::span<const std::uint8_t> pdu, const ExpectedResponse& expected,
                        std::size_t frame_bytes) {
  ParsedResponse r;
  r.frame_bytes = frame_bytes;
  if (pdu.empty()) return invalid("empty PDU");
  const std::uint8_t function = pdu[0];
  if (function == (expected.function | 0x80)) {
    if (pdu.size() != 2) return invalid("exception response of wrong length");
    r.status = ParsedResponse::Status::kComplete;
    r.exception_code = pdu[1];
    return r;
  }
  if (function != expected.function) {
    return invalid("answer has function " + hex_byte(function) + ", expected " +
                   hex_byte(expected.function));
  }
  if (pdu.size() < 2) return invalid("answer has no byte count");
  r.status = ParsedResponse::Status::kComplete;
  r.declared_byte_count = pdu[1];
  r.payload.assign(pdu.begin() + 2, pdu.end());
  return r;
}

}  // namespace

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0xFFFF;
  for (std::uint8_t b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001U)
                            : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return crc;
}

ParsedResponse parse_tcp_response(std::span<const std::uint8_t> buffer,
                                  const ExpectedResponse& expected) {
  if (buffer.size() < kMbapHeader) return {};
  const unsigned protocol = (buffer[2] << 8) | buffer[3];
  const std::size_t length = (std::size_t{buffer[4]} << 8) | buffer[5];
  if (protocol != 0)
    return invalid("MBAP protocol id " + std::to_string(protocol) + ", expected 0");
  if (length < 2 || length > kMaxTcpLength) {
    return invalid("MBAP length " + std::to_string(length) + " out of range");
  }
  const std::size_t total = 6 + length;
  if (buffer.size() < total) return {};
  // The unit id is not checked on TCP: DTUs and gateways differ in what they echo.
  return from_pdu(buffer.subspan(kMbapHeader, total - kMbapHeader), expected, total);
}

ParsedResponse parse_rtu_response(std::span<const std::uint8_t> buffer,
                                  const ExpectedResponse& expected, bool line_idle) {
  if (buffer.size() < 2) {
    return line_idle && !buffer.empty() ? invalid("frame of 1 byte") : ParsedResponse{};
  }
  if (buffer[0] != expected.unit) {
    return invalid("answer from unit " + std::to_string(buffer[0]) + ", expected " +
                   std::to_string(expected.unit));
  }
  const std::uint8_t function = buffer[1];
  if (function == (expected.function | 0x80)) {
    if (buffer.size() < 5)
      return line_idle ? invalid("truncated exception frame") : ParsedResponse{};
    if (!crc_ok(buffer.first(5))) return invalid("bad CRC on exception frame");
    return from_pdu(buffer.subspan(1, 2), expected, 5);
  }
  if (function != expected.function) {
    return invalid("answer has function " + hex_byte(function) + ", expected " +
                   hex_byte(expected.function));
  }
  if (buffer.size() < 3) return line_idle ? invalid("truncated frame") : ParsedResponse{};
  // Candidate ends: trust the byte count, or trust what we asked for. CRC decides.
  std::size_t candidates[2] = {3 + std::size_t{buffer[2]} + 2, 3 + expected.payload_bytes + 2};
  std::sort(std::begin(candidates), std::end(candidates));
  for (std::size_t end : candidates) {
    if (buffer.size() >= end && crc_ok(buffer.first(end))) {
      return from_pdu(buffer.subspan(1, end - 3), expected, end);
    }
  }
  if (!line_idle) return {};
  if (buffer.size() >= 5 && crc_ok(buffer)) {
    return from_pdu(buffer.subspan(1, buffer.size() - 3), expected, buffer.size());
  }
  return invalid("bad CRC (" + std::to_string(buffer.size()) + " bytes received)");
}

std::vector<std::uint8_t> read_response_pdu(std::span<const std::uint8_t> payload,
                                            std::optional<std::uint8_t> byte_count_override) {
  std::vector<std::uint8_t> pdu;
  pdu.reserve(payload.size() + 2);
  pdu.push_back(0x03);
  pdu.push_back(byte_count_override.value_or(static_cast<std::uint8_t>(payload.size())));
  pdu.insert(pdu.end(), payload.begin(), payload.end());
  return pdu;
}

std::vector<std::uint8_t> exception_pdu(std::uint8_t function, std::uint8_t code) {
  return {static_cast<std::uint8_t>(function | 0x80), code};
}

std::vector<std::uint8_t> tcp_adu(std::uint16_t transaction_id, std::uint8_t unit,
                                  std::span<const std::uint8_t> pdu) {
  const std::size_t length = pdu.size() + 1;
  std::vector<std::uint8_t> adu;
  adu.reserve(kMbapHeader + pdu.size());
  adu.push_back(static_cast<std::uint8_t>(transaction_id >> 8));
  adu.push_back(static_cast<std::uint8_t>(transaction_id & 0xFF));
  adu.push_back(0);
  adu.push_back(0);
  adu.push_back(static_cast<std::uint8_t>(length >> 8));
  adu.push_back(static_cast<std::uint8_t>(length & 0xFF));
  adu.push_back(unit);
  adu.insert(adu.end(), pdu.begin(), pdu.end());
  return adu;
}

std::vector<std::uint8_t> rtu_adu(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  std::vector<std::uint8_t> adu;
  adu.reserve(pdu.size() + 3);
  adu.push_back(unit);
  adu.insert(adu.end(), pdu.begin(), pdu.end());
  const std::uint16_t crc = crc16(adu);
  adu.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  adu.push_back(static_cast<std::uint8_t>(crc >> 8));
  return adu;
}

}  // namespace smiles::protocol
