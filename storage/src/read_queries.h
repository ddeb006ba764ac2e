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

// Energy per period. $1 from, $2 to (dates, widened to whole periods), $3 serial or
// NULL, $4 'day' | 'month' | 'year'. Closed days from energy_days (by day) or
// energy_months (by month and year), the open day of each port from production_cache;
// every period of the range appears, 0 when empty.
inline const std::string& energy() {
  static const std::string q = R"sql(
WITH b AS (
  SELECT date_trunc($4, $1::date::timestamp)::date AS lo,
         (date_trunc($4, $2::date::timestamp) + ('1 ' || $4)::interval)::date AS hi
), d AS (
  SELECT e.production_day AS day, e.wh FROM energy_days e, b
   WHERE $4 = 'day' AND e.production_day >= b.lo AND e.production_day < b.hi
     AND ($3::text IS NULL OR e.serial_number = $3)
  UNION ALL
  SELECT m.month, m.wh FROM energy_months m, b
   WHERE $4 <> 'day' AND m.month >= b.lo AND m.month < b.hi
     AND ($3::text IS NULL OR m.serial_number = $3)
  UNION ALL
  SELECT c.production_day, c.today_production FROM production_cache c, b
   WHERE c.production_day >= b.lo AND c.production_day < b.hi
     AND ($3::text IS NULL OR c.serial_number = $3)
), g AS (
  SELECT date_trunc($4, day::timestamp) AS s, sum(wh) AS wh FROM d GROUP BY 1
)
SELECT to_char(s.s, 'YYYY-MM-DD'), coalesce(g.wh, 0)::bigint
FROM b, generate_series(b.lo::timestamp, b.hi::timestamp - interval '1 day', ('1 ' || $4)::interval) AS s(s)
LEFT JOIN g ON g.s = s.s
ORDER BY s.s)sql";
  return q;
}

// Local midnight of date $1 in zone $2 and of the next day, as microseconds.
inline const std::string& day_bounds() {
  static const std::string q = "SELECT " + us("($1::date::timestamp AT TIME ZONE $2)") + ", " +
                               us("(($1::date + 1)::timestamp AT TIME ZONE $2)");
  return q;
}

// Mean power per inverter and step. $1 from, $2 to (timestamptz), $3 step seconds,
// $4 serial or NULL. Steps count from $1.
inline const std::string& power() {
  static const std::string q =
      "SELECT serial_number, " +
      us("$1::timestamptz + make_interval(secs => floor(extract(epoch FROM bucket - "
         "$1::timestamptz) / $3) * $3)") +
      " AS t, sum(sum_w) / sum(samples) FROM power_5min WHERE bucket >= $1 AND bucket < $2 "
      "AND samples > 0 AND ($4::text IS NULL OR serial_number = $4) GROUP BY 1, 2 ORDER BY 1, 2";
  return q;
}

}  // namespace smiles::storage::queries
