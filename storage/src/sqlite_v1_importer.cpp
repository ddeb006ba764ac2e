#include "smiles/storage/sqlite_v1_importer.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <thread>
#include <unordered_set>
#include <variant>

#include "checksums.h"
#include "smiles/core/error.h"
#include "smiles/core/family.h"
#include "smiles/core/serial.h"
#include "smiles/core/time.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"
#include "sqlite_file.h"

namespace smiles::storage {

namespace {

using Clock = std::chrono::steady_clock;

// The v1 tables and the columns each must have (storage.md).
struct SourceTable {
  const char* name;
  std::vector<const char*> columns;
  bool required;
};
const std::vector<SourceTable>& source_tables() {
  static const std::vector<SourceTable> t{
      {"config_cache", {"key", "value", "last_updated"}, true},
      {"production_cache",
       {"serial_number", "port_number", "today_production", "total_production", "last_updated"},
       true},
      {"metrics", {"timestamp", "metric_name", "metric_value", "tags"}, false},
  };
  return t;
}

// Which tables the file has; refuses a file that is not a v1 bridge database.
std::map<std::string, bool> check_source_shape(const SqliteFile& file) {
  const auto tables = file.tables();
  const auto has = [&](const std::string& t) {
    return std::find(tables.begin(), tables.end(), t) != tables.end();
  };
  std::map<std::string, bool> present;
  for (const auto& t : source_tables()) {
    present[t.name] = has(t.name);
    if (!present[t.name]) {
      if (!t.required) continue;
      std::string found;
      for (const auto& name : tables) found += (found.empty() ? "" : ", ") + name;
      throw SourceRefused(file.path() + ": not an S-Miles v1 bridge database (no table " + t.name +
                          "; tables found: " + (found.empty() ? "none" : found) + ")");
    }
    const auto columns = file.columns(t.name);
    for (const char* c : t.columns) {
      if (std::find(columns.begin(), columns.end(), c) == columns.end()) {
        throw SourceRefused(file.path() + ": not an S-Miles v1 bridge database (table " + t.name +
                            " has no column " + c + ")");
      }
    }
  }
  return present;
}

// --- conversions of source values -------------------------------------------------

// Python's sqlite3 adapter: "YYYY-MM-DD HH:MM:SS[.ffffff]" (a 'T' is accepted too),
// no zone; checked by core/time.h's parser. Returns the text PostgreSQL reads in the
// session time zone, or nullopt.
std::optional<std::string> naive_timestamp(std::string_view s) {
  const auto f = parse_iso8601_fields(s);
  if (!f || !f->has_seconds || f->has_zone || f->fraction_digits > 9) return std::nullopt;
  std::string out(s);
  out[10] = ' ';
  return out;
}

// Validates JSON without building a document and notes a top-level serial_number
// and port (the tags of per-port metrics).
struct JsonProbe : nlohmann::json::json_sax_t {
  int depth = 0;
  bool at_serial = false, at_port = false;
  std::string serial;
  long port = 0;
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t v) override {
    if (at_port) port = static_cast<long>(v);
    return value();
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (at_port) port = static_cast<long>(v);
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& v) override {
    if (at_serial) serial = v;
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    at_serial = depth == 1 && k == "serial_number";
    at_port = depth == 1 && k == "port";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
    return false;
  }

