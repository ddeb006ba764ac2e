#include "sqlite_v1_metrics.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "pg_copy.h"
#include "smiles/core/serial.h"

namespace smiles::storage::sqlite_v1 {

std::vector<std::string_view> Batch::rows() const {
  std::vector<std::string_view> out;
  if (!row_ends.empty()) {
    std::size_t start = 0;
    for (const auto end : row_ends) {
      out.push_back(std::string_view(data).substr(start, end - start));
      start = end;
    }
    return out;
  }
  std::string_view rest(data);
  while (!rest.empty()) {
    const auto end = std::min(rest.find('\n'), rest.size());
    out.push_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  return out;
}

bool RecentRows::seen(std::string_view row) {
  auto& slot = slots_[std::hash<std::string_view>{}(row) & (slots_.size() - 1)];
  if (slot == row) return true;
  slot.assign(row);
  return false;
}

std::string describe_binary_row(std::string_view row) {
  // Field count, then (length, bytes) per field: timestamptz, text, float8, jsonb.
  auto take = [&](std::size_t n) {
    const auto part = row.substr(0, std::min(n, row.size()));
    row.remove_prefix(part.size());
    return part;
  };
  auto number = [&](std::size_t n) {
    std::uint64_t v = 0;
    for (const char c : take(n)) v = (v << 8U) | static_cast<unsigned char>(c);
    return v;
  };
  take(2);
  std::string out;
  for (int field = 0; field < 4 && !row.empty(); ++field) {
    if (field > 0) out += '\t';
    const auto length = static_cast<std::int32_t>(number(4));
    if (length < 0) {
      out += "NULL";
      continue;
    }
    const auto bytes = static_cast<std::size_t>(length);
    if (field == 0) {
      const auto micros = static_cast<std::int64_t>(number(bytes));
      out += format_iso8601_utc(Timestamp{std::chrono::seconds{kPgEpochUnixSeconds}} +
                                std::chrono::microseconds{micros});
    } else if (field == 2) {
      char buf[32];
      const auto [end, ec] =
          std::to_chars(buf, buf + sizeof buf, std::bit_cast<double>(number(bytes)));
      out.append(buf, end);
    } else {
      auto text = take(bytes);
      if (field == 3) text.remove_prefix(std::min<std::size_t>(1, text.size()));  // jsonb version
      out.append(text);
    }
  }
  return out;
}

namespace {
// Rows of one instant kept back for ordering, at most (a poll of a large plant has a
// few hundred); and tag sets whose hash is asked for, at most.
constexpr std::size_t kInstantRows = 8192;
constexpr std::size_t kHashesAsked = 4096;
}  // namespace

MetricsReader::MetricsReader(const SqliteFile& file, std::size_t batch_rows,
                             std::function<void(const ImportReject&)> reject,
                             std::optional<BinaryRows> binary)
    : file_(file), batch_rows_(batch_rows), reject_(std::move(reject)), binary_(std::move(binary)) {
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
    flush_instant(batch);
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
    const auto serial = probe.serial.empty() ? std::nullopt : normalize_serial(probe.serial);
    slot.inverter = serial ? &seen_[*serial] : nullptr;
    slot.port = probe.port;
    slot.hash = binary_ ? tags_hash(slot.json) : 0;
  }
  return slot;
}

void MetricsReader::convert(const SqliteStatement& s, Batch& batch) {
  // Each column's type and text fetched once: this runs for every row of the file.
  std::array<int, 5> type{};
  std::array<std::string_view, 5> text{};
  for (int c = 1; c <= 4; ++c) {
    type[c] = s.type(c);
    if (type[c] == SQLITE_BLOB) return reject(s, "a value is binary (BLOB), not text");
    if (type[c] == SQLITE_NULL || (c == 3 && type[c] != SQLITE_TEXT)) continue;  // a number
    text[c] = s.text(c);  // numbers as SQLite prints them
    if (type[c] == SQLITE_TEXT && text[c].find('\0') != std::string_view::npos)
      return reject(s, "a value contains a NUL byte");
  }
  if (type[1] != SQLITE_TEXT) return reject(s, "timestamp is not text");
  const auto fields = naive_timestamp_fields(text[1]);
  if (!fields) return reject(s, "timestamp is not YYYY-MM-DD HH:MM:SS[.ffffff]");
  std::string_view ts = text[1];
  if (ts[10] != ' ') {  // 'T': as the server is sent it and inverters' first/last seen keep it
    ts_.assign(ts);
    ts_[10] = ' ';
    ts = ts_;
  }
  if (text[2].empty()) return reject(s, "metric_name is empty");
  double value = 0;
  const bool has_value = type[3] != SQLITE_NULL;
  if (type[3] == SQLITE_TEXT) {
    const auto t = text[3];
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || ptr != t.data() + t.size())
      return reject(s, "metric_value is not a number");
  } else if (has_value) {
    value = s.real(3);
  }
  const Tags* tags = type[4] == SQLITE_NULL ? nullptr : &tags_of(text[4]);
  if (!append(batch, s.int64(0), ts, *fields, text[2],
              has_value ? std::optional(value) : std::nullopt, tags)) {
    ++duplicates_;  // a repeat of a row just read: the file's duplicate
    return;
  }
  if (tags != nullptr && tags->inverter != nullptr) see(*tags->inverter, ts, tags->port);
}

