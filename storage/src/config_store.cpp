#include "smiles/storage/config_store.h"

#include <pqxx/pqxx>

#include "smiles/storage/errors.h"

namespace smiles::storage {

std::optional<std::string> ConfigStore::get(const std::string& key) {
  std::optional<std::string> out;
  try {
    pool_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      const auto r = tx.exec_params("SELECT value::text FROM config_cache WHERE key = $1", key);
      if (!r.empty() && !r[0][0].is_null()) out = r[0][0].as<std::string>();
    });
  } catch (const pqxx::sql_error& e) {
    throw StorageError(std::string("reading config_cache failed: ") + e.what());
  }
  return out;
}

void ConfigStore::put(const std::string& key, const std::string& json) {
  try {
    pool_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(
          "INSERT INTO config_cache (key, value, last_updated) VALUES ($1, $2::jsonb, now()) "
          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, last_updated = now()",
          key, json);
    });
  } catch (const pqxx::sql_error& e) {
    throw StorageError(std::string("writing config_cache failed: ") + e.what());
  }
}

}  // namespace smiles::storage