 private:
  bool value() {
    at_serial = at_port = false;
    return true;
  }
  bool open() {
    value();
    ++depth;
    return true;
  }
  bool close() {
    --depth;
    return true;
  }
};

bool probe_json(std::string_view text, JsonProbe& probe) {
  // PostgreSQL's jsonb refuses \u0000, which nlohmann accepts.
  if (text.find("\\u0000") != std::string_view::npos) return false;
  try {
    return nlohmann::json::sax_parse(text, &probe);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// JSON text for a jsonb column: valid JSON as it is, anything else as a JSON string.
std::string as_json(std::string_view text, JsonProbe& probe) {
  if (probe_json(text, probe)) return std::string(text);
  probe = JsonProbe{};
  return nlohmann::json(std::string(text)).dump();
}

// COPY text format: \N is NULL; backslash, tab, newline and CR are escaped.
void copy_field(std::string& out, std::string_view v) {
  std::size_t pos = 0;
  for (;;) {
    const auto special = v.find_first_of("\\\t\n\r", pos);
    out.append(v.data() + pos, (special == std::string_view::npos ? v.size() : special) - pos);
    if (special == std::string_view::npos) return;
    out += '\\';
    switch (v[special]) {
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += '\\';
    }
    pos = special + 1;
  }
}

void copy_double(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::string display(const SqliteStatement& s, int column) {
  if (s.is_null(column)) return "NULL";
  if (s.type(column) == SQLITE_BLOB) return "<blob>";
  return std::string(s.text(column));
}

// What the importer learns about an inverter from the rows it reads.
struct SeenInverter {
  std::string first, last;  // naive local timestamps (text sorts chronologically)
  long max_port = 0;
};
using SeenInverters = std::map<std::string, SeenInverter>;

void see(SeenInverters& seen, const std::string& serial, const std::string& ts, long port) {
  auto& s = seen[serial];
  if (s.first.empty() || ts < s.first) s.first = ts;
  if (s.last.empty() || ts > s.last) s.last = ts;
  s.max_port = std::max(s.max_port, port);
}

// --- the metrics stream -------------------------------------------------------------

// A batch of converted metrics rows as COPY text, with the source rowid of each line.
// Lines are separated, not terminated, by newlines: the text goes to the server as
// it is (libpqxx adds the last newline).
struct Batch {
  std::string copy_text;
  std::vector<std::int64_t> rowids;
  std::vector<std::string_view> lines() const {
    std::vector<std::string_view> out;
    std::string_view rest(copy_text);
    while (!rest.empty()) {
      const auto end = std::min(rest.find('\n'), rest.size());
      out.push_back(rest.substr(0, end));
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
    return out;
  }
};

// The last rows read (a bounded window): the file's duplicates are mostly the same
// sample written twice in a row, dropped here before they cost the server a
// failed unique index build and a cleanup. Others are still found there.
class RecentRows {
 public:
  // True when an equal row is in the window; otherwise remembers this one.
  bool seen(std::string_view row) {
    if (set_.count(row) != 0) return true;
    auto& slot = ring_[next_];
    if (!slot.empty()) set_.erase(slot);
    slot.assign(row);
    set_.insert(slot);
    next_ = (next_ + 1) % ring_.size();
    return false;
  }

 private:
  std::vector<std::string> ring_ = std::vector<std::string>(4096);
  std::unordered_set<std::string_view> set_;
  std::size_t next_ = 0;
};

// Reads metrics from SQLite on its own thread, converting rows into batches; the
// consumer takes them with next(). Bounded: at most `depth` batches wait.
class MetricsReader {
 public:
  MetricsReader(const SqliteFile& file, std::size_t batch_rows,
                std::function<void(const ImportReject&)> reject)
      : file_(file), batch_rows_(batch_rows), reject_(std::move(reject)) {
    thread_ = std::thread([this] { produce(); });
  }
  ~MetricsReader() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  // The next batch, or nullopt at the end. Rethrows the reader's error.
  std::optional<Batch> next() {
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
  // Valid after next() returned nullopt.
  std::uint64_t read() const { return read_; }
  std::uint64_t rejected() const { return rejected_; }
  std::uint64_t duplicates() const { return duplicates_; }
  const SeenInverters& seen() const { return seen_; }

 private:
  void produce() {
    try {
      SqliteStatement s(
          file_.handle(),
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

  bool push(Batch&& b) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 2 || stop_; });
    if (stop_) return false;
    queue_.push_back(std::move(b));
    changed_.notify_all();
    return true;
  }

  void reject(const SqliteStatement& s, std::string reason) {
    ++rejected_;
    if (!reject_) return;
    reject_({"metrics",
             s.int64(0),
             std::move(reason),
             {display(s, 1), display(s, 2), display(s, 3), display(s, 4)}});
  }

  // Tags repeat with every poll (one set per port and metric): each distinct text
  // is checked once, in a small direct-mapped cache.
  struct Tags {
    std::string text;  // as in the file
    std::string json;  // for the jsonb column
    std::string serial;
    long port = 0;
  };
  const Tags& tags_of(std::string_view text) {
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

  void convert(const SqliteStatement& s, Batch& batch) {
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
      out += "\\N";
    }
    out += '\t';
    if (tags) {
      copy_field(out, tags->json);
    } else {
      out += "\\N";
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

// COPY text lines straight into `table` (columns in source order).
void copy_text(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& columns, const std::string& text) {
  if (text.empty()) return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // tablewriter is libpqxx 6.4's only public way to send ready COPY text; the whole
  // batch goes in one message (write_raw_line adds the final newline).
  pqxx::tablewriter w(tx, table, columns.begin(), columns.end());
#pragma GCC diagnostic pop
  w.write_raw_line(text);
  w.complete();
}

const std::vector<std::string> kMetricsColumns(schema::kSystemMetricsColumns.begin(),
                                               schema::kSystemMetricsColumns.end());

// Rows of one batch, kept out of the way of each other's errors: the fast path
// COPYs into the table; a batch with rows already present goes through a staging
// table and ON CONFLICT; a batch with a row PostgreSQL refuses is retried row by
// row so only that row is rejected.
struct BatchOutcome {
  std::uint64_t imported = 0, present = 0, rejected = 0;
};

BatchOutcome write_rows(pqxx::dbtransaction& tx, const std::string& table, const std::string& stage,
                        const std::string& text, std::size_t rows) {
  BatchOutcome o;
  try {
    pqxx::subtransaction fast(tx, "import_fast");
    copy_text(fast, table, kMetricsColumns, text);
    fast.commit();
    o.imported = rows;
    return o;
  } catch (const pqxx::unique_violation&) {
  }
  pqxx::subtransaction merge(tx, "import_merge");
  merge.exec0("TRUNCATE " + stage);
  copy_text(merge, stage, kMetricsColumns, text);
  const auto r =
      merge.exec0("INSERT INTO " + table + " SELECT * FROM " + stage + " ON CONFLICT DO NOTHING");
  merge.commit();
  o.imported = static_cast<std::uint64_t>(r.affected_rows());
  o.present = rows - o.imported;
  return o;
}

// A batch through write_rows; when PostgreSQL refuses one of its rows (e.g. a
// 2025-02-30 timestamp), row by row so only that row is rejected.
BatchOutcome write_batch(pqxx::dbtransaction& tx, const std::string& table,
                         const std::string& stage, const Batch& batch,
                         const std::function<void(const ImportReject&)>& on_reject) {
  try {
    return write_rows(tx, table, stage, batch.copy_text, batch.rowids.size());
  } catch (const pqxx::sql_error&) {
  }
  BatchOutcome o;
  const auto lines = batch.lines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      const auto r = write_rows(tx, table, stage, std::string(lines[i]), 1);
      o.imported += r.imported;
      o.present += r.present;
    } catch (const pqxx::sql_error& e) {
      ++o.rejected;
      if (on_reject) on_reject({"metrics", batch.rowids[i], e.what(), {std::string(lines[i])}});
    }
  }
  return o;
}

// Recreates the indexes dropped for a bulk load. Duplicates in the file stop the
// unique one: they are removed (the first copy stays) and counted, then it is
// built again. Returns the rows removed.
std::uint64_t rebuild_indexes(pqxx::dbtransaction& tx, const std::string& table,
                              const std::vector<std::pair<std::string, std::string>>& indexes) {
  tx.exec0("SET LOCAL maintenance_work_mem = '256MB'");
  std::uint64_t removed = 0;
  for (const auto& [name, definition] : indexes) {
    try {
      pqxx::subtransaction build(tx, "import_index");
      build.exec0(definition);
      build.commit();
      continue;
    } catch (const pqxx::unique_violation&) {
    }
    // Groups of equal rows, then every row of a group but its first (columnwise
    // equality, so the join can hash).
    const auto mine = schema::system_metrics_identity();
    const auto theirs = schema::system_metrics_identity("t.");
    std::string parts, match;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      parts += mine[i] + " AS k" + std::to_string(i) + ", ";
      match += theirs[i] + " = d.k" + std::to_string(i) + " AND ";
    }
    const auto r = tx.exec0(
        "DELETE FROM " + table + " t USING (SELECT " + parts + "min(ctid) AS keep FROM " + table +
        " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d WHERE " + match + "t.ctid <> d.keep");
    removed += static_cast<std::uint64_t>(r.affected_rows());
    tx.exec0(definition);
  }
  return removed;
}

}  // namespace

SqliteV1Importer::SqliteV1Importer(ConnectionPool& pool, ImportOptions options)
    : pool_(pool), options_(std::move(options)) {
  if (options_.batch_rows == 0) options_.batch_rows = 1;
  if (options_.reset_hour < 0 || options_.reset_hour > 23)
    throw ConfigError("RESET_HOUR must be 0-23");
}

namespace {

// Session set-up: naive timestamps are read in the import's time zone.
void set_time_zone(pqxx::connection& c, const std::string& tz) {
  pqxx::nontransaction tx(c);
  if (tx.exec_params1("SELECT count(*) FROM pg_timezone_names WHERE name = $1", tz)[0].as<int>() ==
      0) {
    throw ConfigError("unknown time zone '" + tz + "' (use a name such as Europe/Berlin or UTC)");
  }
  tx.exec0("SET TIME ZONE " + tx.quote(tz));
}

ImportTableSummary summary_for(const char* table) {
  ImportTableSummary s;
  s.table = table;
  return s;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

void SqliteV1Importer::check(const std::string& path) {
  SqliteFile file(path);
  check_source_shape(file);
}

namespace {

// Imports one of the small tables row by row: `check` returns the reason to reject
// a row, or the statement that inserts it (ON CONFLICT DO NOTHING, so an insert
// that changes nothing means the row was already there).
using RowInsert = std::function<pqxx::result(pqxx::transaction_base&)>;
using RowCheck = std::function<std::variant<std::string, RowInsert>(const SqliteStatement&)>;

ImportTableSummary import_rows(const SqliteFile& file, pqxx::connection& conn,
                               const ImportOptions& options, const char* table,
                               const std::string& columns, const RowCheck& check) {
  auto sum = summary_for(table);
  const auto start = Clock::now();
  SqliteStatement s(file.handle(), "SELECT rowid, " + columns + " FROM " + table);
  pqxx::work tx(conn);
  while (s.step()) {
    ++sum.read;
    const auto reject = [&](std::string why) {
      ++sum.rejected;
      if (!options.on_reject) return;
      std::vector<std::string> values;
      for (int c = 1; c < s.columns(); ++c) values.push_back(display(s, c));
      options.on_reject({table, s.int64(0), std::move(why), std::move(values)});
    };
    auto checked = check(s);
    if (auto* why = std::get_if<std::string>(&checked)) {
      reject(*why);
      continue;
    }
    if (options.dry_run) continue;
    try {
      pqxx::subtransaction one(tx, "import_row");
      const auto r = std::get<RowInsert>(checked)(one);
      one.commit();
      (r.affected_rows() == 1 ? sum.imported : sum.already_present) += 1;
    } catch (const pqxx::sql_error& e) {
      reject(e.what());
    }
  }
  tx.commit();
  sum.seconds = seconds_since(start);
  return sum;
}

const char* const kBadTimestamp = "is not YYYY-MM-DD HH:MM:SS[.ffffff]";

ImportTableSummary import_config_cache(const SqliteFile& file, pqxx::connection& conn,
                                       const ImportOptions& options) {
  return import_rows(
      file, conn, options, "config_cache", "key, value, last_updated",
      [](const SqliteStatement& s) -> std::variant<std::string, RowInsert> {
        if (s.is_null(1) || s.text(1).empty()) return "key is empty";
        std::optional<std::string> ts;
        if (!s.is_null(3)) {
          ts = naive_timestamp(s.text(3));
          if (!ts) return std::string("last_updated ") + kBadTimestamp;
        }
        JsonProbe probe;
        std::optional<std::string> value;
        if (!s.is_null(2)) value = as_json(s.text(2), probe);
        return [key = std::string(s.text(1)), value, ts](pqxx::transaction_base& tx) {
          return tx.exec_params0(
              "INSERT INTO config_cache (key, value, last_updated) VALUES "
              "($1, $2::jsonb, coalesce($3::timestamptz, now())) ON CONFLICT (key) DO NOTHING",
              key, value ? value->c_str() : nullptr, ts ? ts->c_str() : nullptr);
        };
      });
}

ImportTableSummary import_production_cache(const SqliteFile& file, pqxx::connection& conn,
                                           const ImportOptions& options, SeenInverters& seen) {
  return import_rows(
      file, conn, options, "production_cache",
      "serial_number, port_number, today_production, total_production, last_updated",
      [&](const SqliteStatement& s) -> std::variant<std::string, RowInsert> {
        const auto serial =
            s.type(1) == SQLITE_TEXT ? normalize_serial(s.text(1)) : std::optional<std::string>{};
        if (!serial) return "serial_number is not 12 hex digits";
        if (s.type(2) != SQLITE_INTEGER || s.int64(2) < 1 || s.int64(2) > 99) {
          return "port_number is not a number from 1 to 99";
        }
        const auto energy_ok = [&](int c) {
          return s.is_null(c) || (s.type(c) == SQLITE_INTEGER && s.int64(c) >= 0);
        };
        if (!energy_ok(3) || !energy_ok(4) || (!s.is_null(3) && s.int64(3) > INT32_MAX)) {
          return "today_production/total_production is not a whole number of Wh";
        }
        const auto ts =
            s.type(5) == SQLITE_TEXT ? naive_timestamp(s.text(5)) : std::optional<std::string>{};
        if (!ts) return std::string("last_updated ") + kBadTimestamp;
        const auto port = static_cast<int>(s.int64(2));
        see(seen, *serial, *ts, port);
        return [serial = *serial, port, today = s.is_null(3) ? 0 : s.int64(3),
                total = s.is_null(4) ? 0 : s.int64(4), ts = *ts,
                reset_hour = options.reset_hour](pqxx::transaction_base& tx) {
          return tx.exec_params0(
              "INSERT INTO production_cache (serial_number, port_number, today_production, "
              "total_production, production_day, last_updated) VALUES ($1, $2, $3, $4, "
              "($5::timestamp - make_interval(hours => $6))::date, $5::timestamptz) "
              "ON CONFLICT (serial_number, port_number) DO NOTHING",
              serial, port, today, total, ts, reset_hour);
        };
      });
}

// A bulk load of system_metrics: one transaction with the table's indexes dropped;
// finish() rebuilds them and commits. Killed, the transaction leaves the table as
// it was.
class BulkLoad {
 public:
  // Null when the table already has rows (then each batch commits on its own).
  static std::unique_ptr<BulkLoad> begin(pqxx::connection& conn, const std::string& table) {
    auto bulk = std::unique_ptr<BulkLoad>(new BulkLoad(conn, table));
    bulk->tx_.exec0("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    if (bulk->tx_.exec1("SELECT EXISTS (SELECT 1 FROM " + table + ")")[0].as<bool>()) {
      bulk->tx_.commit();
      return nullptr;
    }
    for (const auto& row :
         bulk->tx_.exec("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM "
                        "pg_index WHERE indrelid = " +
                        bulk->tx_.quote(table) + "::regclass")) {
      bulk->indexes_.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
      bulk->tx_.exec0("DROP INDEX " + bulk->indexes_.back().first);
    }
    return bulk;
  }
  pqxx::work& tx() { return tx_; }
  // Returns the rows removed as duplicates of others.
  std::uint64_t finish() {
    const auto removed = rebuild_indexes(tx_, table_, indexes_);
    tx_.commit();
    return removed;
  }

 private:
  BulkLoad(pqxx::connection& conn, std::string table) : tx_(conn), table_(std::move(table)) {}
  pqxx::work tx_;
  std::string table_;
  std::vector<std::pair<std::string, std::string>> indexes_;  // name, definition
};

// metrics -> system_metrics, streamed in batches of COPY text.
ImportTableSummary import_metrics(const SqliteFile& file, pqxx::connection& conn,
                                  const ImportOptions& options, SeenInverters& seen) {
  auto sum = summary_for("metrics");
  const auto start = Clock::now();
  const auto total = static_cast<std::uint64_t>(file.count("metrics"));
  const std::string table(schema::kSystemMetrics);
  const std::string stage = "smiles_import_stage";
  std::unique_ptr<BulkLoad> bulk;
  if (!options.dry_run) {
    pqxx::nontransaction(conn).exec0("CREATE TEMP TABLE IF NOT EXISTS " + stage + " (LIKE " +
                                     table + ")");
    if (total >= options.bulk_min_rows) bulk = BulkLoad::begin(conn, table);
  }
  MetricsReader reader(file, options.batch_rows, options.on_reject);
  std::uint64_t done = 0;
  while (auto batch = reader.next()) {
    if (!options.dry_run) {
      std::optional<pqxx::work> own;
      pqxx::dbtransaction& tx = bulk ? bulk->tx() : own.emplace(conn);
      const auto o = write_batch(tx, table, stage, *batch, options.on_reject);
      if (own) own->commit();
      sum.imported += o.imported;
      sum.already_present += o.present;
      sum.rejected += o.rejected;
    }
    done += batch->rowids.size();
    if (options.on_progress) {
      options.on_progress(
          {"metrics", done + reader.rejected() + reader.duplicates(), total, seconds_since(start)});
    }
  }
  if (bulk) {
    const auto removed = bulk->finish();
    sum.imported -= removed;
    sum.already_present += removed;
  }
  sum.read = reader.read();
  sum.rejected += reader.rejected();
  sum.already_present += reader.duplicates();
  for (const auto& [serial, s] : reader.seen()) {
    see(seen, serial, s.first, s.max_port);
    see(seen, serial, s.last, s.max_port);
  }
  sum.seconds = seconds_since(start);
  return sum;
}

// Inverters for every serial met: type from the serial, first/last seen widened.
// Returns how many were new.
std::uint64_t add_inverters(pqxx::connection& conn, const SeenInverters& seen) {
  std::uint64_t added = 0;
  pqxx::work tx(conn);
  for (const auto& [serial, s] : seen) {
    const auto r = tx.exec_params1(
        "INSERT INTO inverters (serial_number, inverter_type, port_count, first_seen, last_seen) "
        "VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz) ON CONFLICT (serial_number) DO "
        "UPDATE SET first_seen = least(inverters.first_seen, excluded.first_seen), "
        "last_seen = greatest(inverters.last_seen, excluded.last_seen), "
        "port_count = greatest(inverters.port_count, excluded.port_count) "
        "RETURNING (xmax = 0)",
        serial, std::string(family_for_serial(serial).inverter_type),
        static_cast<int>(std::clamp(s.max_port, 0L, 99L)), s.first, s.last);
    if (r[0].as<bool>()) ++added;
  }
  tx.commit();
  return added;
}

// The import proper, on a connection whose time zone is set. verify() runs it too,
// into temporary tables that shadow the real ones.
ImportReport import_file(const SqliteFile& file, pqxx::connection& conn,
                         const ImportOptions& options) {
  const auto present = check_source_shape(file);
  ImportReport report;
  report.dry_run = options.dry_run;
  SeenInverters seen;
  report.tables.push_back(import_config_cache(file, conn, options));
  report.tables.push_back(import_production_cache(file, conn, options, seen));
  if (present.at("metrics")) {
    report.tables.push_back(import_metrics(file, conn, options, seen));
  } else {
    auto missing = summary_for("metrics");
    missing.missing = true;
    report.tables.push_back(missing);
  }
  if (!options.dry_run && !seen.empty()) report.inverters_added = add_inverters(conn, seen);
  return report;
}

}  // namespace

ImportReport SqliteV1Importer::run(const std::string& path) {
  SqliteFile file(path);
  auto conn = pool_.acquire();
  set_time_zone(*conn, options_.timezone);
  return import_file(file, *conn, options_);
}

namespace {

// How a table of the file is compared with the database: the row's key and its
// other values, as expressions over a table alias. system_metrics has no key but
// its identity, which holds every value.
using Columns = std::vector<std::string> (*)(const std::string& alias);

struct Comparison {
  std::string table;
  Columns key;
  Columns values;
};

const std::vector<Comparison>& comparisons() {
  static const std::vector<Comparison> c{
      {"config_cache", [](const std::string& a) { return std::vector{a + ".key"}; },
       [](const std::string& a) { return std::vector{a + ".value"}; }},
      {"production_cache",
       [](const std::string& a) {
         return std::vector{a + ".serial_number", a + ".port_number"};
       },
       [](const std::string& a) {
         return std::vector{a + ".today_production", a + ".total_production", a + ".last_updated"};
       }},
      {"system_metrics",
       [](const std::string& a) {
         const auto id = schema::system_metrics_identity(a + ".");
         return std::vector<std::string>(id.begin(), id.end());
       },
       [](const std::string&) { return std::vector<std::string>{}; }},
  };
  return c;
}

// "d.x = s.x AND ..." (or "true" for no columns).
std::string all_match(const std::vector<std::string>& d, const std::vector<std::string>& s,
                      const char* op) {
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    out += (out.empty() ? "" : " AND ") + d[i] + " " + op + " " + s[i];
  }
  return out.empty() ? "true" : out;
}

// The row's text for the checksum: key and values joined.
std::string row_text(const Comparison& c, const std::string& alias) {
  std::string out;
  for (const auto& cols : {c.key(alias), c.values(alias)}) {
    for (const auto& col : cols) out += (out.empty() ? "" : ", ") + col;
  }
  return "concat_ws('|', " + out + ")";
}

// Drops the session's shadow tables however verify() ends.
struct ShadowTables {
  pqxx::connection& conn;
  std::vector<std::string> names;
  ~ShadowTables() {
    try {
      pqxx::nontransaction tx(conn);
      for (const auto& t : names) tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
    } catch (const std::exception&) {  // the session is going anyway
    }
  }
};

}  // namespace

VerifyReport SqliteV1Importer::verify(const std::string& path) {
  SqliteFile file(path);
  const auto present = check_source_shape(file);
  auto conn = pool_.acquire();
  set_time_zone(*conn, options_.timezone);
  // The file goes, through the import itself, into temporary tables of the same
  // names, which shadow the real ones for this session only.
  ShadowTables shadow{*conn, {"config_cache", "production_cache", "system_metrics", "inverters"}};
  {
    pqxx::work tx(*conn);
    for (const auto& t : shadow.names) {
      tx.exec0("DROP TABLE IF EXISTS pg_temp." + t);
      tx.exec0("CREATE TEMP TABLE " + t + " (LIKE public." + t + " INCLUDING ALL)");
    }
    tx.commit();
  }
  ImportOptions quiet = options_;
  quiet.dry_run = false;
  quiet.on_reject = nullptr;
  quiet.on_progress = nullptr;
  import_file(file, *conn, quiet);

  VerifyReport report;
  pqxx::nontransaction tx(*conn);
  for (const auto& c : comparisons()) {
    if (c.table == "system_metrics" && !present.at("metrics")) continue;
    const std::string s = "pg_temp." + c.table + " s";
    const std::string d = "public." + c.table + " d";
    const auto key_match = all_match(c.key("d"), c.key("s"), "=");
    const auto value_match = all_match(c.values("d"), c.values("s"), "IS NOT DISTINCT FROM");
    const auto counts = tx.exec1("SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " +
                                 d + " WHERE " + key_match + " AND " + value_match +
                                 ")), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM " + d +
                                 " WHERE " + key_match + ")) FROM " + s);
    VerifyTable t;
    t.table = c.table;
    t.source_rows = counts[0].as<std::uint64_t>();
    t.found = counts[1].as<std::uint64_t>();
    t.differing = counts[2].as<std::uint64_t>() - t.found;
    t.missing = t.source_rows - counts[2].as<std::uint64_t>();
    t.source_checksum = tx.exec1(rows_checksum_sql(row_text(c, "s"), s))[0].as<std::string>();
    t.database_checksum = tx.exec1(rows_checksum_sql(
        row_text(c, "d"), d + " WHERE EXISTS (SELECT 1 FROM " + s + " WHERE " + key_match + ")"))[0]
                              .as<std::string>();
    report.tables.push_back(t);
  }
  return report;
}

}  // namespace smiles::storage
