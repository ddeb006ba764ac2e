#include "reading_json.h"

namespace smiles::storage {

std::int64_t to_micros(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

Timestamp from_micros(std::int64_t us) {
  return Timestamp{std::chrono::duration_cast<Timestamp::duration>(std::chrono::microseconds{us})};
}

nlohmann::json inverter_to_json(const InverterReading& i) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : i.ports) {
    ports.push_back({p.port_number, p.pv_voltage_v, p.pv_current_a, p.pv_power_w,
                     p.today_production_wh, p.total_production_wh});
  }
  return {{"s", i.serial_number},
          {"t", i.inverter_type},
          {"v",
           {i.grid_voltage_v, i.grid_frequency_hz, i.temperature_c, i.operating_status,
            i.alarm_code, i.alarm_count, i.link_status}},
          {"p", std::move(ports)}};
}

InverterReading inverter_from_json(const nlohmann::json& j) {
  InverterReading i;
  i.serial_number = j.at("s").get<std::string>();
  i.inverter_type = j.at("t").get<std::string>();
  const auto& v = j.at("v");
  i.grid_voltage_v = v.at(0).get<double>();
  i.grid_frequency_hz = v.at(1).get<double>();
  i.temperature_c = v.at(2).get<double>();
  i.operating_status = v.at(3).get<std::uint16_t>();
  i.alarm_code = v.at(4).get<std::uint16_t>();
  i.alarm_count = v.at(5).get<std::uint16_t>();
  i.link_status = v.at(6).get<std::uint8_t>();
  for (const auto& jp : j.at("p")) {
    PortReading p;
    p.serial_number = i.serial_number;
    p.port_number = jp.at(0).get<int>();
    p.pv_voltage_v = jp.at(1).get<double>();
    p.pv_current_a = jp.at(2).get<double>();
    p.pv_power_w = jp.at(3).get<double>();
    p.today_production_wh = jp.at(4).get<std::uint32_t>();
    p.total_production_wh = jp.at(5).get<std::uint64_t>();
    i.ports.push_back(p);
  }
  return i;
}

}  // namespace smiles::storage
