// Value types shared by every layer: one poll of one DTU.
// Units are in the member names; serial numbers are 12 hex digits, never integers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace smiles {

using WallClock = std::chrono::system_clock;
using Timestamp = WallClock::time_point;

struct PortReading {
  std::string serial_number;
  int port_number = 0;  // 1-based
  double pv_voltage_v = 0;
  double pv_current_a = 0;
  double pv_power_w = 0;
  std::uint32_t today_production_wh = 0;
  std::uint64_t total_production_wh = 0;

  friend bool operator==(const PortReading&, const PortReading&) = default;
};

struct InverterReading {
  std::string serial_number;
  std::string inverter_type;  // "MI", "HM", "HMS", "HMT" or "unknown"
  double grid_voltage_v = 0;
  double grid_frequency_hz = 0;
  double temperature_c = 0;
  std::uint16_t operating_status = 0;
  std::uint16_t alarm_code = 0;
  std::uint16_t alarm_count = 0;
  std::uint8_t link_status = 0;  // 0 = not linked to the DTU
  std::vector<PortReading> ports;

  friend bool operator==(const InverterReading&, const InverterReading&) = default;
};

// Everything read from one DTU in one poll cycle; `timestamp` is taken once per cycle.
struct DtuReading {
  std::string dtu_name;
  std::string dtu_address;  // tcp://... or rtu://... as configured (may be empty)
  std::string dtu_serial;
  Timestamp timestamp{};
  std::vector<InverterReading> inverters;

  friend bool operator==(const DtuReading&, const DtuReading&) = default;
};

// Plant sums over ports of linked inverters (the DTU has no plant registers).
struct PlantTotals {
  double power_w = 0;
  std::uint64_t today_wh = 0;
  std::uint64_t total_wh = 0;
  int inverters_producing = 0;
  int port_count = 0;
};

inline PlantTotals plant_totals(const DtuReading& reading) {
  PlantTotals totals;
  for (const auto& inverter : reading.inverters) {
    totals.port_count += static_cast<int>(inverter.ports.size());
    if (inverter.link_status == 0) continue;
    double inverter_power_w = 0;
    for (const auto& port : inverter.ports) {
      inverter_power_w += port.pv_power_w;
      totals.today_wh += port.today_production_wh;
      totals.total_wh += port.total_production_wh;
    }
    totals.power_w += inverter_power_w;
    if (inverter_power_w > 0) ++totals.inverters_producing;
  }
  return totals;
}

}  // namespace smiles
