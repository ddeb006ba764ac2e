// The v1 file's metrics table as a stream of COPY-text batches, read and converted
// on a thread of its own while the previous batch is being written.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "smiles/storage/sqlite_v1_importer.h"
#include "sqlite_v1_source.h"

namespace smiles::storage::sqlite_v1 {

// A batch of converted metrics rows as COPY text, with the source rowid of each line.
// Lines are separated, not terminated, by newlines (copy_text() ends the last one).
struct Batch {
  std::string copy_text;
  std::vector<std::int64_t> rowids;
  [[nodiscard]] std::vector<std::string_view> lines() const;
};

// The last rows read (a bounded window): the file's duplicates are mostly the same
// sample written twice in a row, dropped here before they cost the server a
// failed unique index build and a cleanup. Others are still found there.
class RecentRows {
 public:
  // True when an equal row is in the window; otherwise remembers this one.
  bool seen(std::string_view row);

 private:
  std::vector<std::string> ring_ = std::vector<std::string>(4096);
  std::unordered_set<std::string_view> set_;
  std::size_t next_ = 0;
};

// Reads metrics from SQLite on its own thread, converting rows into batches; the
// consumer takes them with next(). Bounded: at most two batches wait. Rows the
// conversion refuses go to `reject` (from the reading thread).
class MetricsReader {
 public:
  MetricsReader(const SqliteFile& file, std::size_t batch_rows,
                std::function<void(const ImportReject&)> reject);
  ~MetricsReader();
  MetricsReader(const MetricsReader&) = delete;
  MetricsReader& operator=(const MetricsReader&) = delete;

  // The next batch, or nullopt at the end. Rethrows the reader's error.
  std::optional<Batch> next();
  // Valid after next() returned nullopt.
  [[nodiscard]] std::uint64_t read() const { return read_; }
  [[nodiscard]] std::uint64_t rejected() const { return rejected_; }
  [[nodiscard]] std::uint64_t duplicates() const { return duplicates_; }
  [[nodiscard]] const SeenInverters& seen() const { return seen_; }

 private:
  // Tags repeat with every poll (one set per port and metric): each distinct text
  // is checked once, in a small direct-mapped cache.
  struct Tags {
    std::string text;  // as in the file
    std::string json;  // for the jsonb column
    std::string serial;
    long port = 0;
  };

  void produce();
  bool push(Batch&& b);
  void reject(const SqliteStatement& s, std::string reason);
  const Tags& tags_of(std::string_view text);
  void convert(const SqliteStatement& s, Batch& batch);

  const SqliteFile& file_;
  std::size_t batch_rows_;
  std::function<void(const ImportReject&)> reject_;
  // Written by the reading thread, read by the consumer for progress.
  std::atomic<std::uint64_t> read_ = 0, rejected_ = 0, duplicates_ = 0;
  RecentRows recent_;
  SeenInverters seen_;
  std::vector<Tags> tags_cache_ = std::vector<Tags>(1024);
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace smiles::storage::sqlite_v1
