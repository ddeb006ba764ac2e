// Imports an S-Miles v1 SQLite file (the earlier Python bridge) into schema v2.
//
//   config_cache     -> config_cache     (value: JSON, or the text as a JSON string)
//   production_cache -> production_cache (production_day from last_updated)
//   metrics          -> system_metrics   (tags: JSON, NULL, or the text as a JSON string)
//   serials met      -> inverters        (type from the serial prefix)
//
// Naive timestamps are read in `timezone`. Every table is imported with ON CONFLICT
// semantics, so a second run adds nothing and a run killed at any point, started
// again, ends with exactly the rows of a clean run. metrics streams through COPY in
// batches (one transaction each): the SQLite side is read and converted on a second
// thread while the previous batch is written. Memory does not grow with the file.
//
// The source is checked completely before anything is written; a file that is not
// SQLite, not a v1 bridge database, locked by a writer, truncated or damaged is
// refused with SourceRefused. Rows that cannot be imported are reported to
// `on_reject` with the reason and counted; none is skipped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "smiles/storage/connection_pool.h"
#include "smiles/storage/import_report.h"

namespace smiles::storage {

struct ImportOptions {
  std::string timezone = "UTC";  // of the naive timestamps in the file
  int reset_hour = 0;            // RESET_HOUR: production_day of the imported cache
  bool dry_run = false;          // read and check everything, write nothing
  std::size_t batch_rows = 20000;
  // Into an empty system_metrics, a file with at least this many metrics rows is
  // loaded in one transaction with the indexes built afterwards.
  std::uint64_t bulk_min_rows = 200000;
  std::function<void(const ImportReject&)> on_reject;
  std::function<void(const ImportProgress&)> on_progress;  // about twice a second
};

class SqliteV1Importer {
 public:
  SqliteV1Importer(ConnectionPool& pool, ImportOptions options);

  // Opens and checks the file as run() does, reading no rows. Throws SourceRefused.
  static void check(const std::string& path);

  // The schema must be current (see Migrator). Throws SourceRefused before writing
  // anything, ConfigError for an unknown time zone, DatabaseUnavailable/StorageError.
  ImportReport run(const std::string& path);

  // Compares the file with the database: counts and checksums per table. Writes
  // nothing permanent (a temporary table per session).
  VerifyReport verify(const std::string& path);

 private:
  ConnectionPool& pool_;
  ImportOptions options_;
};

}  // namespace smiles::storage
