// What the importers (SQLite v1, MySQL v2) report: rejected rows, progress, a summary
// per table, and the verify comparison of the source with the database.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace smiles::storage {

struct ImportReject {
  std::string table;
  std::int64_t rowid = 0;  // the source row's SQLite rowid or MySQL id (0: none)
  std::string reason;
  std::vector<std::string> values;  // the source row as text ("NULL" for NULL)
};

struct ImportProgress {
  std::string table;
  std::uint64_t rows_done = 0;
  std::uint64_t rows_total = 0;
  double seconds = 0;
};

struct ImportTableSummary {
  std::string table;  // the source table
  std::uint64_t read = 0;
  std::uint64_t imported = 0;
  std::uint64_t already_present = 0;  // in the database before, or a duplicate in the source
  // Rows of one poll merged into one (the Python bridge's per-port copies of
  // inverter_data, rows of one poll split over a second).
  std::uint64_t collapsed = 0;
  std::uint64_t rejected = 0;
  double seconds = 0;
  bool missing = false;  // the source has no such table (old versions lack metrics)
};

struct ImportReport {
  std::vector<ImportTableSummary> tables;
  std::uint64_t inverters_added = 0;
  bool dry_run = false;
};

struct VerifyTable {
  std::string table;
  std::uint64_t source_rows = 0;  // importable rows in the file (distinct)
  std::uint64_t found = 0;        // of those, equal rows in the database
  std::uint64_t differing = 0;    // key present with other values (kept newer data)
  std::uint64_t missing = 0;
  std::string source_checksum;    // over the importable rows, as converted
  std::string database_checksum;  // over the database's rows with their keys
};

struct VerifyReport {
  std::vector<VerifyTable> tables;
  [[nodiscard]] bool ok() const {
    for (const auto& t : tables)
      if (t.missing != 0) return false;
    return true;
  }
};

}  // namespace smiles::storage
