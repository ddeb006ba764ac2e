// Test support for the importers' end-to-end tests: their summary tables as numbers,
// and what the database holds after them.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "test_database.h"

namespace smiles::test {

// The last line of `out` whose first word is `table` and whose next are numbers: the
// import summary (read, imported, already present, rejected) or, after it, the
// verify table (in source, found, differing, missing). Empty when there is none.
inline std::vector<long> summary(const std::string& out, const std::string& table) {
  std::istringstream in(out);
  std::string line;
  std::vector<long> found;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string name;
    l >> name;
    if (name != table) continue;
    std::vector<long> values(4, -1);
    if (!(l >> values[0])) continue;  // not a table line ("inverters added: 3")
    for (std::size_t i = 1; i < values.size(); ++i) l >> values[i];
    found = values;
  }
  return found;
}

// SELECT count(*) FROM `what` (a table, or a table and a WHERE clause).
inline long count(const TestDatabase& db, const std::string& what) {
  return std::stol(db.scalar("SELECT count(*) FROM " + what));
}

// Everything a table holds, as one fingerprint.
inline std::string fingerprint(const TestDatabase& db, const std::string& table) {
  return db.scalar(
      "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY "
      "t::text)), '') FROM " +
      table + " t");
}

inline long public_tables(const TestDatabase& db) {
  return std::stol(db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
}

}  // namespace smiles::test
