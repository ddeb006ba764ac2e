// The v1 file's metrics table as a stream of COPY batches (text, or binary for a bulk
// load), read and converted on a thread of its own while the previous batch is
// being written.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "local_time.h"
#include "smiles/storage/sqlite_v1_importer.h"
#include "sqlite_v1_source.h"

namespace smiles::storage::sqlite_v1 {

// A batch of converted metrics rows, with the source rowid of each row. COPY text:
// rows separated, not terminated, by newlines (copy_text() ends the last one).
// COPY binary: rows back to back, without the stream's header and trailer.
struct Batch {
  std::string data;
  std::vector<std::int64_t> rowids;
  std::vector<std::size_t> row_ends;  // binary only: where each row ends in data
  [[nodiscard]] std::vector<std::string_view> rows() const;
};

// A binary row of a batch, readable, for the rejects file.
std::string describe_binary_row(std::string_view row);

// The rows read lately: the file's duplicates are mostly the same sample written
// twice in a row, dropped here before they cost the server a failed unique index
// build and a cleanup. A cache of one row per slot (by the row's hash): a row is
// forgotten when a later one takes its slot; the duplicates missed here are still
// found there.
class RecentRows {
 public:
  // True when this row is the one remembered in its slot; otherwise remembers it.
  bool seen(std::string_view row);

 private:
  std::vector<std::string> slots_ = std::vector<std::string>(8192);  // a power of two
};

// Reads metrics from SQLite on its own thread, converting rows into batches; the
// consumer takes them with next(). Bounded: at most two batches wait. Rows the
// conversion refuses go to `reject` (from the reading thread).
//
// Without `binary`, batches are COPY text with the naive times. With it, COPY binary:
// its `times` turns the naive times into instants, and the rows of each instant go
// out in the order of the unique index that is built after a bulk load (tag set's
// hash, value, name), whose sort then finds them in order: a quarter of its time.
// `tags_hash` gives jsonb_hash_extended(tags, 0) of a JSON text, 0 when it cannot.
// Both are called from the reading thread only.
struct BinaryRows {
  std::unique_ptr<LocalTimeConverter> times;
  std::function<std::int64_t(std::string_view json)> tags_hash;
};

class MetricsReader {
 public:
  MetricsReader(const SqliteFile& file, std::size_t batch_rows,
                std::function<void(const ImportReject&)> reject,
                std::optional<BinaryRows> binary = std::nullopt);
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
    std::string text;                  // as in the file
    std::string json;                  // for the jsonb column
    SeenInverter* inverter = nullptr;  // in seen_, by the normalized serial; none when
                                       // absent or malformed
    long port = 0;
    std::int64_t hash = 0;  // of the jsonb (binary rows only)
  };
  // A binary row of the instant being read, waiting to be put in index order.
  struct Pending {
    std::int64_t hash;
    double value;  // NaN for none, as the index has it
    std::size_t start, end, name_start, name_size;
    std::int64_t rowid;
  };

  void produce();
  bool push(Batch&& b);
  void reject(const SqliteStatement& s, std::string reason);
  const Tags& tags_of(std::string_view text);
  void convert(const SqliteStatement& s, Batch& batch);
  // Appends one row in the batch's format; false when it repeats a row just read.
  bool append(Batch& batch, std::int64_t rowid, std::string_view ts, const Iso8601Fields& fields,
              std::string_view name, const std::optional<double>& value, const Tags* tags);
  std::int64_t tags_hash(std::string_view json);
  // The rows of the instant being read into the batch, in index order.
  void flush_instant(Batch& batch);

  const SqliteFile& file_;
  std::size_t batch_rows_;
  std::function<void(const ImportReject&)> reject_;
  std::optional<BinaryRows> binary_;
  std::string ts_;  // the row's timestamp, when it needs rewriting
  // Binary rows of the instant being read (at most kInstantRows; with no tag hashes
  // left to ask for, rows keep the file's order).
  std::string instant_data_;
  std::vector<Pending> instant_;
  std::int64_t instant_micros_ = 0;
  // jsonb_hash_extended of each tag set's JSON, as asked (at most kHashesAsked).
  std::unordered_map<std::string, std::int64_t> tag_hashes_;
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
