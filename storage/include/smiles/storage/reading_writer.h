// Stores polls permanently. Idempotent: writing the same readings again (a spool
// replay, a retried batch) adds no rows.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "smiles/core/reading.h"
#include "smiles/storage/connection_pool.h"
#include "smiles/storage/production_rules.h"

namespace smiles::storage {

// Where readings go. The bridge's poll loop writes through this interface; when
// write() throws, the readings were not stored and the caller must spool them.
class ReadingSink {
 public:
  virtual ~ReadingSink() = default;
  virtual void write(std::span<const DtuReading> readings) = 0;
};

// Thread-safe (each write uses its own pooled connection).
//
// production_cache rules: total never decreases; readings of unlinked inverters or
// with a zero total never replace a good value; "today" is the largest value seen
// in the current production day and restarts when a reading of a later production
// day arrives (the day begins at reset_hour in timezone).
class ReadingWriter final : public ReadingSink {
 public:
  // `energy_history`: keep energy_days and power_5min (always, but for bench/
  // storage_bench measuring what keeping them costs).
  ReadingWriter(ConnectionPool& pool, ProductionRules rules, bool energy_history = true);

  // Throws DatabaseUnavailable (connectivity: spool and retry later) or
  // StorageError (the database refused the data).
  void write(std::span<const DtuReading> readings) override;

 private:
  ConnectionPool& pool_;
  ProductionRules rules_;
  bool energy_history_;
};

}  // namespace smiles::storage
