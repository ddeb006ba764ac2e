#include "sqlite_v1_source.h"

#include <algorithm>
#include <vector>

#include "smiles/core/time.h"
#include "smiles/storage/errors.h"

namespace smiles::storage::sqlite_v1 {

namespace {

// The v1 tables and the columns each must have (as the S-Miles v1 bridge created them).
struct SourceTable {
  const char* name;
  std::vector<const char*> columns;
  bool required;
};
const std::vector<SourceTable>& source_tables() {
  static const std::vector<SourceTable> t{
      {"config_cache", {"key", "value", "last_updated"}, true},
      {"production_cache",
       {"serial_number", "port_number", "today_production", "total_production", "last_updated"},
       true},
      {"metrics", {"timestamp", "metric_name", "metric_value", "tags"}, false},
  };
  return t;
}

}  // namespace

std::map<std::string, bool> check_source_shape(const SqliteFile& file) {
  const auto tables = file.tables();
  const auto has = [&](const std::string& t) {
    return std::find(tables.begin(), tables.end(), t) != tables.end();
  };
  std::map<std::string, bool> present;
  for (const auto& t : source_tables()) {
    present[t.name] = has(t.name);
    if (!present[t.name]) {
      if (!t.required) continue;
      std::string found;
      for (const auto& name : tables) found += (found.empty() ? "" : ", ") + name;
      throw SourceRefused(file.path() + ": not an S-Miles v1 bridge database (no table " + t.name +
                          "; tables found: " + (found.empty() ? "none" : found) + ")");
    }
    const auto columns = file.columns(t.name);
    for (const char* c : t.columns) {
      if (std::find(columns.begin(), columns.end(), c) == columns.end()) {
        throw SourceRefused(file.path() + ": not an S-Miles v1 bridge database (table " + t.name +
                            " has no column " + c + ")");
      }
    }
  }
  return present;
}

std::optional<Iso8601Fields> naive_timestamp_fields(std::string_view s) {
  auto f = parse_iso8601_fields(s);
  if (!f || !f->has_seconds || f->has_zone || f->fraction_digits > 9) return std::nullopt;
  return f;
}

std::optional<std::string> naive_timestamp(std::string_view s) {
  if (!naive_timestamp_fields(s)) return std::nullopt;
  std::string out(s);
  out[10] = ' ';
  return out;
}

bool probe_json(std::string_view text, JsonProbe& probe) {
  // PostgreSQL's jsonb refuses \u0000, which nlohmann accepts.
  if (text.find("\\u0000") != std::string_view::npos) return false;
  try {
    return nlohmann::json::sax_parse(text, &probe);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::string as_json(std::string_view text, JsonProbe& probe) {
  if (probe_json(text, probe)) return std::string(text);
  probe = JsonProbe{};
  return nlohmann::json(std::string(text)).dump();
}

std::string display(const SqliteStatement& s, int column) {
  if (s.is_null(column)) return "NULL";
  if (s.type(column) == SQLITE_BLOB) return "<blob>";
  return std::string(s.text(column));
}

void see(SeenInverters& seen, const std::string& serial, std::string_view ts, long port) {
  see(seen[serial], ts, port);
}

void see(SeenInverter& s, std::string_view ts, long port) {
  if (s.first.empty() || ts < s.first) s.first = ts;
  if (s.last.empty() || ts > s.last) s.last = ts;
  s.max_port = std::max(s.max_port, port);
}

}  // namespace smiles::storage::sqlite_v1