std::int64_t MetricsReader::tags_hash(std::string_view json) {
  // Each distinct tag set is asked for once, even when it comes back into the tag
  // cache after being pushed out.
  const std::string key(json);
  if (const auto it = tag_hashes_.find(key); it != tag_hashes_.end()) return it->second;
  if (tag_hashes_.size() >= kHashesAsked || !binary_->tags_hash) return 0;
  return tag_hashes_.emplace(key, binary_->tags_hash(json)).first->second;
}

bool MetricsReader::append(Batch& batch, std::int64_t rowid, std::string_view ts,
                           const Iso8601Fields& fields, std::string_view name,
                           const std::optional<double>& value, const Tags* tags) {
  if (binary_) {
    const auto micros = binary_->times->pg_micros(fields, ts);
    if (!instant_.empty() && (micros != instant_micros_ || instant_.size() >= kInstantRows))
      flush_instant(batch);
    instant_micros_ = micros;
    auto& out = instant_data_;
    const auto start = out.size();
    binary_row(out, 4);
    binary_timestamptz(out, micros);
    const auto name_start = out.size() + 4;
    binary_text(out, name);
    value ? binary_double(out, *value) : binary_null(out);
    tags ? binary_jsonb(out, tags->json) : binary_null(out);
    if (recent_.seen(std::string_view(out).substr(start))) {
      out.resize(start);
      return false;
    }
    instant_.push_back({tags != nullptr ? tags->hash : tags_hash("null"),
                        value ? *value : std::numeric_limits<double>::quiet_NaN(), start,
                        out.size(), name_start, name.size(), rowid});
    // With no tag hashes left to ask for, the order is the file's.
    if (tag_hashes_.size() >= kHashesAsked) flush_instant(batch);
    return true;
  }
  auto& out = batch.data;
  const auto row_start = out.size();
  std::size_t skip = 0;  // the separator before the row, when there is one
  if (!out.empty()) {
    out += '\n';
    skip = 1;
  }
  copy_field(out, ts);
  out += '\t';
  copy_field(out, name);
  out += '\t';
  value ? copy_double(out, *value) : copy_null(out);
  out += '\t';
  tags ? copy_field(out, tags->json) : copy_null(out);
  if (recent_.seen(std::string_view(out).substr(row_start + skip))) {
    out.resize(row_start);
    return false;
  }
  batch.rowids.push_back(rowid);
  return true;
}

void MetricsReader::flush_instant(Batch& batch) {
  if (instant_.empty()) return;
  const std::string_view data(instant_data_);
  // As the index orders them: hash, value (NaN after every number, -0 equal to 0),
  // name (bytewise here; the database's collation may differ, which costs the sort
  // a little and changes nothing else).
  std::sort(instant_.begin(), instant_.end(), [&](const Pending& a, const Pending& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    const bool a_nan = std::isnan(a.value), b_nan = std::isnan(b.value);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.value != b.value) return a.value < b.value;
    return data.substr(a.name_start, a.name_size) < data.substr(b.name_start, b.name_size);
  });
  for (const auto& p : instant_) {
    batch.data.append(data.substr(p.start, p.end - p.start));
    batch.row_ends.push_back(batch.data.size());
    batch.rowids.push_back(p.rowid);
  }
  instant_.clear();
  instant_data_.clear();
}

}  // namespace smiles::storage::sqlite_v1
