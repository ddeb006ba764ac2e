// --verify of the importers, in one place: the source goes, through the import
// itself, into temporary tables of the same names, which shadow the real ones for
// one session; each is then compared with its public table by key and values, with
// counts and an order-independent checksum (checksums.h).
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "smiles/storage/import_report.h"

namespace smiles::storage::verify {

// Creates pg_temp copies (LIKE ... INCLUDING ALL) of `names` on `conn`, and drops
// them however the verify ends.
class ShadowTables {
 public:
  ShadowTables(pqxx::connection& conn, std::vector<std::string> names);
  ~ShadowTables();
  ShadowTables(const ShadowTables&) = delete;
  ShadowTables& operator=(const ShadowTables&) = delete;

 private:
  pqxx::connection& conn_;
  std::vector<std::string> names_;
};

// pg_temp.<table> (the source, as imported) against public.<table>. Tables:
// config_cache, production_cache, system_metrics, inverters, inverter_data, port_data.
VerifyTable compare_table(pqxx::transaction_base& tx, const std::string& table);

}  // namespace smiles::storage::verify
