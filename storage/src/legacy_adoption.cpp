#include "smiles/storage/legacy_adoption.h"

#include <map>
#include <pqxx/pqxx>

#include "smiles/core/error.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"

namespace smiles::storage {

namespace {

// Old tables and, for each, the columns of the v2 table it feeds with the key that
// makes a row distinct.
struct TableMap {
  const char* table;
  std::vector<const char*> columns;  // v2 columns, copied when present in the old table
  std::vector<const char*> key;      // DISTINCT ON key (after conversion)
  std::vector<const char*> times;    // naive timestamp columns to convert
};

const std::vector<TableMap>& tables() {
  static const std::vector<TableMap> t = {
      {"inverters",
       {"serial_number", "dtu_name", "inverter_type", "port_count", "first_seen", "last_seen",
        "metadata"},
       {"serial_number"},
       {"first_seen", "last_seen"}},
      {"inverter_data",
       {"serial_number", "timestamp", "grid_voltage", "grid_frequency", "temperature",
        "operating_status", "alarm_code", "alarm_count", "link_status"},
       {"serial_number", "timestamp"},
       {"timestamp"}},
      {"port_data",
       {"serial_number", "port_number", "timestamp", "pv_voltage", "pv_current", "pv_power",
        "today_production", "total_production"},
       {"serial_number", "port_number", "timestamp"},
       {"timestamp"}},
      {"production_cache",
       {"serial_number", "port_number", "today_production", "total_production", "last_updated"},
       {"serial_number", "port_number"},
       {"last_updated"}},
      {"config_cache", {"key", "value", "last_updated"}, {"key"}, {"last_updated"}},
      {"system_metrics",
       {"timestamp", "metric_name", "metric_value", "tags"},
       {"timestamp", "metric_name", "metric_value", "tags"},
       {"timestamp"}},
  };
  return t;
}

struct Column {
  std::string type;  // information_schema data_type
};

std::map<std::string, Column> columns_of(pqxx::transaction_base& tx, const std::string& schema,
                                         const std::string& table) {
  std::map<std::string, Column> out;
  for (const auto& row :
       tx.exec_params("SELECT column_name, data_type FROM information_schema.columns "
                      "WHERE table_schema = $1 AND table_name = $2",
                      schema, table)) {
    out[row[0].as<std::string>()] = {row[1].as<std::string>()};
  }
  return out;
}

bool contains(const std::vector<const char*>& v, const std::string& s) {
  for (const char* x : v) {
    if (s == x) return true;
  }
  return false;
}

// SELECT list producing the v2 columns from the old table `l`: naive timestamps
// converted with the time zone ($1), missing columns as NULL, tags/values as jsonb.
std::string select_list(pqxx::transaction_base& tx, const TableMap& map,
                        const std::map<std::string, Column>& old) {
  std::string out;
  for (const char* col : map.columns) {
    if (!out.empty()) out += ", ";
    const auto it = old.find(col);
    const std::string q = tx.quote_name(col);
    if (it == old.end()) {
      out += "NULL AS " + q;
    } else if (contains(map.times, col) && it->second.type == "timestamp without time zone") {
      out += "(l." + q + " AT TIME ZONE $1) AS " + q;
    } else if (contains({"metadata", "value", "tags"}, col) && it->second.type != "jsonb") {
      // JSON kept as text by some versions: parse json, keep anything else as a string.
      out +=
          (it->second.type == "json" ? "l." + q + "::jsonb" : "to_jsonb(l." + q + ")") + " AS " + q;
    } else {
      out += "l." + q;
    }
  }
  return out;
}

std::string key_list(pqxx::transaction_base& tx, const TableMap& map) {
  std::string out;
  for (const char* k : map.key) out += (out.empty() ? "" : ", ") + tx.quote_name(k);
  return out;
}

std::string distinct_rows(pqxx::transaction_base& tx, const TableMap& map,
                          const std::map<std::string, Column>& old, const std::string& schema) {
  const std::string order = old.contains("id") ? ", id" : "";
  // Inner query converts; DISTINCT ON keeps the first row (lowest id) per key.
  return "SELECT DISTINCT ON (" + key_list(tx, map) + ") * FROM (SELECT " +
         select_list(tx, map, old) + (old.contains("id") ? ", l.id" : "") + " FROM " +
         tx.quote_name(schema) + "." + tx.quote_name(map.table) +
         " l WHERE $1::text IS NOT NULL) c ORDER BY " + key_list(tx, map) + order;
}

void check_timezone(pqxx::transaction_base& tx, const std::string& tz) {
  if (!tx.exec_params1("SELECT count(*) > 0 FROM pg_timezone_names WHERE name = $1", tz)[0]
           .as<bool>()) {
    throw ConfigError("time zone '" + tz +
                      "' is not known to PostgreSQL (set TIMEZONE or --timezone to the old "
                      "bridge's IANA zone, e.g. Europe/Berlin)");
  }
}

}  // namespace

LegacyPlan plan_legacy_adoption(pqxx::transaction_base& tx, const std::string& timezone) {
  check_timezone(tx, timezone);
  LegacyPlan plan;
  plan.timezone = timezone;
  for (const auto& map : tables()) {
    const auto old = columns_of(tx, "public", map.table);
    if (old.empty()) continue;
    LegacyTablePlan t;
    t.table = map.table;
    t.rows =
        tx.exec1("SELECT count(*) FROM public." + tx.quote_name(map.table))[0].as<std::int64_t>();
    t.kept =
        tx.exec_params1("SELECT count(*) FROM (" + distinct_rows(tx, map, old, "public") + ") d",
                        timezone)[0]
            .as<std::int64_t>();
    plan.tables.push_back(t);
    if (std::string(map.table) == "port_data" && old.contains("timestamp") && t.rows > 0) {
      const auto naive = old.at("timestamp").type == "timestamp without time zone";
      const std::string conv = naive ? " AT TIME ZONE $1" : "";
      const auto span = tx.exec_params1(
          "SELECT min(\"timestamp\")::text, max(\"timestamp\")::text, "
          "to_char(min(\"timestamp\")" +
              conv +
              " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
              "to_char(max(\"timestamp\")" +
              conv +
              " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
              "FROM public.port_data",
          timezone);
      plan.first_naive = span[0].as<std::string>();
      plan.last_naive = span[1].as<std::string>();
      plan.first_utc = span[2].as<std::string>();
      plan.last_utc = span[3].as<std::string>();
    }
  }
  return plan;
}

std::string format_legacy_plan(const LegacyPlan& plan) {
  std::string out = "adoption plan (naive timestamps read as " + plan.timezone + " local time):\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-18s %12s %12s %12s\n", "table", "rows now", "kept",
                "duplicates");
  out += line;
  for (const auto& t : plan.tables) {
    std::snprintf(line, sizeof line, "  %-18s %12lld %12lld %12lld\n", t.table.c_str(),
                  static_cast<long long>(t.rows), static_cast<long long>(t.kept),
                  static_cast<long long>(t.rows - t.kept));
    out += line;
  }
  if (!plan.first_naive.empty()) {
    out += "  readings from " + plan.first_naive + " to " + plan.last_naive +
           " (local) = " + plan.first_utc + " to " + plan.last_utc + "\n";
  }
  out += std::string("  the old tables are kept in schema ") + kLegacySchema +
         " until you drop it (see MIGRATION.md)\n";
  return out;
}

