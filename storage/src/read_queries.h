// The read model's SQL, in one place so tests can EXPLAIN exactly what runs. Each
// text is built once, not per request.
// Timestamps travel as microseconds since the epoch: exact and locale-free.
#pragma once

#include <string>

#include "smiles/storage/schema.h"

namespace smiles::storage::queries {

inline std::string us(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000000)::bigint";
}

inline const std::string kInverterColumns = schema::column_list(schema::kInverterValueColumns);
inline const std::string kPortColumns = schema::column_list(schema::kPortValueColumns);

// $1 serial or NULL. Latest row per inverter: one backward primary-key probe each.
inline const std::string& latest_inverters() {
  static const std::string q =
      "SELECT i.serial_number, coalesce(i.dtu_name, ''), i.inverter_type, " + us("i.first_seen") +
      ", " + us("i.last_seen") + ", " + us("d.\"timestamp\"") + ", " +
      schema::column_list(schema::kInverterValueColumns, "d.") +
      " FROM inverters i LEFT JOIN LATERAL (SELECT * FROM "
      "inverter_data x WHERE x.serial_number = i.serial_number ORDER BY x.\"timestamp\" DESC "
      "LIMIT 1) d ON true WHERE $1::text IS NULL OR i.serial_number = $1 "
      "ORDER BY i.serial_number";
  return q;
}

// $1 serial or NULL. Latest row per port.
inline const std::string& latest_ports() {
  static const std::string q =
      "SELECT i.serial_number, n.port, " + us("p.\"timestamp\"") + ", " +
      schema::column_list(schema::kPortValueColumns, "p.") +
      " FROM inverters i CROSS JOIN LATERAL generate_series(1, i.port_count) AS n(port) "
      "JOIN LATERAL (SELECT * FROM port_data x WHERE x.serial_number = i.serial_number "
      "AND x.port_number = n.port ORDER BY x.\"timestamp\" DESC LIMIT 1) p ON true "
      "WHERE $1::text IS NULL OR i.serial_number = $1 ORDER BY i.serial_number, n.port";
  return q;
}

// $1 serial, $2 since or NULL, $3 until or NULL, $4 limit.
inline const std::string& inverter_history() {
  static const std::string q = "SELECT " + us("\"timestamp\"") + ", " + kInverterColumns +
                               " FROM inverter_data WHERE serial_number = $1 "
                               "AND ($2::timestamptz IS NULL OR \"timestamp\" >= $2) "
                               "AND ($3::timestamptz IS NULL OR \"timestamp\" <= $3) "
                               "ORDER BY \"timestamp\" DESC LIMIT $4";
  return q;
}

// $1 serial, $2 port, $3 since or NULL, $4 until or NULL, $5 limit.
inline const std::string& port_history() {
  static const std::string q = "SELECT " + us("\"timestamp\"") + ", " + kPortColumns +
                               " FROM port_data WHERE serial_number = $1 AND port_number = $2 "
                               "AND ($3::timestamptz IS NULL OR \"timestamp\" >= $3) "
                               "AND ($4::timestamptz IS NULL OR \"timestamp\" <= $4) "
                               "ORDER BY \"timestamp\" DESC LIMIT $5";
  return q;
}

// Every port's energy state as the writer keeps it (core/energy.h).
inline const std::string& energy_states() {
  static const std::string q =
      "SELECT serial_number, port_number, today_production, total_production, "
      "production_day::text, " +
      us("last_updated") + ", coalesce(raw_total, total_production), offset_wh, held, " +
      us("coalesce(latest, last_updated)") +
      ", suspect_first, suspect_last, suspect_count, suspect_low FROM production_cache WHERE "
      "production_day IS NOT NULL ORDER BY serial_number, "
      "port_number";
  return q;
}

inline const std::string& reading_span() {
  static const std::string q =
      "SELECT " + us("min(\"timestamp\")") + ", " + us("max(\"timestamp\")") + " FROM port_data";
  return q;
}

}  // namespace smiles::storage::queries
