#include "smiles/api/json_views.h"

#include <cmath>

#include "smiles/core/time.h"

namespace smiles::api {

namespace {
// Values come from fixed-point registers; trim binary noise (0.30000000000000004).
double tidy(double v) { return std::round(v * 1000.0) / 1000.0; }
}  // namespace

nlohmann::json port_json(const PortReading& port, Timestamp timestamp) {
  return {
      {"serial_number", port.serial_number},
      {"port_number", port.port_number},
      {"timestamp", format_iso8601_utc(timestamp)},
      {"pv_voltage", tidy(port.pv_voltage_v)},
      {"pv_current", tidy(port.pv_current_a)},
      {"pv_power", tidy(port.pv_power_w)},
      {"today_production", port.today_production_wh},
      {"total_production", port.total_production_wh},
  };
}

nlohmann::json inverter_json(const InverterReading& inverter, const std::string& dtu_name,
                             Timestamp timestamp) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& port : inverter.ports) ports.push_back(port_json(port, timestamp));
  return {
      {"serial_number", inverter.serial_number},
      {"dtu_name", dtu_name},
      {"inverter_type", inverter.inverter_type},
      {"timestamp", format_iso8601_utc(timestamp)},
      {"grid_voltage", tidy(inverter.grid_voltage_v)},
      {"grid_frequency", tidy(inverter.grid_frequency_hz)},
      {"temperature", tidy(inverter.temperature_c)},
      {"operating_status", inverter.operating_status},
      {"alarm_code", inverter.alarm_code},
      {"alarm_count", inverter.alarm_count},
      {"link_status", inverter.link_status},
      {"ports", std::move(ports)},
  };
}

nlohmann::json dtu_reading_json(const DtuReading& reading) {
  nlohmann::json inverters = nlohmann::json::array();
  for (const auto& inverter : reading.inverters) {
    inverters.push_back(inverter_json(inverter, reading.dtu_name, reading.timestamp));
  }
  const PlantTotals totals = plant_totals(reading);
  return {
      {"dtu_name", reading.dtu_name},
      {"dtu_serial", reading.dtu_serial},
      {"timestamp", format_iso8601_utc(reading.timestamp)},
      {"inverters", std::move(inverters)},
      {"totals",
       {{"power_w", tidy(totals.power_w)},
        {"today_wh", totals.today_wh},
        {"total_wh", totals.total_wh},
        {"total_kwh", tidy(static_cast<double>(totals.total_wh) / 1000.0)},
        {"inverters_producing", totals.inverters_producing},
        {"port_count", totals.port_count}}},
  };
}

}  // namespace smiles::api
