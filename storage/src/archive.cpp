#include "smiles/storage/archive.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checksums.h"
#include "pg_copy.h"
#include "smiles/core/error.h"
#include "smiles/core/time.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The same text for the same rows whatever the server's or the session's defaults.
void deterministic_session(PgCopyConnection& c) {
  c.exec("SET TIME ZONE 'UTC'");
  c.exec("SET DateStyle = 'ISO, YMD'");
  c.exec("SET IntervalStyle = 'postgres'");
  c.exec("SET extra_float_digits = 1");
}

std::string column_list(PgCopyConnection& c, const std::vector<std::string>& columns,
                        const std::string& prefix = "") {
  std::string out;
  for (const auto& col : columns)
    out += (out.empty() ? "" : ", ") + prefix + c.quote_identifier(col);
  return out;
}

std::string content_checksum(PgCopyConnection& c, const std::string& from,
                             const std::vector<std::string>& columns) {
  return c.exec(rows_checksum_sql("ROW(" + column_list(c, columns, "t.") + ")::text", from + " t"));
}

std::vector<std::string> table_columns(PgCopyConnection& c, const std::string& table) {
  return c.column(
      "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' "
      "AND table_name = " +
      c.quote_literal(table) + " ORDER BY ordinal_position");
}

std::string file_checksum(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SourceRefused(path.string() + ": cannot read");
  Fnv1a64 h;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  return h.hex();
}

// How a staged row finds its counterpart: the primary key, or for system_metrics
// (no key) its name and time, which lead its identity index.
std::string lookup_match(PgCopyConnection& c, const std::string& table) {
  std::string match = c.exec(
      "SELECT string_agg(format('d.%1$I = s.%1$I', a.attname), ' AND ') FROM pg_index i JOIN "
      "pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = "
      "to_regclass(" +
      c.quote_literal("public." + table) + ") AND i.indisprimary");
  if (match.empty()) match = "d.metric_name = s.metric_name AND d.\"timestamp\" = s.\"timestamp\"";
  return match;
}

}  // namespace

ExportReport export_archive(const DatabaseConfig& config, const fs::path& dir) {
  const auto start = Clock::now();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    throw ConfigError(dir.string() + " is not empty; export into a new directory");
  }
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create " + dir.string() + ": " + ec.message());

  PgCopyConnection c(config);
  deterministic_session(c);
  c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  ExportReport report;
  report.manifest.created_at = format_iso8601_utc(WallClock::now());
  const auto version =
      c.exec("SELECT coalesce(max(version), 0) FROM " + std::string(schema::kSchemaMigrations));
  report.manifest.schema_version = std::stoi(version);
  for (const auto table_view : schema::kTables) {
    const std::string table(table_view);
    ArchiveTable t;
    t.name = table;
    t.file = table + ".csv";
    t.columns = table_columns(c, table);
    const auto tmp = dir / (t.file + ".partial");
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write " + tmp.string());
    Fnv1a64 h;
    std::uint64_t lines = 0;
    c.copy_out("COPY (SELECT " + column_list(c, t.columns) + " FROM public." +
                   c.quote_identifier(table) + ") TO STDOUT WITH (FORMAT csv, HEADER true)",
               [&](std::string_view row) {
                 out.write(row.data(), static_cast<std::streamsize>(row.size()));
                 h.update(row);
                 report.bytes += row.size();
                 ++lines;
               });
    out.close();
    if (!out) throw IoError("writing " + tmp.string() + " failed (disk full?)");
    fs::rename(tmp, dir / t.file);
    t.rows = lines - 1;  // the header
    t.file_checksum = h.hex();
    t.content_checksum = content_checksum(c, "public." + c.quote_identifier(table), t.columns);
    report.manifest.tables.push_back(t);
  }
  c.exec("COMMIT");

  nlohmann::json m{{"format", "hoymiles-smiles-archive"},
                   {"format_version", report.manifest.format_version},
                   {"schema_version", report.manifest.schema_version},
                   {"created_at", report.manifest.created_at},
                   {"tables", nlohmann::json::array()}};
  for (const auto& t : report.manifest.tables) {
    m["tables"].push_back({{"name", t.name},
                           {"file", t.file},
                           {"columns", t.columns},
                           {"rows", t.rows},
                           {"file_checksum", t.file_checksum},
                           {"content_checksum", t.content_checksum}});
  }
  {
    std::ofstream out(dir / (std::string(kArchiveManifest) + ".partial"));
    out << m.dump(2) << "\n";
    out.close();
    if (!out) throw IoError("writing the manifest failed");
  }
  fs::rename(dir / (std::string(kArchiveManifest) + ".partial"), dir / kArchiveManifest);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

