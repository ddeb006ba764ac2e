// The DTU-Pro / DTU-Pro-S Modbus register map as data. Every other piece of code
// (decoder, simulator encoder, probe output) reads offsets and scales from here.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "smiles/core/family.h"

namespace smiles::protocol {

// The DTU gives every byte its own address but answers two bytes per register,
// so block i is read as 20 registers starting at byte address 0x1000 + i*40.
inline constexpr std::uint16_t kPortBlockBaseAddress = 0x1000;
inline constexpr std::uint16_t kPortBlockBytes = 40;
inline constexpr std::uint16_t kPortBlockRegisters = kPortBlockBytes / 2;
inline constexpr int kMaxPortBlocks = 100;
inline constexpr std::uint16_t kDtuSerialAddress = 0x2000;
inline constexpr std::uint16_t kDtuSerialBytes = 6;
inline constexpr std::uint16_t kDtuSerialRegisters = kDtuSerialBytes / 2;
inline constexpr std::uint8_t kReadHoldingRegisters = 0x03;

constexpr std::uint16_t port_block_address(int index) {
  return static_cast<std::uint16_t>(kPortBlockBaseAddress + index * kPortBlockBytes);
}

enum class Field : std::uint8_t {
  kDataType,
  kSerial,
  kPortNumber,
  kPvVoltage,
  kPvCurrent,
  kGridVoltage,
  kGridFrequency,
  kPvPower,
  kTodayProduction,
  kTotalProduction,
  kTemperature,
  kOperatingStatus,
  kAlarmCode,
  kAlarmCount,
  kLinkStatus,
};
inline constexpr std::size_t kFieldCount = 15;

enum class Encoding : std::uint8_t { kUnsigned, kSigned, kHexBytes };
// Whether a value belongs to the PV port or repeats per port but belongs to the inverter.
enum class Scope : std::uint8_t { kBlock, kPort, kInverter };

// Divisor 0 marks a value whose scale depends on the inverter family (PV current).
inline constexpr double kFamilyScaled = 0;

struct FieldSpec {
  Field field;
  std::string_view name;  // snake_case, unit-free: the API's field name
  std::uint8_t offset;    // byte offset in the 40-byte block
  std::uint8_t width;     // bytes, big-endian
  Encoding encoding;
  double divisor;
  std::string_view unit;
  Scope scope;
};

// Table order equals enum order (checked at compile time below).
inline constexpr std::array<FieldSpec, kFieldCount> kPortBlockMap{{
    {Field::kDataType, "data_type", 0, 1, Encoding::kUnsigned, 1, "", Scope::kBlock},
    {Field::kSerial, "serial_number", 1, 6, Encoding::kHexBytes, 1, "", Scope::kBlock},
    {Field::kPortNumber, "port_number", 7, 1, Encoding::kUnsigned, 1, "", Scope::kPort},
    {Field::kPvVoltage, "pv_voltage", 8, 2, Encoding::kUnsigned, 10, "V", Scope::kPort},
    {Field::kPvCurrent, "pv_current", 10, 2, Encoding::kUnsigned, kFamilyScaled, "A", Scope::kPort},
    {Field::kGridVoltage, "grid_voltage", 12, 2, Encoding::kUnsigned, 10, "V", Scope::kInverter},
    {Field::kGridFrequency, "grid_frequency", 14, 2, Encoding::kUnsigned, 100, "Hz",
     Scope::kInverter},
    {Field::kPvPower, "pv_power", 16, 2, Encoding::kUnsigned, 10, "W", Scope::kPort},
    {Field::kTodayProduction, "today_production", 18, 2, Encoding::kUnsigned, 1, "Wh",
     Scope::kPort},
    {Field::kTotalProduction, "total_production", 20, 4, Encoding::kUnsigned, 1, "Wh",
     Scope::kPort},
    {Field::kTemperature, "temperature", 24, 2, Encoding::kSigned, 10, "°C", Scope::kInverter},
    {Field::kOperatingStatus, "operating_status", 26, 2, Encoding::kUnsigned, 1, "",
     Scope::kInverter},
    {Field::kAlarmCode, "alarm_code", 28, 2, Encoding::kUnsigned, 1, "", Scope::kInverter},
    {Field::kAlarmCount, "alarm_count", 30, 2, Encoding::kUnsigned, 1, "", Scope::kInverter},
    {Field::kLinkStatus, "link_status", 32, 1, Encoding::kUnsigned, 1, "", Scope::kInverter},
}};

constexpr const FieldSpec& field_spec(Field field) {
  return kPortBlockMap[static_cast<std::size_t>(field)];
}

namespace detail {
constexpr bool map_is_ordered_and_fits() {
  for (std::size_t i = 0; i < kPortBlockMap.size(); ++i) {
    const auto& spec = kPortBlockMap[i];
    if (static_cast<std::size_t>(spec.field) != i) return false;
    if (spec.offset + spec.width > kPortBlockBytes) return false;
    if (spec.encoding != Encoding::kHexBytes && spec.width > 4) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::map_is_ordered_and_fits(), "kPortBlockMap out of order or out of range");

// Inverter families (serial prefix -> type, PV current scale): smiles/core/family.h.

}  // namespace smiles::protocol
