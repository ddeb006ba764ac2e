#include "smiles/storage/spooling_writer.h"

#include "smiles/core/error.h"

namespace smiles::storage {

SpoolingWriter::SpoolingWriter(ReadingSink& database, Spool& spool,
                               std::chrono::milliseconds retry_interval)
    : database_(database), spool_(spool), retry_interval_(retry_interval) {}

StoreOutcome SpoolingWriter::store(std::span<const DtuReading> readings) {
  bool direct = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    // Spooled readings wait for flush(); behind them, new ones queue in the spool.
    direct = spool_.stats().readings == 0 &&
             (!stats_.writes_failing || now - last_attempt_ >= retry_interval_);
    if (direct) last_attempt_ = now;
  }
  if (direct) {
    try {
      database_.write(readings);
      std::lock_guard lock(mutex_);
      stats_.stored += readings.size();
      stats_.writes_failing = false;
      return StoreOutcome::kStored;
    } catch (const Error& e) {
      std::lock_guard lock(mutex_);
      stats_.writes_failing = true;
      stats_.unreachable = dynamic_cast<const IoError*>(&e) != nullptr;
      stats_.last_error = e.what();
    }
  }
  return spool_all(readings);
}

StoreOutcome SpoolingWriter::spool_all(std::span<const DtuReading> readings) {
  bool all = true;
  for (const auto& r : readings) {
    std::string error;
    bool taken = false;
    try {
      taken = spool_.append(r);
      if (!taken) error = "the spool is full (SPOOL_MAX_MB)";
    } catch (const Error& e) {  // the disk refused (full, read-only, gone)
      error = e.what();
    }
    std::lock_guard lock(mutex_);
    if (taken) {
      ++stats_.spooled;
      stats_.spool_error.clear();
    } else {
      ++stats_.dropped;
      stats_.spool_error = error;
      all = false;
    }
  }
  return all ? StoreOutcome::kSpooled : StoreOutcome::kDropped;
}

std::uint64_t SpoolingWriter::flush() {
  const auto before = spool_.stats().replayed;
  try {
    spool_.replay(database_);  // in batches; appends go on meanwhile
    std::lock_guard lock(mutex_);
    if (spool_.stats().readings == 0 && spool_.stats().replayed > before) {
      stats_.writes_failing = false;
    }
  } catch (const Error& e) {  // the database is still away: the spool keeps the rest
    std::lock_guard lock(mutex_);
    stats_.writes_failing = true;
    stats_.unreachable = dynamic_cast<const IoError*>(&e) != nullptr;
    stats_.last_error = e.what();
  }
  return spool_.stats().replayed - before;
}

SpoolingWriterStats SpoolingWriter::stats() const {
  std::lock_guard lock(mutex_);
  SpoolingWriterStats s = stats_;
  s.replayed = spool_.stats().replayed;
  return s;
}

}  // namespace smiles::storage