ArchiveManifest read_archive(const fs::path& dir, int latest_schema_version) {
  const auto path = dir / kArchiveManifest;
  std::ifstream in(path);
  if (!in) {
    throw SourceRefused(dir.string() + ": no " + kArchiveManifest +
                        " (not an export, or an export that did not finish)");
  }
  ArchiveManifest m;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("format") != "hoymiles-smiles-archive")
      throw SourceRefused(path.string() + ": not a hoymiles-smiles archive manifest");
    m.format_version = j.at("format_version").get<int>();
    m.schema_version = j.at("schema_version").get<int>();
    m.created_at = j.at("created_at").get<std::string>();
    for (const auto& t : j.at("tables")) {
      ArchiveTable a;
      a.name = t.at("name").get<std::string>();
      a.file = t.at("file").get<std::string>();
      a.columns = t.at("columns").get<std::vector<std::string>>();
      a.rows = t.at("rows").get<std::uint64_t>();
      a.file_checksum = t.at("file_checksum").get<std::string>();
      a.content_checksum = t.at("content_checksum").get<std::string>();
      m.tables.push_back(a);
    }
  } catch (const nlohmann::json::exception& e) {
    throw SourceRefused(path.string() + ": unreadable manifest (" + e.what() + ")");
  }
  if (m.format_version != kArchiveFormatVersion) {
    throw SourceRefused(path.string() + ": archive format " + std::to_string(m.format_version) +
                        ", this binary reads format " + std::to_string(kArchiveFormatVersion));
  }
  if (m.schema_version > latest_schema_version) {
    throw SourceRefused(path.string() + ": exported from schema version " +
                        std::to_string(m.schema_version) + ", newer than this binary's " +
                        std::to_string(latest_schema_version) + " — upgrade the binary");
  }
  for (const auto& t : m.tables) {
    const bool known =
        std::find(schema::kTables.begin(), schema::kTables.end(), t.name) != schema::kTables.end();
    if (!known || t.file.find('/') != std::string::npos) {
      throw SourceRefused(path.string() + ": unknown table or file '" + t.name + "'");
    }
    const auto sum = file_checksum(dir / t.file);
    if (sum != t.file_checksum) {
      throw SourceRefused((dir / t.file).string() + ": checksum " + sum + ", the manifest says " +
                          t.file_checksum + " (the file changed or is damaged)");
    }
  }
  return m;
}

ArchiveImportReport import_archive(const DatabaseConfig& config, const fs::path& dir,
                                   int latest_schema_version) {
  const auto manifest = read_archive(dir, latest_schema_version);
  PgCopyConnection c(config);
  deterministic_session(c);
  ArchiveImportReport report;
  for (const auto& t : manifest.tables) {
    const auto start = Clock::now();
    const auto columns = table_columns(c, t.name);
    for (const auto& col : t.columns) {
      if (std::find(columns.begin(), columns.end(), col) == columns.end()) {
        throw SourceRefused(t.name + "." + col + " is in the archive but not in this database");
      }
    }
    const std::string table = "public." + c.quote_identifier(t.name);
    const std::string stage = "smiles_archive_stage";
    const auto cols = column_list(c, t.columns);
    ArchiveImportTable r;
    r.name = t.name;
    c.exec("BEGIN");
    try {
      c.exec("CREATE TEMP TABLE " + stage + " (LIKE " + table + ") ON COMMIT DROP");
      std::ifstream in(dir / t.file, std::ios::binary);
      r.rows =
          c.copy_in("COPY " + stage + " (" + cols + ") FROM STDIN WITH (FORMAT csv, HEADER true)",
                    [&](char* buf, std::size_t size) {
                      in.read(buf, static_cast<std::streamsize>(size));
                      return static_cast<std::size_t>(in.gcount());
                    });
      const auto sum = content_checksum(c, stage, t.columns);
      if (r.rows != t.rows || sum != t.content_checksum) {
        throw StorageError(t.name + ": the archive's rows do not match its manifest (" +
                           std::to_string(r.rows) + " rows, checksum " + sum +
                           "; manifest: " + std::to_string(t.rows) + " rows, checksum " +
                           t.content_checksum + "); nothing of this table was imported");
      }
      r.imported = std::stoull(c.exec("INSERT INTO " + table + " (" + cols + ") SELECT " + cols +
                                      " FROM " + stage + " ON CONFLICT DO NOTHING"));
      const auto equal = std::stoull(c.exec(
          "SELECT count(*) FROM " + stage + " s WHERE EXISTS (SELECT 1 FROM " + table +
          " d WHERE " + lookup_match(c, t.name) + " AND ROW(" + column_list(c, t.columns, "d.") +
          ") IS NOT DISTINCT FROM ROW(" + column_list(c, t.columns, "s.") + "))"));
      r.already_present = equal - r.imported;
      r.differing = r.rows - equal;
      c.exec("COMMIT");
    } catch (...) {
      try {
        c.exec("ROLLBACK");
      } catch (const Error&) {
      }
      throw;
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report.tables.push_back(r);
  }
  return report;
}

}  // namespace smiles::storage
