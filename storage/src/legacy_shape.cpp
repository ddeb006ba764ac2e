#include "legacy_shape.h"

#include <algorithm>
#include <string_view>

#include "legacy_sql.h"
#include "smiles/core/error.h"

namespace smiles::storage::legacy {

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

namespace {

using Names = std::vector<std::string_view>;

// information_schema's type names, per dialect and kind.
struct TypeNames {
  Names text, integer, number, time, json;
};

const TypeNames& type_names(Dialect dialect) {
  static const TypeNames postgres{{"text", "character varying", "character"},
                                  {"smallint", "integer", "bigint"},
                                  {"real", "double precision", "numeric"},
                                  {"timestamp without time zone", "timestamp with time zone"},
                                  {"json", "jsonb"}};
  // DATETIME holds no zone (which was meant is unknown); MariaDB's JSON is LONGTEXT.
  static const TypeNames mysql{{"varchar", "char", "text", "mediumtext", "longtext", "tinytext"},
                               {"int", "bigint", "smallint", "mediumint", "tinyint"},
                               {"float", "double", "decimal"},
                               {"timestamp"},
                               {"json"}};
  return dialect == Dialect::kMysql ? mysql : postgres;
}

bool one_of(const Names& names, const std::string& type) {
  return std::find(names.begin(), names.end(), type) != names.end();
}

}  // namespace

bool accepts(Kind kind, const std::string& type, Dialect dialect) {
  const auto& n = type_names(dialect);
  switch (kind) {
    case Kind::kText:
      return one_of(n.text, type);
    case Kind::kInteger:
      return one_of(n.integer, type);
    case Kind::kNumber:
      return one_of(n.integer, type) || one_of(n.number, type);
    case Kind::kTime:
      return one_of(n.time, type);
    case Kind::kJson:
      return one_of(n.json, type) || one_of(n.text, type);
  }
  return false;
}

std::string declaration(const LegacyColumn& c, Dialect dialect) {
  if (dialect == Dialect::kPostgres) return c.ddl;
  switch (c.kind) {
    case Kind::kText:
      return "VARCHAR(255)";
    case Kind::kInteger:
      return std::string(c.name) == "id" ? "BIGINT AUTO_INCREMENT PRIMARY KEY" : "INT";
    case Kind::kNumber:
      return "FLOAT";
    case Kind::kTime:
      return "TIMESTAMP";
    case Kind::kJson:
      return "JSON";
  }
  return "";
}

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

Found find_tables(pqxx::transaction_base& tx, const std::string& schema) {
  Found f;
  for (const auto& t : legacy_tables()) {
    auto cols = columns_of(tx, schema, t.name);
    if (!cols.empty()) f.tables[t.name] = std::move(cols);
  }
  return f;
}

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

void inspect(const Found& f, LegacyPlan& plan, Dialect dialect) {
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
                                  " (the S-Miles v2 DDL declares " + c.name + " " +
                                  declaration(c, dialect) + ")");
        }
      } else if (!accepts(c.kind, col->second, dialect)) {
        plan.problems.push_back(std::string(t.name) + "." + c.name + " is " + col->second +
                                "; the S-Miles v2 DDL declares " + declaration(c, dialect));
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

}  // namespace smiles::storage::legacy
