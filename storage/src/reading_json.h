// The compact JSON form of readings kept in local files (the spool, the served-state
// file): positional arrays, times as microseconds since the epoch. One codec, so a
// field added to a reading is added once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "smiles/core/reading.h"

namespace smiles::storage {

std::int64_t to_micros(Timestamp t);
Timestamp from_micros(std::int64_t us);

// {"s": serial, "t": type, "v": [grid V, Hz, °C, status, alarm code, alarm count, link],
//  "p": [[port, V, A, W, today Wh, total Wh], ...]}
nlohmann::json inverter_to_json(const InverterReading& inverter);
// Throws nlohmann::json::exception when `j` is not of that form.
InverterReading inverter_from_json(const nlohmann::json& j);

}  // namespace smiles::storage
