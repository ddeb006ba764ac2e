#include "import_verify.h"

#include <stdexcept>

#include "checksums.h"
#include "smiles/storage/schema.h"

namespace smiles::storage::verify {

namespace {

// How a table is compared: the row's key and its other values, as expressions over
// a table alias. system_metrics has no key but its identity, which holds every value.
using Columns = std::vector<std::string> (*)(const std::string& alias);

struct Comparison {
  std::string table;
  Columns key;
  Columns values;
};

template <std::size_t N>
std::vector<std::string> prefixed(const std::string& alias,
                                  const std::array<std::string_view, N>& columns) {
  std::vector<std::string> out;
  out.reserve(N);
  for (auto c : columns) out.push_back(alias + ".\"" + std::string(c) + "\"");
  return out;
}

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
      {"inverters", [](const std::string& a) { return std::vector{a + ".serial_number"}; },
       [](const std::string& a) {
         return std::vector{a + ".inverter_type", a + ".dtu_name", a + ".metadata"};
       }},
      {"inverter_data",
       [](const std::string& a) { return prefixed(a, schema::kInverterKeyColumns); },
       [](const std::string& a) { return prefixed(a, schema::kInverterValueColumns); }},
      {"port_data", [](const std::string& a) { return prefixed(a, schema::kPortKeyColumns); },
       [](const std::string& a) { return prefixed(a, schema::kPortValueColumns); }},
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

}  // namespace

ShadowTables::ShadowTables(pqxx::connection& conn, std::vector<std::string> names)
    : conn_(conn), names_(std::move(names)) {
  pqxx::work tx(conn_);
  for (const auto& t : names_) {
    tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
    tx.exec0("CREATE TEMP TABLE " + t + " (LIKE public." + t + " INCLUDING ALL)");
  }
  tx.commit();
}

ShadowTables::~ShadowTables() {
  try {
    pqxx::nontransaction tx(conn_);
    for (const auto& t : names_) tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
  } catch (const std::exception&) {  // the session is going anyway
  }
}

VerifyTable compare_table(pqxx::transaction_base& tx, const std::string& table) {
  const Comparison* found = nullptr;
  for (const auto& c : comparisons()) {
    if (c.table == table) found = &c;
  }
  if (found == nullptr) throw std::logic_error("no comparison for table " + table);
  const Comparison& c = *found;
  const std::string s = "pg_temp." + c.table + " s";
  const std::string d = "public." + c.table + " d";
  const auto key_match = all_match(c.key("d"), c.key("s"), "=");
  const auto value_match = all_match(c.values("d"), c.values("s"), "IS NOT DISTINCT FROM");
  const auto counts = tx.exec1("SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " +
                               d + " WHERE " + key_match + " AND " + value_match +
                               ")), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " + d + " WHERE " +
                               key_match + ")) FROM " + s);
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
  return t;
}

}  // namespace smiles::storage::verify
