#include "sqlite_v1_metrics.h"

#include <algorithm>
#include <charconv>

#include "pg_copy.h"
#include "smiles/core/serial.h"

namespace smiles::storage::sqlite_v1 {

std::vector<std::string_view> Batch::lines() const {
  std::vector<std::string_view> out;
  std::string_view rest(copy_text);
  while (!rest.empty()) {
    const auto end = std::min(rest.find('\n'), rest.size());
    out.push_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return out;
}

bool RecentRows::seen(std::string_view row) {
  if (set_.count(row) != 0) return true;
  auto& slot = ring_[next_];
  if (!slot.empty()) set_.erase(slot);
  slot.assign(row);
  set_.insert(slot);
  next_ = (next_ + 1) % ring_.size();
  return false;
}

MetricsReader::MetricsReader(const SqliteFile& file, std::size_t batch_rows,
                             std::function<void(const ImportReject&)> reject)
    : file_(file), batch_rows_(batch_rows), reject_(std::move(reject)) {
  thread_ = std::thread([this] { produce(); });
}

MetricsReader::~MetricsReader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::optional<Batch> MetricsReader::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || done_; });
  if (!queue_.empty()) {
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return b;
  }
  if (error_) std::rethrow_exception(error_);
  return std::nullopt;
}

void MetricsReader::produce() {
  try {
    SqliteStatement s(file_.handle(),
                      "SELECT rowid, \"timestamp\", metric_name, metric_value, tags FROM metrics");
    Batch batch;
    while (s.step()) {
      ++read_;
      convert(s, batch);
      if (batch.rowids.size() >= batch_rows_) {
        if (!push(std::move(batch))) return;  // the consumer is gone
        batch = Batch{};
      }
    }
    if (!batch.rowids.empty()) push(std::move(batch));
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  std::lock_guard lock(mutex_);
  done_ = true;
  changed_.notify_all();
}

bool MetricsReader::push(Batch&& b) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < 2 || stop_; });
  if (stop_) return false;
  queue_.push_back(std::move(b));
  changed_.notify_all();
  return true;
}

void MetricsReader::reject(const SqliteStatement& s, std::string reason) {
  ++rejected_;
  if (!reject_) return;
  reject_({"metrics",
           s.int64(0),
           std::move(reason),
           {display(s, 1), display(s, 2), display(s, 3), display(s, 4)}});
}

const MetricsReader::Tags& MetricsReader::tags_of(std::string_view text) {
  auto& slot = tags_cache_[std::hash<std::string_view>{}(text) % tags_cache_.size()];
  if (slot.text != text) {
    JsonProbe probe;
    slot.text = text;
    slot.json = as_json(text, probe);
    slot.serial = probe.serial;
    slot.port = probe.port;
  }
  return slot;
}

void MetricsReader::convert(const SqliteStatement& s, Batch& batch) {
  for (int c = 1; c <= 4; ++c) {
    if (s.type(c) == SQLITE_BLOB) return reject(s, "a value is binary (BLOB), not text");
    if (s.type(c) == SQLITE_TEXT && s.text(c).find('\0') != std::string_view::npos)
      return reject(s, "a value contains a NUL byte");
  }
  if (s.type(1) != SQLITE_TEXT) return reject(s, "timestamp is not text");
  const auto ts = naive_timestamp(s.text(1));
  if (!ts) return reject(s, "timestamp is not YYYY-MM-DD HH:MM:SS[.ffffff]");
  if (s.is_null(2) || s.text(2).empty()) return reject(s, "metric_name is empty");
  double value = 0;
  const bool has_value = !s.is_null(3);
  if (s.type(3) == SQLITE_TEXT) {
    const auto t = s.text(3);
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || ptr != t.data() + t.size())
      return reject(s, "metric_value is not a number");
  } else if (has_value) {
    value = s.real(3);
  }
  const Tags* tags = s.is_null(4) ? nullptr : &tags_of(s.text(4));

  auto& out = batch.copy_text;
  const auto row_start = out.size();
  if (!out.empty()) out += '\n';
  copy_field(out, *ts);
  out += '\t';
  copy_field(out, s.text(2));
  out += '\t';
  if (has_value) {
    copy_double(out, value);
  } else {
    copy_null(out);
  }
  out += '\t';
  if (tags) {
    copy_field(out, tags->json);
  } else {
    copy_null(out);
  }
  if (recent_.seen(std::string_view(out).substr(row_start + (row_start > 0 ? 1 : 0)))) {
    out.resize(row_start);  // a repeat of a row just read: the file's duplicate
    ++duplicates_;
    return;
  }
  batch.rowids.push_back(s.int64(0));
  if (tags != nullptr && !tags->serial.empty()) {
    if (auto serial = normalize_serial(tags->serial)) see(seen_, *serial, *ts, tags->port);
  }
}

}  // namespace smiles::storage::sqlite_v1
