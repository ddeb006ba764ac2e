// Hand-made readings for storage tests.
#pragma once

#include <string>

#include "smiles/core/reading.h"

namespace smiles::test {

inline Timestamp utc(const char* iso) {
  int y, mo, d, h, mi, s;
  std::sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  const auto days = std::chrono::sys_days{std::chrono::year{y} / mo / d};
  return Timestamp{days.time_since_epoch()} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

// A DTU with `inverters` inverters of `ports` ports; values derive from `seed`.
inline DtuReading make_reading(Timestamp t, int inverters = 2, int ports = 2, int seed = 1,
                               const std::string& dtu = "roof") {
  DtuReading r;
  r.dtu_name = dtu;
  r.dtu_address = "tcp://10.0.0.5:502?unit=1";
  r.dtu_serial = "10F700000001";
  r.timestamp = t;
  for (int i = 0; i < inverters; ++i) {
    InverterReading inv;
    char serial[16];
    std::snprintf(serial, sizeof serial, "1161%08d", i + 1);
    inv.serial_number = serial;
    inv.inverter_type = "HM";
    inv.grid_voltage_v = 230.5;
    inv.grid_frequency_hz = 50.01;
    inv.temperature_c = -2.5 + i;
    inv.operating_status = 3;
    inv.link_status = 1;
    for (int p = 1; p <= ports; ++p) {
      PortReading port;
      port.serial_number = inv.serial_number;
      port.port_number = p;
      port.pv_voltage_v = 35.2;
      port.pv_current_a = 7.31;
      port.pv_power_w = 100.0 * seed + p;
      port.today_production_wh = static_cast<std::uint32_t>(500 * seed + p);
      port.total_production_wh = static_cast<std::uint64_t>(1'000'000 + 1000 * seed + p);
      inv.ports.push_back(port);
    }
    r.inverters.push_back(inv);
  }
  return r;
}

// Sets every port's energy counters.
inline DtuReading with_energy(DtuReading r, std::uint32_t today, std::uint64_t total,
                              std::uint8_t link = 1) {
  for (auto& inv : r.inverters) {
    inv.link_status = link;
    for (auto& p : inv.ports) {
      p.today_production_wh = today;
      p.total_production_wh = total;
    }
  }
  return r;
}

}  // namespace smiles::test
