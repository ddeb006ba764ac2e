// The SQLite v1 import's writing side: each table of the file into PostgreSQL
// (rows of the small tables one by one, metrics as COPY batches, a bulk load with
// the indexes dropped into an empty table), on a connection set to the import's
// time zone.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "smiles/storage/sqlite_v1_importer.h"
#include "sqlite_file.h"

namespace smiles::storage::sqlite_v1 {

// Session set-up: naive timestamps are read in the import's time zone. Throws
// ConfigError for a zone PostgreSQL does not know.
void set_time_zone(pqxx::connection& c, const std::string& tz);

// The import proper, on a connection whose time zone is set. SqliteV1Importer::verify
// runs it too, into temporary tables that shadow the real ones.
ImportReport import_file(const SqliteFile& file, pqxx::connection& conn,
                         const ImportOptions& options);

}  // namespace smiles::storage::sqlite_v1
