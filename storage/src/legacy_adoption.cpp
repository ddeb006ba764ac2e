#include "smiles/storage/legacy_adoption.h"

#include <algorithm>
#include <array>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "production_rebuild.h"
#include "smiles/core/error.h"
#include "smiles/core/family.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

namespace {

// ---------------------------------------------------------------------------------
// The tables of the Python bridge, as its DDL declares them (db_adapter.py,
// _get_postgres_schema; persistence.py before it had the same columns).

enum class Kind { kText, kInteger, kNumber, kTime, kJson };

struct LegacyColumn {
  const char* name;
  Kind kind;
  const char* ddl;     // the declaration in the Python DDL
  bool needed = true;  // adoption cannot do without it
};

struct LegacyTable {
  const char* name;
  bool needed;  // every v2 database has it
  std::vector<LegacyColumn> columns;
};

const std::vector<LegacyTable>& legacy_tables() {
  using K = Kind;
  static const std::vector<LegacyTable> t = {
      {"inverters",
       true,
       {{"serial_number", K::kText, "TEXT PRIMARY KEY"},
        {"dtu_name", K::kText, "TEXT"},
        {"first_seen", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"},
        {"last_seen", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"},
        {"inverter_type", K::kText, "TEXT"},
        {"metadata", K::kJson, "JSONB", false}}},
      {"inverter_data",
       true,
       {{"id", K::kInteger, "BIGSERIAL PRIMARY KEY"},
        {"serial_number", K::kText, "TEXT NOT NULL"},
        {"timestamp", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"},
        {"grid_voltage", K::kNumber, "REAL"},
        {"grid_frequency", K::kNumber, "REAL"},
        {"temperature", K::kNumber, "REAL"},
        {"operating_status", K::kInteger, "INTEGER"},
        {"alarm_code", K::kInteger, "INTEGER"},
        {"alarm_count", K::kInteger, "INTEGER"},
        {"link_status", K::kInteger, "INTEGER"},
        {"raw_data", K::kJson, "JSONB", false}}},
      {"port_data",
       true,
       {{"id", K::kInteger, "BIGSERIAL PRIMARY KEY"},
        {"serial_number", K::kText, "TEXT NOT NULL"},
        {"port_number", K::kInteger, "INTEGER NOT NULL"},
        {"timestamp", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"},
        {"pv_voltage", K::kNumber, "REAL"},
        {"pv_current", K::kNumber, "REAL"},
        {"pv_power", K::kNumber, "REAL"},
        {"today_production", K::kInteger, "INTEGER"},
        {"total_production", K::kInteger, "INTEGER"},
        {"raw_data", K::kJson, "JSONB", false}}},
      {"production_cache",
       false,
       {{"serial_number", K::kText, "TEXT NOT NULL"},
        {"port_number", K::kInteger, "INTEGER NOT NULL"},
        {"today_production", K::kInteger, "INTEGER NOT NULL"},
        {"total_production", K::kInteger, "INTEGER NOT NULL"},
        {"last_updated", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"}}},
      {"config_cache",
       false,
       {{"key", K::kText, "TEXT PRIMARY KEY"},
        {"value", K::kJson, "JSONB NOT NULL"},
        {"last_updated", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"}}},
      {"system_metrics",
       false,
       {{"id", K::kInteger, "BIGSERIAL PRIMARY KEY", false},
        {"timestamp", K::kTime, "TIMESTAMP NOT NULL DEFAULT NOW()"},
        {"metric_name", K::kText, "TEXT NOT NULL"},
        {"metric_value", K::kNumber, "REAL NOT NULL"},
        {"tags", K::kJson, "JSONB"}}},
  };
  return t;
}

// The indexes its first PostgreSQL schema created (persistence.py, before MySQL
// support moved the DDL to db_adapter.py, which creates none).
constexpr std::array<const char*, 7> kPythonIndexes = {
    "idx_inverter_data_serial", "idx_inverter_data_timestamp", "idx_port_data_serial",
    "idx_port_data_timestamp",  "idx_port_data_serial_port",   "idx_metrics_timestamp",
    "idx_metrics_name"};

bool accepts(Kind kind, const std::string& type) {
  const bool text = type == "text" || type == "character varying" || type == "character";
  const bool integer = type == "smallint" || type == "integer" || type == "bigint";
  switch (kind) {
    case Kind::kText:
      return text;
    case Kind::kInteger:
      return integer;
    case Kind::kNumber:
      return integer || type == "real" || type == "double precision" || type == "numeric";
    case Kind::kTime:
      return type == "timestamp without time zone" || type == "timestamp with time zone";
    case Kind::kJson:
      return type == "json" || type == "jsonb" || text;
  }
  return false;
}

using Columns = std::map<std::string, std::string>;  // name -> information_schema data_type

Columns columns_of(pqxx::transaction_base& tx, const std::string& schema,
                   const std::string& table) {
  Columns out;
  for (const auto& row :
       tx.exec_params("SELECT column_name, data_type FROM information_schema.columns "
                      "WHERE table_schema = $1 AND table_name = $2",
                      schema, table)) {
    out[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  return out;
}

const LegacyColumn* find_column(const LegacyTable& t, const std::string& name) {
  for (const auto& c : t.columns) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

void check_timezone(pqxx::transaction_base& tx, const std::string& tz) {
  if (!tx.exec_params1("SELECT count(*) > 0 FROM pg_timezone_names WHERE name = $1", tz)[0]
           .as<bool>()) {
    throw ConfigError("time zone '" + tz +
                      "' is not known to PostgreSQL (give an IANA zone, e.g. Europe/Berlin)");
  }
}

// ---------------------------------------------------------------------------------
// SQL building blocks. Parameters: $1 the time zone of the naive timestamps; where a
// production day is computed, $2 TIMEZONE and $3 RESET_HOUR.

// What public (or the legacy schema) holds, table by table.
struct Found {
  std::map<std::string, Columns> tables;  // present tables only

  [[nodiscard]] bool has(const std::string& table) const { return tables.contains(table); }
  [[nodiscard]] bool has(const std::string& table, const std::string& column) const {
    const auto it = tables.find(table);
    return it != tables.end() && it->second.contains(column);
  }
  [[nodiscard]] bool naive(const std::string& table, const std::string& column) const {
    return has(table, column) && tables.at(table).at(column) == "timestamp without time zone";
  }
};

Found find_tables(pqxx::transaction_base& tx, const std::string& schema) {
  Found f;
  for (const auto& t : legacy_tables()) {
    auto cols = columns_of(tx, schema, t.name);
    if (!cols.empty()) f.tables[t.name] = std::move(cols);
  }
  return f;
}

// `column` of alias l as timestamptz: naive values read in $1.
std::string utc_plain(const Found& f, const std::string& table, const std::string& column) {
  if (!f.has(table, column)) return "NULL::timestamptz";
  const std::string c = "l.\"" + column + "\"";
  return f.naive(table, column) ? "(" + c + " AT TIME ZONE $1)" : c;
}

// A naive value is ambiguous when it names two instants (the repeated hour of a DST
// fall-back; one-hour shifts).
std::string ambiguous(const std::string& c) {
  const std::string u = "(" + c + " AT TIME ZONE $1)";
  return "(((" + u + " + interval '1 hour') AT TIME ZONE $1) = " + c + " OR ((" + u +
         " - interval '1 hour') AT TIME ZONE $1) = " + c + ")";
}

// The reading's instant. The rows of the repeated hour were written in order, so ids
// tell the passes apart: rows from the first id that went back in time (f.first_id,
// see kFallbackIds) take the later instant, earlier rows the earlier one.
std::string utc_reading(const Found& f, const std::string& table) {
  if (!f.naive(table, "timestamp") || !f.has(table, "id")) return utc_plain(f, table, "timestamp");
  const std::string c = "l.\"timestamp\"";
  const std::string u = "(" + c + " AT TIME ZONE $1)";
  return "CASE WHEN f.first_id IS NOT NULL AND l.id >= f.first_id AND ((" + u +
         " + interval '1 hour') AT TIME ZONE $1) = " + c + " THEN " + u +
         " + interval '1 hour' WHEN (f.first_id IS NULL OR l.id < f.first_id) AND ((" + u +
         " - interval '1 hour') AT TIME ZONE $1) = " + c + " THEN " + u +
         " - interval '1 hour' ELSE " + u + " END";
}

std::string second_pass(const Found& f, const std::string& table) {
  if (!f.naive(table, "timestamp") || !f.has(table, "id")) return "false";
  return "(f.first_id IS NOT NULL AND l.id >= f.first_id AND " + ambiguous("l.\"timestamp\"") + ")";
}

std::string fallback_join(const std::string& table) {
  return " LEFT JOIN smiles_adopt_fallback f ON f.tbl = '" + table +
         "' AND f.day = l.\"timestamp\"::date";
}

// Value of column `name` of alias l, converted to the v2 type.
std::string value(const Found& f, const std::string& table, const std::string& name) {
  if (!f.has(table, name)) return "NULL";
  const auto& type = f.tables.at(table).at(name);
  const std::string c = "l.\"" + name + "\"";
  const LegacyTable* spec = nullptr;
  for (const auto& t : legacy_tables()) {
    if (table == t.name) spec = &t;
  }
  const LegacyColumn* col = spec != nullptr ? find_column(*spec, name) : nullptr;
  if (col == nullptr) return c;
  switch (col->kind) {
    case Kind::kNumber:
      // REAL holds 230.1 as 230.100006...; its text form is the shortest exact one.
      return type == "real" ? c + "::text::float8" : c + "::float8";
    case Kind::kJson:
      return type == "jsonb" ? c : type == "json" ? c + "::jsonb" : "to_jsonb(" + c + ")";
    case Kind::kTime:
      return utc_plain(f, table, name);
    default:
      return c;
  }
}

// Inverter type from the serial: the family table of core/family.h, longest prefix
// first.
std::string family_sql(const std::string& serial) {
  std::vector<const FamilyRule*> rules;
  for (const auto& r : kFamilyRules) rules.push_back(&r);
  std::sort(rules.begin(), rules.end(), [](const FamilyRule* a, const FamilyRule* b) {
    return a->serial_prefix.size() > b->serial_prefix.size();
  });
  std::string out = "CASE";
  for (const auto* r : rules) {
    out += " WHEN " + serial + " LIKE '" + std::string(r->serial_prefix) + "%' THEN '" +
           std::string(r->inverter_type) + "'";
  }
  return out + " ELSE '" + std::string(kUnknownFamily.inverter_type) + "' END";
}

std::string qualified(pqxx::transaction_base& tx, const std::string& schema,
                      const std::string& table) {
  return tx.quote_name(schema) + "." + tx.quote_name(table);
}

// The sorts of an adoption (millions of rows, once) stay in memory up to this much
// each; the transaction's own setting, nothing else changes.
constexpr const char* kAdoptionWorkMem = "SET LOCAL work_mem = '64MB'";

// First id of each fall-back's second pass, per table and local date: the first
// ambiguous row written after a row that was more than ten minutes later on the
// naive clock.
void build_fallback_ids(pqxx::transaction_base& tx, const Found& f, const std::string& schema,
                        const std::string& timezone) {
  tx.exec(
      "CREATE TEMP TABLE smiles_adopt_fallback (tbl text, day date, first_id bigint) "
      "ON COMMIT DROP");
  for (const char* table : {"inverter_data", "port_data", "system_metrics"}) {
    if (!f.naive(table, "timestamp") || !f.has(table, "id")) continue;
    tx.exec_params(
        "INSERT INTO smiles_adopt_fallback SELECT $2, day, min(id) FROM (SELECT id, naive, "
        "naive::date AS day, max(naive) OVER (PARTITION BY naive::date ORDER BY id ROWS "
        "BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM (SELECT id, "
        "\"timestamp\" AS naive FROM " +
            qualified(tx, schema, table) + " WHERE " + ambiguous("\"timestamp\"") +
            ") a) b WHERE before > naive + interval '10 minutes' GROUP BY day",
        timezone, std::string(table));
  }
}

// Every inverter_data and port_data row with its instant and the poll it belongs to:
// the rows of one inverter less than kLegacyPollGap apart form one poll, whose time is
// that of its first row.
void build_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema,
                const std::string& timezone) {
  auto part = [&](const char* src, const char* table, const std::string& extra) {
    return std::string("SELECT '") + src + "'::text AS src, l.id, l.serial_number, " +
           utc_reading(f, table) + " AS t, " + second_pass(f, table) + " AS second_pass FROM " +
           qualified(tx, schema, table) + " l" + fallback_join(table) +
           " WHERE l.serial_number IS NOT NULL AND l.\"timestamp\" IS NOT NULL" + extra;
  };
  tx.exec(
      "CREATE TEMP TABLE smiles_adopt_rows (src text, id bigint, serial_number text, t "
      "timestamptz, second_pass boolean, poll_time timestamptz) ON COMMIT DROP");
  tx.exec_params(
      // One sort: the poll's time is the latest row that started a poll (times grow).
      "INSERT INTO smiles_adopt_rows SELECT src, id, serial_number, t, second_pass, max(t) "
      "FILTER (WHERE starts) OVER w FROM (SELECT *, coalesce(t - lag(t) OVER w > interval '" +
          std::string(kLegacyPollGap) + "', true) AS starts FROM (" +
          part("i", "inverter_data", "") + " UNION ALL " +
          part("p", "port_data", " AND l.port_number IS NOT NULL") +
          ") r WHERE $1::text IS NOT NULL WINDOW w AS (PARTITION BY serial_number ORDER BY t, "
          "src, id)) g WINDOW w AS (PARTITION BY serial_number ORDER BY t, src, id)",
      timezone);
  tx.exec("ANALYZE smiles_adopt_rows");
}

// SELECTs producing the v2 rows of each reading table from smiles_adopt_rows (one row
// per inverter and poll; one per port and poll; first written wins).
std::string inverter_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema) {
  std::string values;
  for (auto c : schema::kInverterValueColumns)
    values += ", " + value(f, "inverter_data", std::string(c));
  return "SELECT DISTINCT ON (r.serial_number, r.poll_time) r.serial_number, r.poll_time" + values +
         " FROM smiles_adopt_rows r JOIN " + qualified(tx, schema, "inverter_data") +
         " l ON l.id = r.id WHERE r.src = 'i' ORDER BY r.serial_number, r.poll_time, r.t, r.id";
}

std::string port_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema) {
  std::string values;
  for (auto c : schema::kPortValueColumns) values += ", " + value(f, "port_data", std::string(c));
  return "SELECT DISTINCT ON (r.serial_number, l.port_number, r.poll_time) r.serial_number, "
         "l.port_number, r.poll_time" +
         values + " FROM smiles_adopt_rows r JOIN " + qualified(tx, schema, "port_data") +
         " l ON l.id = r.id WHERE r.src = 'p' ORDER BY r.serial_number, l.port_number, "
         "r.poll_time, r.t, r.id";
}

// Every serial met: in inverters, in the readings, in the cache.
std::string serials(pqxx::transaction_base& tx, const Found& f, const std::string& schema) {
  std::string out = "SELECT serial_number FROM " + qualified(tx, schema, "inverters") +
                    " UNION SELECT serial_number FROM smiles_adopt_rows";
  if (f.has("production_cache")) {
    out += " UNION SELECT serial_number FROM " + qualified(tx, schema, "production_cache");
  }
  return out;
}

std::string metric_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema) {
  const bool ids = f.has("system_metrics", "id");
  return "SELECT DISTINCT t, metric_name, v, tags FROM (SELECT " +
         (ids ? utc_reading(f, "system_metrics") : utc_plain(f, "system_metrics", "timestamp")) +
         " AS t, l.metric_name, " + value(f, "system_metrics", "metric_value") + " AS v, " +
         value(f, "system_metrics", "tags") + " AS tags FROM " +
         qualified(tx, schema, "system_metrics") + " l" +
         (ids ? fallback_join("system_metrics") : std::string{}) +
         ") x WHERE t IS NOT NULL AND metric_name IS NOT NULL";
}

std::string config_rows(pqxx::transaction_base& tx, const Found& f, const std::string& schema) {
  return "SELECT DISTINCT ON (l.key) l.key, " + value(f, "config_cache", "value") + ", coalesce(" +
         value(f, "config_cache", "last_updated") + ", now()) FROM " +
         qualified(tx, schema, "config_cache") +
         " l WHERE l.key IS NOT NULL ORDER BY l.key, 3 DESC";
}

// `select` as a statement taking the time zone as $1 even when no column needs it
// (PostgreSQL refuses a parameter it cannot type).
std::string with_tz(const std::string& select) {
  return "SELECT * FROM (" + select + ") z WHERE $1::text IS NOT NULL";
}

std::int64_t count_of(pqxx::transaction_base& tx, const std::string& select,
                      const std::string& timezone) {
  return tx.exec_params1("SELECT count(*) FROM (" + with_tz(select) + ") c", timezone)[0]
      .as<std::int64_t>();
}

// ---------------------------------------------------------------------------------

std::string describe_shape(pqxx::transaction_base& tx) {
  std::string list;
  for (const char* i : kPythonIndexes) list += (list.empty() ? "" : ",") + std::string(i);
  const int indexes = tx.exec_params1(
                            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND "
                            "indexname = ANY(string_to_array($1, ','))",
                            list)[0]
                          .as<int>();
  const int fks = tx.exec1(
                        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
                        "(SELECT to_regclass('public.inverter_data') UNION "
                        "SELECT to_regclass('public.port_data'))")[0]
                      .as<int>();
  std::string shape = "S-Miles v2 Python bridge, PostgreSQL: ";
  if (indexes == static_cast<int>(kPythonIndexes.size())) {
    shape += "the schema of its persistence.py (before MySQL support), with its 7 indexes";
  } else if (indexes == 0) {
    shape += "the schema of its db_adapter.py (MySQL support and later), no secondary indexes";
  } else {
    shape +=
        "its schema with " + std::to_string(indexes) + " of the 7 indexes of its first version";
  }
  if (fks == 0) shape += ", without the foreign keys to inverters";
  return shape;
}

void inspect(const Found& f, LegacyPlan& plan) {
  for (const auto& t : legacy_tables()) {
    const auto it = f.tables.find(t.name);
    if (it == f.tables.end()) {
      if (t.needed) {
        plan.problems.push_back(std::string("table ") + t.name +
                                " is missing; every S-Miles v2 database has it");
      } else {
        plan.notes.push_back(std::string("no table ") + t.name + ": nothing to carry over");
      }
      continue;
    }
    for (const auto& c : t.columns) {
      const auto col = it->second.find(c.name);
      if (col == it->second.end()) {
        if (c.needed) {
          plan.problems.push_back(std::string(t.name) + " has no column " + c.name +
                                  " (the S-Miles v2 DDL declares " + c.name + " " + c.ddl + ")");
        }
      } else if (!accepts(c.kind, col->second)) {
        plan.problems.push_back(std::string(t.name) + "." + c.name + " is " + col->second +
                                "; the S-Miles v2 DDL declares " + c.ddl);
      }
    }
    for (const auto& [name, type] : it->second) {
      if (find_column(t, name) == nullptr) {
        plan.notes.push_back(std::string(t.name) + "." + name + " (" + type +
                             ") is not in the S-Miles v2 DDL: not carried over");
      }
    }
  }
  if (f.has("inverter_data", "raw_data") || f.has("port_data", "raw_data")) {
    plan.notes.push_back(
        "raw_data (the same values again, as JSON) and the row ids are not carried over");
  }
}

void resolve_timezone(pqxx::transaction_base& tx, const LegacyOptions& options, LegacyPlan& plan) {
  if (!options.source_timezone.empty()) {
    check_timezone(tx, options.source_timezone);
    plan.source_timezone = options.source_timezone;
    plan.source_timezone_origin = "--legacy-timezone";
  } else {
    plan.source_timezone = tx.exec1("SELECT current_setting('TimeZone')")[0].as<std::string>();
    plan.source_timezone_origin =
        "the database's TimeZone setting, in which PostgreSQL's now() wrote them";
  }
}

std::int64_t rows_in(pqxx::transaction_base& tx, const std::string& schema,
                     const std::string& table) {
  return tx.exec1("SELECT count(*) FROM " + qualified(tx, schema, table))[0].as<std::int64_t>();
}

}  // namespace

bool looks_like_legacy_v2(pqxx::transaction_base& tx) {
  return tx
      .exec1(
          "SELECT to_regclass('public.schema_migrations') IS NULL AND "
          "to_regclass('public.dtus') IS NULL AND EXISTS (SELECT 1 FROM "
          "information_schema.columns WHERE table_schema = 'public' AND table_name IN "
          "('inverter_data', 'port_data') AND column_name = 'id')")[0]
      .as<bool>();
}

LegacyPlan plan_legacy_adoption(pqxx::transaction_base& tx, const LegacyOptions& options,
                                bool count) {
  LegacyPlan plan;
  const Found f = find_tables(tx, "public");
  plan.shape = describe_shape(tx);
  inspect(f, plan);
  resolve_timezone(tx, options, plan);
  if (!count || !plan.problems.empty()) return plan;

  const std::string& tz = plan.source_timezone;
  tx.exec(kAdoptionWorkMem);
  build_fallback_ids(tx, f, "public", tz);
  build_rows(tx, f, "public", tz);
  auto table = [&](const std::string& name, std::int64_t kept) {
    plan.tables.push_back({name, rows_in(tx, "public", name), kept});
  };
  table("inverters", count_of(tx, serials(tx, f, "public"), tz));
  table("inverter_data", count_of(tx, inverter_rows(tx, f, "public"), tz));
  table("port_data", count_of(tx, port_rows(tx, f, "public"), tz));
  if (f.has("production_cache")) table("production_cache", -1);
  if (f.has("config_cache")) table("config_cache", count_of(tx, config_rows(tx, f, "public"), tz));
  if (f.has("system_metrics"))
    table("system_metrics", count_of(tx, metric_rows(tx, f, "public"), tz));
  plan.inverters_added =
      tx.exec1(
            "SELECT count(DISTINCT r.serial_number) FROM smiles_adopt_rows r WHERE NOT EXISTS "
            "(SELECT 1 FROM public.inverters i WHERE i.serial_number = r.serial_number)")[0]
          .as<std::int64_t>();
  plan.repeated_hour_rows =
      tx.exec1("SELECT count(*) FROM smiles_adopt_rows WHERE second_pass")[0].as<std::int64_t>();
  if (f.has("production_cache")) {
    plan.cache_zero_rows = tx.exec1(
                                 "SELECT count(*) FROM public.production_cache WHERE "
                                 "coalesce(total_production, 0) <= 0")[0]
                               .as<std::int64_t>();
  }
  const auto span = tx.exec1(
      "SELECT min(l.\"timestamp\")::text, max(l.\"timestamp\")::text, "
      "to_char(min(r.t) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "to_char(max(r.t) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM smiles_adopt_rows r JOIN public.port_data l ON l.id = r.id WHERE r.src = 'p'");
  if (!span[0].is_null()) {
    plan.first_naive = span[0].as<std::string>();
    plan.last_naive = span[1].as<std::string>();
    plan.first_utc = span[2].as<std::string>();
    plan.last_utc = span[3].as<std::string>();
  }
  return plan;
}

namespace {
std::string table_lines(const std::vector<LegacyTablePlan>& tables) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "    %-18s %12s %12s %12s\n", "table", "rows now", "rows after",
                "collapsed");
  out += line;
  for (const auto& t : tables) {
    if (t.kept < 0) {
      std::snprintf(line, sizeof line, "    %-18s %12lld %12s  rebuilt from the readings\n",
                    t.table.c_str(), static_cast<long long>(t.rows), "");
    } else {
      std::snprintf(line, sizeof line, "    %-18s %12lld %12lld %12lld\n", t.table.c_str(),
                    static_cast<long long>(t.rows), static_cast<long long>(t.kept),
                    static_cast<long long>(t.rows - t.kept));
    }
    out += line;
  }
  return out;
}
}  // namespace

std::vector<LegacyTablePlan> adoption_counts(pqxx::transaction_base& tx) {
  std::vector<LegacyTablePlan> out;
  for (const auto& t : legacy_tables()) {
    if (columns_of(tx, kLegacySchema, t.name).empty()) continue;
    out.push_back({t.name, rows_in(tx, kLegacySchema, t.name), rows_in(tx, "public", t.name)});
  }
  return out;
}

std::string format_adoption_counts(const std::vector<LegacyTablePlan>& tables) {
  return "adopted the S-Miles v2 database:\n" + table_lines(tables) +
         std::string("  the old tables are kept in schema ") + kLegacySchema +
         " until 'hoymiles-smiles db drop-legacy'\n";
}

std::string format_legacy_plan(const LegacyPlan& plan) {
  std::string out = "  shape: " + plan.shape + "\n";
  out += "  naive timestamps are read as " + plan.source_timezone + " local time (" +
         plan.source_timezone_origin + ")\n";
  if (!plan.tables.empty()) {
    out += "  adoption plan:\n" + table_lines(plan.tables);
    out +=
        "    (inverter_data: the Python bridge wrote one row per port of every poll; one per "
        "inverter is kept)\n";
    if (!plan.first_naive.empty()) {
      out += "  readings from " + plan.first_naive + " to " + plan.last_naive +
             " (local) = " + plan.first_utc + " to " + plan.last_utc + "\n";
    }
    if (plan.repeated_hour_rows > 0) {
      out += "  " + std::to_string(plan.repeated_hour_rows) +
             " readings were written in the repeated hour after a DST change; they keep their "
             "own instants\n";
    }
    if (plan.inverters_added > 0) {
      out += "  " + std::to_string(plan.inverters_added) +
             " inverter(s) have readings but no row in inverters: added\n";
    }
    if (plan.cache_zero_rows > 0) {
      out += "  the old production_cache holds 0 for " + std::to_string(plan.cache_zero_rows) +
             " port(s) (its last poll was a night or upload block); totals come from the "
             "readings\n";
    }
  }
  for (const auto& n : plan.notes) out += "  note: " + n + "\n";
  out += std::string("  the old tables are kept in schema ") + kLegacySchema +
         " until you drop them (see MIGRATION.md)\n";
  return out;
}

void adopt_legacy(pqxx::transaction_base& tx, const Migration& v1, const LegacyOptions& options) {
  LegacyPlan plan = plan_legacy_adoption(tx, options, false);
  if (!plan.problems.empty()) {
    std::string all;
    for (const auto& p : plan.problems) all += (all.empty() ? "" : "; ") + p;
    throw SchemaError("this S-Miles v2 database cannot be adopted, nothing was changed: " + all);
  }
  const std::string legacy = tx.quote_name(kLegacySchema);
  if (tx.exec_params1("SELECT count(*) FROM pg_namespace WHERE nspname = $1", kLegacySchema)[0]
          .as<int>() > 0) {
    throw SchemaError(std::string("schema ") + kLegacySchema +
                      " already exists (from an earlier adoption?); drop or rename it first");
  }
  tx.exec("CREATE SCHEMA " + legacy);
  for (const auto& t : legacy_tables()) {
    if (!columns_of(tx, "public", t.name).empty()) {
      tx.exec("ALTER TABLE public." + tx.quote_name(t.name) + " SET SCHEMA " + legacy);
    }
  }
  tx.exec(v1.sql);

  const Found f = find_tables(tx, kLegacySchema);
  const std::string& tz = plan.source_timezone;
  tx.exec(kAdoptionWorkMem);
  build_fallback_ids(tx, f, kLegacySchema, tz);
  build_rows(tx, f, kLegacySchema, tz);

  const std::string inverter_columns = schema::column_list(schema::kInverterKeyColumns) + ", " +
                                       schema::column_list(schema::kInverterValueColumns);
  tx.exec_params("INSERT INTO public.inverter_data (" + inverter_columns + ") " +
                     with_tz(inverter_rows(tx, f, kLegacySchema)),
                 tz);
  tx.exec_params("INSERT INTO public.port_data (" + schema::column_list(schema::kPortKeyColumns) +
                     ", " + schema::column_list(schema::kPortValueColumns) + ") " +
                     with_tz(port_rows(tx, f, kLegacySchema)),
                 tz);

  // Inverters: every serial met, typed from the serial when the old bridge left the
  // type empty (it always did), ports counted from the readings.
  tx.exec_params(
      "INSERT INTO public.inverters (serial_number, dtu_name, inverter_type, port_count, "
      "first_seen, last_seen, metadata) SELECT s.serial_number, nullif(l.dtu_name, ''), "
      "coalesce(nullif(l.inverter_type, ''), " +
          family_sql("s.serial_number") + "), coalesce(p.ports, 0), coalesce(least(" +
          value(f, "inverters", "first_seen") + ", r.first_t), now()), coalesce(greatest(" +
          value(f, "inverters", "last_seen") + ", r.last_t), now()), coalesce(" +
          value(f, "inverters", "metadata") + ", '{}'::jsonb) FROM (" +
          serials(tx, f, kLegacySchema) + ") s LEFT JOIN " +
          qualified(tx, kLegacySchema, "inverters") +
          " l ON l.serial_number = s.serial_number LEFT JOIN (SELECT serial_number, "
          "min(poll_time) AS first_t, max(poll_time) AS last_t FROM smiles_adopt_rows GROUP BY "
          "1) r ON r.serial_number = s.serial_number LEFT JOIN (SELECT serial_number, "
          "max(port_number) AS ports FROM public.port_data GROUP BY 1) p ON p.serial_number = "
          "s.serial_number WHERE s.serial_number IS NOT NULL AND $1::text IS NOT NULL",
      tz);

  // The production cache from the readings, with the served-energy model (the old
  // cache often holds the zeros of the last night). Ports the old cache knows but no
  // reading shows keep its total.
  rebuild_production_cache(tx, options.production);
  if (f.has("production_cache")) {
    const std::string when = value(f, "production_cache", "last_updated");
    tx.exec_params(
        "INSERT INTO public.production_cache (serial_number, port_number, today_production, "
        "total_production, production_day, last_updated) SELECT l.serial_number, l.port_number, "
        "0, l.total_production, " +
            production_day_sql("coalesce(" + when + ", now())", "$2", "$3") + ", coalesce(" + when +
            ", now()) FROM " + qualified(tx, kLegacySchema, "production_cache") +
            " l WHERE l.serial_number IS NOT NULL AND l.port_number IS NOT NULL AND "
            "coalesce(l.total_production, 0) > 0 AND $1::text IS NOT NULL ON CONFLICT DO NOTHING",
        tz, options.production.timezone, options.production.reset_hour);
  }

  if (f.has("config_cache")) {
    tx.exec_params("INSERT INTO public.config_cache (key, value, last_updated) " +
                       with_tz(config_rows(tx, f, kLegacySchema)),
                   tz);
  }
  if (f.has("system_metrics")) {
    tx.exec_params("INSERT INTO public.system_metrics (" +
                       schema::column_list(schema::kSystemMetricsColumns) + ") " +
                       with_tz(metric_rows(tx, f, kLegacySchema)),
                   tz);
  }
  // DTUs are named in the inverters of the old bridge (rarely: it overwrote the name
  // with NULL on every port write).
  tx.exec(
      "INSERT INTO public.dtus (dtu_name, last_seen) SELECT dtu_name, max(last_seen) "
      "FROM public.inverters WHERE dtu_name IS NOT NULL GROUP BY dtu_name "
      "ON CONFLICT DO NOTHING");
  tx.exec_params(
      "INSERT INTO public.config_cache (key, value) VALUES ('smiles_v2_adoption', "
      "jsonb_build_object('shape', $1::text, 'source_timezone', $2::text, 'adopted_at', now())) "
      "ON CONFLICT (key) DO NOTHING",
      plan.shape, tz);
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
