// The S-Miles v2 PostgreSQL database as the Python bridge left it: its tables as its
// DDL declares them (db_adapter.py, _get_postgres_schema; persistence.py before it had
// the same columns), what a database holds, and the checks and notes of a plan.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "smiles/storage/legacy_adoption.h"

namespace smiles::storage::legacy {

enum class Kind { kText, kInteger, kNumber, kTime, kJson };

struct LegacyColumn {
  const char* name = "";
  Kind kind = Kind::kText;
  const char* ddl = "";  // the declaration in the Python DDL
  bool needed = true;    // adoption cannot do without it
};

struct LegacyTable {
  const char* name;
  bool needed;  // every v2 database has it
  std::vector<LegacyColumn> columns;
};

// The tables and columns of the v2 DDL.
const std::vector<LegacyTable>& legacy_tables();

// The indexes its first PostgreSQL schema created (persistence.py, before MySQL
// support moved the DDL to db_adapter.py, which creates none).
constexpr std::array<const char*, 7> kPythonIndexes = {
    "idx_inverter_data_serial", "idx_inverter_data_timestamp", "idx_port_data_serial",
    "idx_port_data_timestamp",  "idx_port_data_serial_port",   "idx_metrics_timestamp",
    "idx_metrics_name"};

using Columns = std::map<std::string, std::string>;  // name -> information_schema data_type

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

// Which database the old tables are in: PostgreSQL (adopted in place) or MySQL/MariaDB
// (imported; db_adapter.py's _get_mysql_schema).
enum class Dialect { kPostgres, kMysql };

// Whether a column's information_schema type (PostgreSQL's data_type, or MySQL's
// DATA_TYPE) holds what the DDL's `kind` does.
bool accepts(Kind kind, const std::string& type, Dialect dialect = Dialect::kPostgres);
// The column's declaration in the Python bridge's DDL of that dialect.
std::string declaration(const LegacyColumn& c, Dialect dialect);
Columns columns_of(pqxx::transaction_base& tx, const std::string& schema, const std::string& table);
const LegacyColumn* find_column(const LegacyTable& t, const std::string& name);
// Throws ConfigError for a zone PostgreSQL does not know.
void check_timezone(pqxx::transaction_base& tx, const std::string& tz);
Found find_tables(pqxx::transaction_base& tx, const std::string& schema);
// Which of the Python bridge's schemas this is ("... with its 7 indexes", ...).
std::string describe_shape(pqxx::transaction_base& tx);
// The plan's problems (what prevents adoption) and notes (what is not carried over).
void inspect(const Found& f, LegacyPlan& plan, Dialect dialect = Dialect::kPostgres);
// The zone the naive timestamps were written in: --legacy-timezone, else the
// database's TimeZone setting.
void resolve_timezone(pqxx::transaction_base& tx, const LegacyOptions& options, LegacyPlan& plan);
std::int64_t rows_in(pqxx::transaction_base& tx, const std::string& schema,
                     const std::string& table);

}  // namespace smiles::storage::legacy
