#include "smiles/storage/legacy_adoption.h"

#include <algorithm>
#include <array>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "legacy_shape.h"
#include "legacy_sql.h"
#include "production_rebuild.h"
#include "smiles/core/error.h"
#include "smiles/core/family.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

using namespace legacy;  // the adoption's parts

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
  carry_over(tx, f, kLegacySchema, tz);

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
