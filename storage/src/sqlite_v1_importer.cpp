#include "smiles/storage/sqlite_v1_importer.h"

#include <pqxx/pqxx>

#include "checksums.h"
#include "smiles/core/error.h"
#include "smiles/storage/schema.h"
#include "sqlite_file.h"
#include "sqlite_v1_load.h"
#include "sqlite_v1_source.h"

namespace smiles::storage {

using sqlite_v1::check_source_shape;
using sqlite_v1::import_file;
using sqlite_v1::set_time_zone;

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
  return import_file(file, *conn, options_);
}

namespace {

// How a table of the file is compared with the database: the row's key and its
// other values, as expressions over a table alias. system_metrics has no key but
// its identity, which holds every value.
using Columns = std::vector<std::string> (*)(const std::string& alias);

struct Comparison {
  std::string table;
  Columns key;
  Columns values;
};

const std::vector<Comparison>& comparisons() {
  static const std::vector<Comparison> c{
      {"config_cache", [](const std::string& a) { return std::vector{a + ".key"}; },
       [](const std::string& a) { return std::vector{a + ".value"}; }},
      {"production_cache",
       [](const std::string& a) {
         return std::vector{a + ".serial_number", a + ".port_number"};
       },
       [](const std::string& a) {
         return std::vector{a + ".today_production", a + ".total_production", a + ".last_updated"};
       }},
      {"system_metrics",
       [](const std::string& a) {
         const auto id = schema::system_metrics_identity(a + ".");
         return std::vector<std::string>(id.begin(), id.end());
       },
       [](const std::string&) { return std::vector<std::string>{}; }},
  };
  return c;
}

// "d.x = s.x AND ..." (or "true" for no columns).
std::string all_match(const std::vector<std::string>& d, const std::vector<std::string>& s,
                      const char* op) {
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    out += (out.empty() ? "" : " AND ") + d[i] + " " + op + " " + s[i];
  }
  return out.empty() ? "true" : out;
}

// The row's text for the checksum: key and values joined.
std::string row_text(const Comparison& c, const std::string& alias) {
  std::string out;
  for (const auto& cols : {c.key(alias), c.values(alias)}) {
    for (const auto& col : cols) out += (out.empty() ? "" : ", ") + col;
  }
  return "concat_ws('|', " + out + ")";
}

// Drops the session's shadow tables however verify() ends.
struct ShadowTables {
  pqxx::connection& conn;
  std::vector<std::string> names;
  ~ShadowTables() {
    try {
      pqxx::nontransaction tx(conn);
      for (const auto& t : names) tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
    } catch (const std::exception&) {  // the session is going anyway
    }
  }
};

}  // namespace

VerifyReport SqliteV1Importer::verify(const std::string& path) {
  SqliteFile file(path);
  const auto present = check_source_shape(file);
  auto conn = pool_.acquire();
  set_time_zone(*conn, options_.timezone);
  // The file goes, through the import itself, into temporary tables of the same
  // names, which shadow the real ones for this session only.
  ShadowTables shadow{*conn, {"config_cache", "production_cache", "system_metrics", "inverters"}};
  {
    pqxx::work tx(*conn);
    for (const auto& t : shadow.names) {
      tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
      tx.exec0("CREATE TEMP TABLE " + t + " (LIKE public." + t + " INCLUDING ALL)");
    }
    tx.commit();
  }
  ImportOptions quiet = options_;
  quiet.dry_run = false;
  quiet.on_reject = nullptr;
  quiet.on_progress = nullptr;
  import_file(file, *conn, quiet);

  VerifyReport report;
  pqxx::nontransaction tx(*conn);
  for (const auto& c : comparisons()) {
    if (c.table == "system_metrics" && !present.at("metrics")) continue;
    const std::string s = "pg_temp." + c.table + " s";
    const std::string d = "public." + c.table + " d";
    const auto key_match = all_match(c.key("d"), c.key("s"), "=");
    const auto value_match = all_match(c.values("d"), c.values("s"), "IS NOT DISTINCT FROM");
    const auto counts = tx.exec1("SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " +
                                 d + " WHERE " + key_match + " AND " + value_match +
                                 ")), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " + d +
                                 " WHERE " + key_match + ")) FROM " + s);
    VerifyTable t;
    t.table = c.table;
    t.source_rows = counts[0].as<std::uint64_t>();
    t.found = counts[1].as<std::uint64_t>();
    t.differing = counts[2].as<std::uint64_t>() - t.found;
    t.missing = t.source_rows - counts[2].as<std::uint64_t>();
    t.source_checksum = tx.exec1(rows_checksum_sql(row_text(c, "s"), s))[0].as<std::string>();
    t.database_checksum = tx.exec1(rows_checksum_sql(
        row_text(c, "d"), d + " WHERE EXISTS (SELECT 1 FROM " + s + " WHERE " + key_match + ")"))[0]
                              .as<std::string>();
    report.tables.push_back(t);
  }
  return report;
}

}  // namespace smiles::storage
