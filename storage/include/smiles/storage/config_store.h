// Settings the bridge keeps in the database (table config_cache: key -> jsonb), e.g.
// the WebSocket receivers Home Assistant registered, so a restart resumes pushing.
#pragma once

#include <optional>
#include <string>

#include "smiles/storage/connection_pool.h"

namespace smiles::storage {

// Keys of config_cache written by the bridge.
inline constexpr const char* kPushReceiversKey = "websocket_registrations";

class ConfigStore {
 public:
  explicit ConfigStore(ConnectionPool& pool) : pool_(pool) {}
  // The value as JSON text, nullopt when the key is absent. Throws
  // DatabaseUnavailable / StorageError.
  std::optional<std::string> get(const std::string& key);
  // Inserts or replaces. `json` must be valid JSON (PostgreSQL checks it).
  void put(const std::string& key, const std::string& json);

 private:
  ConnectionPool& pool_;
};

}  // namespace smiles::storage
