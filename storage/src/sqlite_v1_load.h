// The SQLite v1 import's writing side: each table of the file into PostgreSQL
// (rows of the small tables one by one, metrics as COPY batches, a bulk load with
// the indexes dropped into an empty table), on a connection set to the import's
// time zone.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "smiles/storage/database_config.h"
#include "smiles/storage/sqlite_v1_importer.h"
#include "sqlite_file.h"

namespace smiles::storage::sqlite_v1 {

// Session set-up: naive timestamps are read in the import's time zone. Throws
// ConfigError for a zone PostgreSQL does not know.
void set_time_zone(pqxx::connection& c, const std::string& tz);

// The import proper, on a connection whose time zone is set. With `binary` (the
// database's settings), a bulk load of metrics goes in COPY's binary form on a
// connection of its own; without, everything happens on `conn`, as for
// SqliteV1Importer::verify, which imports into temporary tables that shadow the
// real ones.
ImportReport import_file(const SqliteFile& file, pqxx::connection& conn,
                         const DatabaseConfig* binary, const ImportOptions& options);

}  // namespace smiles::storage::sqlite_v1
