// Durable, bounded, append-only spool for readings that could not be stored.
//
// File format: records of [magic "SMSP" | u32 length | u32 CRC-32 of payload |
// payload], little-endian; the payload is the reading as JSON. append() returns
// only after the record is fsync'd. On open, a torn last record (a crash mid-append)
// is cut off; a damaged record in the middle is skipped by resynchronising on the
// next magic. Thread-safe: appends go on while a replay writes to the database (the
// replay reads the oldest records, writes them, then moves its start past them; the
// file is emptied once the replay has caught up with the appends).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "smiles/core/reading.h"
#include "smiles/storage/reading_writer.h"

namespace smiles::storage {

struct SpoolOptions {
  std::filesystem::path path;                      // e.g. $DATA_DIR/spool.bin
  std::uint64_t max_bytes = 256ULL * 1024 * 1024;  // appends beyond this are dropped
};

struct SpoolStats {
  std::uint64_t bytes = 0;            // current file size
  std::uint64_t readings = 0;         // readings waiting in the file
  std::uint64_t appended = 0;         // since start
  std::uint64_t replayed = 0;         // since start
  std::uint64_t dropped = 0;          // refused at the size bound, since start
  std::uint64_t damaged_records = 0;  // torn or corrupt records skipped, since start
};

class Spool {
 public:
  // Creates the file (and its directory) if needed; scans and repairs an existing one.
  // Throws IoError when the file cannot be opened.
  explicit Spool(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Durably appends one reading. Returns false (and counts a drop) when the record
  // would take the file past max_bytes. Throws IoError when the disk fails.
  bool append(const DtuReading& reading);

  // Writes the oldest `batch` readings to `sink` and drops them from the spool;
  // returns how many records it took (0 when the spool is empty). The lock that appends and stats()
  // take is not held while the sink writes. If the sink throws, the spool keeps those
  // readings (a sink that wrote part of them sees them again: replay is idempotent)
  // and the exception propagates. One replay runs at a time.
  std::size_t replay_batch(ReadingSink& sink, std::size_t batch = 200);
  // replay_batch() until the spool is empty; returns the readings replayed.
  std::uint64_t replay(ReadingSink& sink, std::size_t batch = 200);

  [[nodiscard]] SpoolStats stats() const;
  [[nodiscard]] const std::filesystem::path& path() const { return options_.path; }

 private:
  struct Scan {
    std::uint64_t good_end = 0;  // offset after the last intact record
    std::uint64_t records = 0;
    std::uint64_t damaged = 0;
  };
  // Calls visit(payload) for each intact record from `from` (a record start) up to
  // `size`, at most `max_records` of them.
  template <typename Visit>
  Scan scan(Visit&& visit, std::uint64_t from, std::uint64_t size, std::uint64_t max_records) const;

  SpoolOptions options_;
  int fd_ = -1;
  std::mutex replay_mutex_;  // one replay at a time
  mutable std::mutex mutex_;
  std::uint64_t head_ = 0;  // offset of the oldest record not replayed yet
  SpoolStats stats_;
};

// The record payload codec, exposed for tests and tools.
std::string encode_reading(const DtuReading& reading);
DtuReading decode_reading(std::string_view payload);  // throws DataError
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

}  // namespace smiles::storage
