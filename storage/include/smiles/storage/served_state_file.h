// The served state (every port's energy, every inverter's latest reading) in a small
// file next to the spool, so a restart without the database serves what it served
// before, never less. Written whole after every poll: a temporary file, fsync'd, then
// renamed over the old one, with a checksum so a damaged file is refused, not believed.
// Thread-safe: each DTU's poll thread saves, one save at a time (they share the
// temporary file).
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>

#include "smiles/storage/read_model.h"

namespace smiles::storage {

class ServedStateFile {
 public:
  explicit ServedStateFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Throws IoError when the file cannot be written.
  void save(const ServedState& state) const;
  // nullopt when there is no file; throws DataError naming the damage when it is not
  // one this program wrote whole.
  [[nodiscard]] std::optional<ServedState> load() const;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  mutable std::mutex save_mutex_;
};

}  // namespace smiles::storage
