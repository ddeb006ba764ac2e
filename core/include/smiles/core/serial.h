// Serial numbers: 12 hex digits, upper case, as the DTU's bytes printed in hex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace smiles {

inline constexpr std::size_t kSerialLength = 12;

// Each byte as two upper-case hex digits: {0x10, 0x33} -> "1033".
inline std::string hex_serial(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

// The canonical (upper-case) form of a user-supplied serial, or nullopt if malformed.
inline std::optional<std::string> normalize_serial(std::string_view text) {
  if (text.size() != kSerialLength) return std::nullopt;
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    const bool hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    if (!hex) return std::nullopt;
  }
  return out;
}

inline bool is_all_zero_serial(std::string_view serial) {
  return serial.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace smiles
