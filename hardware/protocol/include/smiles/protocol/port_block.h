// Pure decoding (and, for the simulator, encoding) of 40-byte PV-port blocks.
// No I/O here: bytes in, typed values out.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "smiles/core/reading.h"
#include "smiles/protocol/register_map.h"

namespace smiles::protocol {

// Raw integers of one block, indexed by Field; the serial is kept as text.
struct RawPortBlock {
  std::string serial_number;  // 12 hex digits
  std::array<std::int64_t, kFieldCount> raw{};

  [[nodiscard]] std::int64_t get(Field f) const { return raw[static_cast<std::size_t>(f)]; }
  void set(Field f, std::int64_t v) { raw[static_cast<std::size_t>(f)] = v; }
};

// One decoded block with physical units applied.
struct PortBlock {
  std::uint8_t data_type = 0;
  std::string serial_number;
  std::string inverter_type;
  std::uint8_t port_number = 0;
  double pv_voltage_v = 0;
  double pv_current_a = 0;
  double grid_voltage_v = 0;
  double grid_frequency_hz = 0;
  double pv_power_w = 0;
  std::uint32_t today_production_wh = 0;
  std::uint64_t total_production_wh = 0;
  double temperature_c = 0;
  std::uint16_t operating_status = 0;
  std::uint16_t alarm_code = 0;
  std::uint16_t alarm_count = 0;
  std::uint8_t link_status = 0;

  // A block whose serial is all zeros ends the list of ports.
  [[nodiscard]] bool is_end_of_list() const;
};

// Throws DataError unless `bytes` holds exactly kPortBlockBytes.
RawPortBlock decode_raw_port_block(std::span<const std::uint8_t> bytes);
PortBlock decode_port_block(std::span<const std::uint8_t> bytes);
// Applies the register map's scales (and the family rule for PV current).
PortBlock scale_port_block(const RawPortBlock& raw);

// Inverse of decode_raw_port_block (used by the simulator). Throws DataError if the
// serial is not 12 hex digits or a value does not fit its field.
std::array<std::uint8_t, kPortBlockBytes> encode_port_block(const RawPortBlock& raw);

// Scaled value of one field (no serial), e.g. for generic table output.
double scaled_value(const RawPortBlock& raw, Field field);

// DTU serial from the 6 bytes at 0x2000. Throws DataError on a wrong length.
std::string decode_dtu_serial(std::span<const std::uint8_t> bytes);

// Groups port blocks into inverters in order of first appearance. Inverter-level
// values (grid, temperature, status, alarms, link) come from the inverter's first block.
std::vector<InverterReading> group_port_blocks(const std::vector<PortBlock>& blocks);

}  // namespace smiles::protocol
