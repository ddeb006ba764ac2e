// Imports the MySQL/MariaDB database of the S-Miles v2 Python bridge (DB_TYPE=mysql
// or mariadb; Studio729/hoymiles-mqtt, hoymiles_smiles/db_adapter.py,
// _get_mysql_schema) into schema v2, with the rules of the PostgreSQL adoption
// (legacy_adoption.h): the rows of one poll gathered under one time, the per-port
// copies of inverter_data collapsed to one row per inverter and poll, inverters typed
// from their serials, JSON kept, the production cache and energy history rebuilt from
// the readings.
//
// How: MySQL's TIMESTAMP columns are stored in UTC and shown in the session's zone,
// so the session runs in UTC ('+00:00'). Rows are streamed (mysql_use_result) and
// copied into a staging schema of PostgreSQL (smiles_mysql_import) in batches, each
// committed: a killed import, started again, goes on after the last staged id. Then
// one transaction carries the staged rows into the v2 tables with ON CONFLICT DO
// NOTHING and drops the staging schema, so a second run adds nothing. Memory does not
// grow with the tables. FLOAT values are read exactly (as doubles) and stored as the
// shortest decimal that reads back as the same float.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "smiles/storage/connection_pool.h"
#include "smiles/storage/import_report.h"
#include "smiles/storage/production_rules.h"

namespace smiles::storage {

// Where the MySQL database is: mysql://user:password@host:port/database (also
// mariadb://; ?socket=/path for a unix socket). User and password may be
// percent-encoded.
struct MysqlSource {
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string user;
  std::string password;
  std::string database;
  std::string socket;
};

// Throws ConfigError naming what is wrong (never echoing the password).
MysqlSource parse_mysql_url(const std::string& url);
// The source for messages: mysql://user@host:port/database (no password).
std::string describe(const MysqlSource& source);

inline constexpr const char* kMysqlStagingSchema = "smiles_mysql_import";

struct MysqlImportOptions {
  ProductionRules production;  // production day of the rebuilt cache and history
  bool dry_run = false;        // read and check everything, keep nothing
  std::size_t batch_rows = 50000;
  std::function<void(const ImportReject&)> on_reject;
  std::function<void(const ImportProgress&)> on_progress;  // about twice a second
};

// What the source holds, from its catalog (no rows read).
struct MysqlShape {
  std::string server;              // "MariaDB 10.11.6", "MySQL 8.0.36"
  std::vector<std::string> notes;  // what is not carried over
};

class MysqlV2Importer {
 public:
  MysqlV2Importer(ConnectionPool& pool, MysqlImportOptions options);

  // Connects and checks that the database is an S-Miles v2 one. Throws SourceRefused
  // (not v2, login refused, unknown database) or DatabaseUnavailable (unreachable).
  static MysqlShape check(const MysqlSource& source);

  // The schema must be current (see Migrator). Checks the source before writing
  // anything. With dry_run, everything is staged and carried in one transaction that
  // is rolled back.
  ImportReport run(const MysqlSource& source);

  // Compares the source, carried over into temporary tables, with the database:
  // counts and checksums per table. Writes nothing permanent.
  VerifyReport verify(const MysqlSource& source);

 private:
  ConnectionPool& pool_;
  MysqlImportOptions options_;
};

}  // namespace smiles::storage
