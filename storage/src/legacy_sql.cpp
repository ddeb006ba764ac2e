#include "legacy_sql.h"

#include <algorithm>
#include <vector>

#include "smiles/core/family.h"
#include "smiles/storage/schema.h"

namespace smiles::storage::legacy {

namespace {

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

}  // namespace

std::string value(const Found& f, const std::string& table, const std::string& name) {
  if (!f.has(table, name)) return "NULL";
  const auto& type = f.tables.at(table).at(name);
  std::string c = "l.\"" + name + "\"";
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

std::string family_sql(const std::string& serial) {
  std::vector<const FamilyRule*> rules;
  rules.reserve(kFamilyRules.size());
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

std::string with_tz(const std::string& select) {
  return "SELECT * FROM (" + select + ") z WHERE $1::text IS NOT NULL";
}

std::int64_t count_of(pqxx::transaction_base& tx, const std::string& select,
                      const std::string& timezone) {
  return tx.exec_params1("SELECT count(*) FROM (" + with_tz(select) + ") c", timezone)[0]
      .as<std::int64_t>();
}

}  // namespace smiles::storage::legacy
