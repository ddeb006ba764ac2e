// JSON views of readings. Field names here are the compatibility contract with
// existing Home Assistant setups (see shared/design/api.md): add, never rename.
#pragma once

#include <nlohmann/json.hpp>

#include "smiles/core/reading.h"

namespace smiles::api {

// Port object: {serial_number, port_number, timestamp, pv_voltage, pv_current,
// pv_power, today_production, total_production} (V, A, W, Wh, Wh).
nlohmann::json port_json(const PortReading& port, Timestamp timestamp);

// Inverter object with the latest values and `ports`.
nlohmann::json inverter_json(const InverterReading& inverter, const std::string& dtu_name,
                             Timestamp timestamp);

// A whole poll: {dtu_name, dtu_serial, timestamp, inverters: [...], totals: {...}}.
nlohmann::json dtu_reading_json(const DtuReading& reading);

}  // namespace smiles::api