void adopt_legacy(pqxx::transaction_base& tx, const Migration& v1, const std::string& timezone,
                  int reset_hour) {
  check_timezone(tx, timezone);
  const std::string legacy = tx.quote_name(kLegacySchema);
  if (tx.exec_params1("SELECT count(*) FROM pg_namespace WHERE nspname = $1", kLegacySchema)[0]
          .as<int>() > 0) {
    throw SchemaError(std::string("schema ") + kLegacySchema +
                      " already exists (from an earlier adoption?); drop or rename it first");
  }
  tx.exec("CREATE SCHEMA " + legacy);
  std::vector<const TableMap*> present;
  for (const auto& map : tables()) {
    if (!columns_of(tx, "public", map.table).empty()) {
      tx.exec("ALTER TABLE public." + tx.quote_name(map.table) + " SET SCHEMA " + legacy);
      present.push_back(&map);
    }
  }
  tx.exec(v1.sql);
  for (const TableMap* map : present) {
    const auto old = columns_of(tx, kLegacySchema, map->table);
    std::string cols;
    for (const char* c : map->columns) cols += (cols.empty() ? "" : ", ") + tx.quote_name(c);
    std::string select =
        "SELECT " + cols + " FROM (" + distinct_rows(tx, *map, old, kLegacySchema) + ") d";
    if (std::string(map->table) == "inverters") {
      // v2 requires first/last seen; the old bridge sometimes left them empty.
      select =
          "SELECT serial_number, dtu_name, coalesce(inverter_type, 'unknown'), "
          "coalesce(port_count, 0), coalesce(first_seen, now()), coalesce(last_seen, now()), "
          "coalesce(metadata::jsonb, '{}'::jsonb) FROM (" +
          select + ") s";
    } else if (std::string(map->table) == "production_cache") {
      select =
          "SELECT serial_number, port_number, coalesce(today_production, 0), "
          "coalesce(total_production, 0), coalesce(last_updated, now()), "
          "((coalesce(last_updated, now()) AT TIME ZONE $1) - make_interval(hours => $2))::date "
          "FROM (" +
          select + ") s";
      cols += ", production_day";
    }
    const std::string insert =
        "INSERT INTO public." + tx.quote_name(map->table) + " (" + cols + ") " + select;
    if (std::string(map->table) == "production_cache") {
      tx.exec_params(insert, timezone, reset_hour);
    } else {
      tx.exec_params(insert, timezone);
    }
  }
  // DTUs are named in the inverters of the old bridge.
  tx.exec(
      "INSERT INTO public.dtus (dtu_name, last_seen) SELECT dtu_name, max(last_seen) "
      "FROM public.inverters WHERE dtu_name IS NOT NULL GROUP BY dtu_name "
      "ON CONFLICT DO NOTHING");
  tx.exec(
      "CREATE TABLE IF NOT EXISTS public.schema_migrations (version integer PRIMARY KEY, "
      "name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
      "execution_ms integer NOT NULL)");
  tx.exec_params(
      "INSERT INTO public.schema_migrations (version, name, checksum, execution_ms) "
      "VALUES ($1, $2, $3, 0)",
      v1.version, v1.name + " (adopted from S-Miles v2)", v1.checksum());
}

