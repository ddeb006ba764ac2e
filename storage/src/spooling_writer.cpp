#include "smiles/storage/spooling_writer.h"

#include "smiles/core/error.h"

namespace smiles::storage {

SpoolingWriter::SpoolingWriter(ReadingSink& database, Spool& spool)
    : database_(database), spool_(spool) {}

bool SpoolingWriter::try_replay() {
  if (spool_.stats().readings == 0) return true;
  try {
    stats_.replayed += spool_.replay(database_);
    return true;
  } catch (const Error& e) {  // the database is still away: keep the spool
    stats_.last_error = e.what();
    return false;
  }
}

StoreOutcome SpoolingWriter::store(std::span<const DtuReading> readings) {
  std::lock_guard lock(mutex_);
  if (try_replay()) {
    try {
      database_.write(readings);
      stats_.stored += readings.size();
      return StoreOutcome::kStored;
    } catch (const Error& e) {
      stats_.last_error = e.what();
    }
  }
  bool all = true;
  for (const auto& r : readings) {
    if (spool_.append(r)) {
      ++stats_.spooled;
    } else {
      ++stats_.dropped;
      all = false;
    }
  }
  return all ? StoreOutcome::kSpooled : StoreOutcome::kDropped;
}

std::uint64_t SpoolingWriter::flush() {
  std::lock_guard lock(mutex_);
  const auto before = stats_.replayed;
  try_replay();
  return stats_.replayed - before;
}

SpoolingWriterStats SpoolingWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smiles::storage
