// Write-or-spool: the policy that makes "every accepted reading is either in
// PostgreSQL or in the spool" true. Thread-safe (one write at a time).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "smiles/storage/reading_writer.h"
#include "smiles/storage/spool.h"

namespace smiles::storage {

enum class StoreOutcome { kStored, kSpooled, kDropped };

struct SpoolingWriterStats {
  std::uint64_t stored = 0;    // readings written to the database directly
  std::uint64_t spooled = 0;   // readings that went to the spool
  std::uint64_t dropped = 0;   // readings lost because the spool was full
  std::uint64_t replayed = 0;  // spooled readings later written to the database
  std::string last_error;      // why the database write last failed
};

class SpoolingWriter final : public ReadingSink {
 public:
  SpoolingWriter(ReadingSink& database, Spool& spool);

  // Replays the spool first (order is kept), then writes `readings`; whatever the
  // database does not take goes to the spool. Throws only when the spool's disk fails.
  StoreOutcome store(std::span<const DtuReading> readings);
  void write(std::span<const DtuReading> readings) override { store(readings); }
  // Tries to empty the spool into the database; returns readings replayed.
  std::uint64_t flush();

  [[nodiscard]] SpoolingWriterStats stats() const;

 private:
  bool try_replay();
  ReadingSink& database_;
  Spool& spool_;
  mutable std::mutex mutex_;
  SpoolingWriterStats stats_;
};

}  // namespace smiles::storage
