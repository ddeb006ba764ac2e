// Portable export / import of a schema-v2 database without pg_dump: one CSV file
// per table (PostgreSQL's own CSV, header line first) plus manifest.json with the
// schema version, and per table the columns, row count, a checksum of the file and
// an order-independent checksum of the rows' contents.
//
// export_archive reads one consistent snapshot. import_archive checks the manifest
// and every file before writing anything, then loads each table in one transaction
// through a staging table with ON CONFLICT DO NOTHING, so it is idempotent and a run
// killed part-way can simply be repeated; the rows' checksum is compared with the
// manifest before a table is committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "smiles/storage/database_config.h"

namespace smiles::storage {

inline constexpr int kArchiveFormatVersion = 1;
inline constexpr const char* kArchiveManifest = "manifest.json";

struct ArchiveTable {
  std::string name;
  std::string file;
  std::vector<std::string> columns;
  std::uint64_t rows = 0;
  std::string file_checksum;     // FNV-1a 64 of the file's bytes, 16 hex digits
  std::string content_checksum;  // computed by PostgreSQL over the rows
};

struct ArchiveManifest {
  int format_version = kArchiveFormatVersion;
  int schema_version = 0;
  std::string created_at;  // ISO-8601 UTC
  std::vector<ArchiveTable> tables;
};

struct ExportReport {
  ArchiveManifest manifest;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

// `dir` must not exist or be empty. The manifest is written last, so a directory
// without one is an unfinished export. Throws DatabaseUnavailable, StorageError,
// IoError.
ExportReport export_archive(const DatabaseConfig& config, const std::filesystem::path& dir);

// Reads and checks manifest.json (format, schema version, files and their
// checksums). Throws SourceRefused.
ArchiveManifest read_archive(const std::filesystem::path& dir, int latest_schema_version);

struct ArchiveImportTable {
  std::string name;
  std::uint64_t rows = 0;             // in the archive
  std::uint64_t imported = 0;         // new rows
  std::uint64_t already_present = 0;  // equal rows were there before
  std::uint64_t differing = 0;        // the key was there with other values (kept)
  double seconds = 0;
};

struct ArchiveImportReport {
  std::vector<ArchiveImportTable> tables;
};

// The destination schema must be current. Throws SourceRefused before writing when
// the archive does not check out, StorageError when a table's rows do not match
// the manifest once loaded (that table is rolled back).
ArchiveImportReport import_archive(const DatabaseConfig& config, const std::filesystem::path& dir,
                                   int latest_schema_version);

}  // namespace smiles::storage
