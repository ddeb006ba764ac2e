// The MySQL side of the v2 import: the source's shape checked against the Python
// bridge's DDL, and each table streamed into a PostgreSQL staging table of the
// PostgreSQL v2 shape (so the adoption's SQL carries it over).
#pragma once

#include <chrono>
#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "legacy_shape.h"
#include "mysql_client.h"
#include "smiles/storage/mysql_v2_importer.h"

namespace smiles::storage::mysql_v2 {

// The v2 tables the source has (MySQL DATA_TYPEs), checked. Throws SourceRefused
// naming every difference when the database is not an S-Miles v2 one.
legacy::Found read_shape(MysqlClient& client, MysqlShape& shape);

// Creates `schema` and its staging tables (if missing) for the source's tables.
void create_staging(pqxx::transaction_base& tx, const std::string& schema,
                    const legacy::Found& source);

struct Staged {
  std::string table;
  std::uint64_t read = 0;      // rows read from MySQL in this run
  std::uint64_t rejected = 0;  // of those, not staged (reported to on_reject)
  double seconds = 0;
};

// Streams `table` into its staging table. With `commit_batches`, every batch is its
// own transaction on `conn` and a table with ids goes on after the last staged id;
// otherwise everything goes into `outer` (a dry run or verify, rolled back).
Staged stage_table(MysqlClient& client, pqxx::connection& conn, pqxx::work* outer,
                   const std::string& schema, const legacy::Found& source, const std::string& table,
                   const MysqlImportOptions& options);

}  // namespace smiles::storage::mysql_v2
