// InfluxDB line protocol of one poll cycle, with the Python bridge's measurements,
// tags and fields (Studio729/hoymiles-mqtt, hoymiles_smiles/influxdb_client.py), so
// that its users' Grafana queries keep working:
//   dtu       tags dtu_name, dtu_serial
//             fields pv_power (float, W), today_production, total_production (integer,
//             Wh), alarm_flag (boolean)
//   inverter  tags dtu_name, serial_number
//             fields grid_voltage, grid_frequency, temperature (float), operating_status,
//             alarm_code, alarm_count, link_status (integer)
//   port      tags dtu_name, port_number, serial_number
//             fields pv_voltage, pv_current, pv_power (float), today_production,
//             total_production (integer, Wh)
// Energy values are the served ones (never lower than before: zero blocks, glitches and
// counter resets are held, as in the API and /metrics). An inverter that is not linked
// (DTU upload windows, night) writes its link_status only and no port points: its zeros
// are not readings. Timestamps are the poll's, in nanoseconds. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/core/energy.h"
#include "smiles/core/reading.h"

namespace smiles::api {

struct InfluxBatch {
  std::string lines;  // each line ends with '\n'
  std::size_t points = 0;
};

// `served`: the served energy of the ports (others are ignored); a port without an
// entry writes no energy fields.
InfluxBatch influx_lines(const DtuReading& reading, const std::vector<ProductionEntry>& served);

// A tag key or value, or a field key, escaped for line protocol (commas, equals signs
// and spaces; characters line protocol cannot carry become '_').
std::string influx_escape(std::string_view text);

}  // namespace smiles::api
