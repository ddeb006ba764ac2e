#include "smiles/storage/sqlite_v1_importer.h"

#include <pqxx/pqxx>

#include "import_verify.h"
#include "smiles/core/error.h"
#include "smiles/storage/schema.h"
#include "sqlite_file.h"
#include "sqlite_v1_load.h"
#include "sqlite_v1_source.h"

namespace smiles::storage {

using sqlite_v1::check_source_shape;
using sqlite_v1::import_file;
using sqlite_v1::set_time_zone;
using verify::compare_table;
using verify::ShadowTables;

SqliteV1Importer::SqliteV1Importer(ConnectionPool& pool, ImportOptions options)
    : pool_(pool), options_(std::move(options)) {
  if (options_.batch_rows == 0) options_.batch_rows = 1;
  if (options_.reset_hour < 0 || options_.reset_hour > 23)
    throw ConfigError("RESET_HOUR must be 0-23");
}

void SqliteV1Importer::check(const std::string& path) {
  SqliteFile file(path);
  check_source_shape(file);
}

ImportReport SqliteV1Importer::run(const std::string& path) {
  SqliteFile file(path);
  auto conn = pool_.acquire();
  set_time_zone(*conn, options_.timezone);
  return import_file(file, *conn, &pool_.config(), options_);
}

VerifyReport SqliteV1Importer::verify(const std::string& path) {
  SqliteFile file(path);
  const auto present = check_source_shape(file);
  auto conn = pool_.acquire();
  set_time_zone(*conn, options_.timezone);
  // The file goes, through the import itself, into temporary tables of the same
  // names, which shadow the real ones for this session only.
  const ShadowTables shadow(*conn,
                            {"config_cache", "production_cache", "system_metrics", "inverters"});
  ImportOptions quiet = options_;
  quiet.dry_run = false;
  quiet.on_reject = nullptr;
  quiet.on_progress = nullptr;
  import_file(file, *conn, nullptr, quiet);

  VerifyReport report;
  pqxx::nontransaction tx(*conn);
  for (const char* table : {"config_cache", "production_cache", "system_metrics"}) {
    if (std::string(table) == "system_metrics" && !present.at("metrics")) continue;
    report.tables.push_back(compare_table(tx, table));
  }
  return report;
}

}  // namespace smiles::storage