namespace {
bool schema_exists(pqxx::transaction_base& tx, const char* name) {
  return tx.exec_params1("SELECT count(*) FROM pg_namespace WHERE nspname = $1", name)[0]
             .as<int>() > 0;
}
}  // namespace

void rollback_adoption(pqxx::transaction_base& tx) {
  if (!schema_exists(tx, kLegacySchema)) {
    throw SchemaError(std::string("nothing to roll back: schema ") + kLegacySchema +
                      " does not exist (no adoption, or its old tables were dropped)");
  }
  if (schema_exists(tx, kRolledBackSchema)) {
    throw SchemaError(std::string("schema ") + kRolledBackSchema +
                      " exists from an earlier rollback; rename or drop it first");
  }
  const std::string aside = tx.quote_name(kRolledBackSchema);
  tx.exec("CREATE SCHEMA " + aside);
  for (const auto& row : tx.exec_params(
           "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
           "AND table_name = ANY($1::text[])",
           "{dtus,inverters,inverter_data,port_data,production_cache,config_cache,"
           "system_metrics,schema_migrations}")) {
    tx.exec("ALTER TABLE public." + tx.quote_name(row[0].as<std::string>()) + " SET SCHEMA " +
            aside);
  }
  for (const auto& row :
       tx.exec_params("SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                      kLegacySchema)) {
    tx.exec("ALTER TABLE " + tx.quote_name(kLegacySchema) + "." +
            tx.quote_name(row[0].as<std::string>()) + " SET SCHEMA public");
  }
  tx.exec("DROP SCHEMA " + tx.quote_name(kLegacySchema));
}

bool drop_legacy(pqxx::transaction_base& tx) {
  if (!schema_exists(tx, kLegacySchema)) return false;
  tx.exec("DROP SCHEMA " + tx.quote_name(kLegacySchema) + " CASCADE");
  return true;
}

}  // namespace smiles::storage
