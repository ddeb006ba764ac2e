// Write-or-spool: the policy that makes "every accepted reading is either in
// PostgreSQL or in the spool" true. Thread-safe.
//
// While the database takes writes and the spool is empty, readings go straight to
// the database. Once a write fails the writer is "down": readings go to the spool at
// once (a failing or hung database costs polling nothing) until flush() has replayed
// the spool; with an empty spool a direct write is tried again at most every
// retry_interval. A reading the spool cannot take either (full, or its disk failing)
// is dropped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "smiles/storage/reading_writer.h"
#include "smiles/storage/spool.h"

namespace smiles::storage {

enum class StoreOutcome { kStored, kSpooled, kDropped };

struct SpoolingWriterStats {
  std::uint64_t stored = 0;     // readings written to the database directly
  std::uint64_t spooled = 0;    // readings that went to the spool
  std::uint64_t dropped = 0;    // readings lost: the spool was full or its disk failed
  std::uint64_t replayed = 0;   // spooled readings later written to the database
  bool writes_failing = false;  // the last database write failed (see last_error)
  bool unreachable = false;     // ... because the database could not be reached (IoError)
  std::string last_error;       // why the database write last failed
  std::string spool_error;      // why the spool last refused a reading ("" since it took one)
};

class SpoolingWriter final : public ReadingSink {
 public:
  SpoolingWriter(ReadingSink& database, Spool& spool,
                 std::chrono::milliseconds retry_interval = std::chrono::seconds{5});

  // Writes `readings` to the database or, failing that, to the spool. Never throws.
  StoreOutcome store(std::span<const DtuReading> readings);
  void write(std::span<const DtuReading> readings) override { store(readings); }
  // Replays the spool into the database in batches (store() goes on meanwhile);
  // returns readings replayed, also when the database fails part way.
  std::uint64_t flush();

  [[nodiscard]] SpoolingWriterStats stats() const;

 private:
  StoreOutcome spool_all(std::span<const DtuReading> readings);
  ReadingSink& database_;
  Spool& spool_;
  std::chrono::milliseconds retry_interval_;
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point last_attempt_{};
  SpoolingWriterStats stats_;
};

}  // namespace smiles::storage
