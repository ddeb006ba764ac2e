// The copy of the old tables' rows into schema v2, shared by the adoption of a
// PostgreSQL v2 database and the import of a MySQL one.
#include "legacy_sql.h"
#include "smiles/storage/schema.h"

namespace smiles::storage::legacy {

namespace {

// INSERT ... SELECT with ON CONFLICT DO NOTHING, counting both sides in one pass.
Carried insert_counted(pqxx::transaction_base& tx, const std::string& table,
                       const std::string& columns, const std::string& select,
                       const std::string& timezone) {
  const auto r =
      tx.exec_params1("WITH src AS MATERIALIZED (" + with_tz(select) + "), ins AS (INSERT INTO " +
                          table + " (" + columns +
                          ") SELECT * FROM src ON CONFLICT DO NOTHING RETURNING 1) "
                          "SELECT (SELECT count(*) FROM src), (SELECT count(*) FROM ins)",
                      timezone);
  return {table, r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
}

}  // namespace

namespace {

struct CarrySpec {
  std::string table;
  std::string columns;
  std::string select;
};

// What each v2 table receives, as INSERT columns and a SELECT over the old tables.
std::vector<CarrySpec> carry_specs(pqxx::transaction_base& tx, const Found& f,
                                   const std::string& schema) {
  std::vector<CarrySpec> out;
  out.push_back({"inverter_data",
                 schema::column_list(schema::kInverterKeyColumns) + ", " +
                     schema::column_list(schema::kInverterValueColumns),
                 inverter_rows(tx, f, schema)});
  out.push_back({"port_data",
                 schema::column_list(schema::kPortKeyColumns) + ", " +
                     schema::column_list(schema::kPortValueColumns),
                 port_rows(tx, f, schema)});
  // Inverters: every serial met, typed from the serial when the old bridge left the
  // type empty (it always did), ports counted from the readings.
  out.push_back(
      {"inverters",
       "serial_number, dtu_name, inverter_type, port_count, first_seen, last_seen, metadata",
       "SELECT s.serial_number, nullif(l.dtu_name, ''), coalesce(nullif(l.inverter_type, ''), " +
           family_sql("s.serial_number") + "), coalesce(p.ports, 0), coalesce(least(" +
           value(f, "inverters", "first_seen") + ", r.first_t), now()), coalesce(greatest(" +
           value(f, "inverters", "last_seen") + ", r.last_t), now()), coalesce(" +
           value(f, "inverters", "metadata") + ", '{}'::jsonb) FROM (" + serials(tx, f, schema) +
           ") s LEFT JOIN " + qualified(tx, schema, "inverters") +
           " l ON l.serial_number = s.serial_number LEFT JOIN (SELECT serial_number, "
           "min(poll_time) AS first_t, max(poll_time) AS last_t FROM smiles_adopt_rows GROUP BY "
           "1) r ON r.serial_number = s.serial_number LEFT JOIN (SELECT a.serial_number, "
           "max(l.port_number) AS ports FROM smiles_adopt_rows a JOIN " +
           qualified(tx, schema, "port_data") +
           " l ON a.src = 'p' AND l.id = a.id GROUP BY 1) p ON p.serial_number = "
           "s.serial_number WHERE s.serial_number IS NOT NULL"});
  if (f.has("config_cache")) {
    out.push_back({"config_cache", "key, value, last_updated", config_rows(tx, f, schema)});
  }
  if (f.has("system_metrics")) {
    out.push_back({"system_metrics", schema::column_list(schema::kSystemMetricsColumns),
                   metric_rows(tx, f, schema)});
  }
  return out;
}

// Each table's selection, inserted (with `insert`) or only counted.
std::vector<Carried> carry(pqxx::transaction_base& tx, const Found& f, const std::string& schema,
                           const std::string& timezone, bool insert) {
  tx.exec(kAdoptionWorkMem);
  build_fallback_ids(tx, f, schema, timezone);
  build_rows(tx, f, schema, timezone);
  const auto specs = carry_specs(tx, f, schema);
  std::vector<Carried> out;
  out.reserve(specs.size());
  for (const auto& s : specs) {
    out.push_back(insert ? insert_counted(tx, s.table, s.columns, s.select, timezone)
                         : Carried{s.table, count_of(tx, s.select, timezone), 0});
  }
  return out;
}

}  // namespace

std::vector<Carried> carry_over(pqxx::transaction_base& tx, const Found& f,
                                const std::string& schema, const std::string& timezone) {
  return carry(tx, f, schema, timezone, true);
}

std::vector<Carried> count_carry(pqxx::transaction_base& tx, const Found& f,
                                 const std::string& schema, const std::string& timezone) {
  return carry(tx, f, schema, timezone, false);
}

}  // namespace smiles::storage::legacy
