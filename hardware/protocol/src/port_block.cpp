#include "smiles/protocol/port_block.h"

#include <cmath>
#include <string>

#include "smiles/core/error.h"
#include "smiles/core/serial.h"

namespace smiles::protocol {

namespace {

std::int64_t read_field(std::span<const std::uint8_t> bytes, const FieldSpec& spec) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < spec.width; ++i) value = (value << 8) | bytes[spec.offset + i];
  if (spec.encoding == Encoding::kSigned) {
    const unsigned bits = spec.width * 8U;
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    if ((value & sign) != 0) return static_cast<std::int64_t>(value) - (std::int64_t{1} << bits);
  }
  return static_cast<std::int64_t>(value);
}

void write_field(std::span<std::uint8_t> bytes, const FieldSpec& spec, std::int64_t value) {
  const unsigned bits = spec.width * 8U;
  const std::int64_t lo = spec.encoding == Encoding::kSigned ? -(std::int64_t{1} << (bits - 1)) : 0;
  const std::int64_t hi = spec.encoding == Encoding::kSigned ? (std::int64_t{1} << (bits - 1)) - 1
                                                             : (std::int64_t{1} << bits) - 1;
  if (value < lo || value > hi) {
    throw DataError("value " + std::to_string(value) + " does not fit field " +
                    std::string(spec.name));
  }
  auto u = static_cast<std::uint64_t>(value);
  for (std::size_t i = spec.width; i-- > 0;) {
    bytes[spec.offset + i] = static_cast<std::uint8_t>(u & 0xFF);
    u >>= 8;
  }
}

}  // namespace

bool PortBlock::is_end_of_list() const { return is_all_zero_serial(serial_number); }

RawPortBlock decode_raw_port_block(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kPortBlockBytes) {
    throw DataError("port block must be " + std::to_string(kPortBlockBytes) + " bytes, got " +
                    std::to_string(bytes.size()));
  }
  RawPortBlock raw;
  for (const auto& spec : kPortBlockMap) {
    if (spec.encoding == Encoding::kHexBytes) {
      raw.serial_number = hex_serial(bytes.subspan(spec.offset, spec.width));
    } else {
      raw.set(spec.field, read_field(bytes, spec));
    }
  }
  return raw;
}

double scaled_value(const RawPortBlock& raw, Field field) {
  const auto& spec = field_spec(field);
  const double divisor = spec.divisor == kFamilyScaled
                             ? family_for_serial(raw.serial_number).pv_current_divisor
                             : spec.divisor;
  return static_cast<double>(raw.get(field)) / divisor;
}

PortBlock scale_port_block(const RawPortBlock& raw) {
  auto u8 = [&](Field f) { return static_cast<std::uint8_t>(raw.get(f)); };
  auto u16 = [&](Field f) { return static_cast<std::uint16_t>(raw.get(f)); };
  PortBlock b;
  b.data_type = u8(Field::kDataType);
  b.serial_number = raw.serial_number;
  b.inverter_type = std::string(family_for_serial(raw.serial_number).inverter_type);
  b.port_number = u8(Field::kPortNumber);
  b.pv_voltage_v = scaled_value(raw, Field::kPvVoltage);
  b.pv_current_a = scaled_value(raw, Field::kPvCurrent);
  b.grid_voltage_v = scaled_value(raw, Field::kGridVoltage);
  b.grid_frequency_hz = scaled_value(raw, Field::kGridFrequency);
  b.pv_power_w = scaled_value(raw, Field::kPvPower);
  b.today_production_wh = static_cast<std::uint32_t>(raw.get(Field::kTodayProduction));
  b.total_production_wh = static_cast<std::uint64_t>(raw.get(Field::kTotalProduction));
  b.temperature_c = scaled_value(raw, Field::kTemperature);
  b.operating_status = u16(Field::kOperatingStatus);
  b.alarm_code = u16(Field::kAlarmCode);
  b.alarm_count = u16(Field::kAlarmCount);
  b.link_status = u8(Field::kLinkStatus);
  return b;
}

PortBlock decode_port_block(std::span<const std::uint8_t> bytes) {
  return scale_port_block(decode_raw_port_block(bytes));
}

std::array<std::uint8_t, kPortBlockBytes> encode_port_block(const RawPortBlock& raw) {
  std::array<std::uint8_t, kPortBlockBytes> bytes{};
  for (const auto& spec : kPortBlockMap) {
    if (spec.encoding == Encoding::kHexBytes) {
      const auto serial = normalize_serial(raw.serial_number);
      if (!serial || serial->size() != std::size_t{spec.width} * 2U) {
        throw DataError("serial must be 12 hex digits: '" + raw.serial_number + "'");
      }
      for (std::size_t i = 0; i < spec.width; ++i) {
        bytes[spec.offset + i] =
            static_cast<std::uint8_t>(std::stoul(serial->substr(i * 2, 2), nullptr, 16));
      }
    } else {
      write_field(bytes, spec, raw.get(spec.field));
    }
  }
  return bytes;
}

std::string decode_dtu_serial(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kDtuSerialBytes) {
    throw DataError("DTU serial must be " + std::to_string(kDtuSerialBytes) + " bytes, got " +
                    std::to_string(bytes.size()));
  }
  return hex_serial(bytes);
}

std::vector<InverterReading> group_port_blocks(const std::vector<PortBlock>& blocks) {
  std::vector<InverterReading> inverters;
  for (const auto& block : blocks) {
    InverterReading* inverter = nullptr;
    for (auto& candidate : inverters) {
      if (candidate.serial_number == block.serial_number) {
        inverter = &candidate;
        break;
      }
    }
    if (inverter == nullptr) {
      InverterReading fresh;
      fresh.serial_number = block.serial_number;
      fresh.inverter_type = block.inverter_type;
      fresh.grid_voltage_v = block.grid_voltage_v;
      fresh.grid_frequency_hz = block.grid_frequency_hz;
      fresh.temperature_c = block.temperature_c;
      fresh.operating_status = block.operating_status;
      fresh.alarm_code = block.alarm_code;
      fresh.alarm_count = block.alarm_count;
      fresh.link_status = block.link_status;
      inverters.push_back(std::move(fresh));
      inverter = &inverters.back();
    }
    PortReading port;
    port.serial_number = block.serial_number;
    port.port_number = block.port_number;
    port.pv_voltage_v = block.pv_voltage_v;
    port.pv_current_a = block.pv_current_a;
    port.pv_power_w = block.pv_power_w;
    port.today_production_wh = block.today_production_wh;
    port.total_production_wh = block.total_production_wh;
    inverter->ports.push_back(port);
  }
  return inverters;
}

}  // namespace smiles::protocol
