#include "sqlite_v1_load.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "pg_copy.h"
#include "smiles/core/error.h"
#include "smiles/core/family.h"
#include "smiles/core/serial.h"
#include "smiles/storage/schema.h"
#include "sqlite_v1_metrics.h"
#include "sqlite_v1_source.h"

namespace smiles::storage::sqlite_v1 {

namespace {

using Clock = std::chrono::steady_clock;

ImportTableSummary summary_for(const char* table) {
  ImportTableSummary s;
  s.table = table;
  return s;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
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
    return write_rows(tx, table, stage, batch.data, batch.rowids.size());
  } catch (const pqxx::sql_error&) {
  }
  BatchOutcome o;
  const auto lines = batch.rows();
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

// The statements of a bulk load, on the libpqxx transaction (text COPY, which
// --verify's temporary tables need) or on a plain libpq connection (binary COPY).
struct LoadSql {
  std::function<std::vector<std::string>(const std::string&)> column;  // first column
  std::function<std::uint64_t(const std::string&)> exec;               // rows affected
  // Runs a statement in a savepoint; false, and undone, when a unique violation
  // stopped it.
  std::function<bool(const std::string&)> exec_unless_duplicate;
};

LoadSql load_sql(pqxx::dbtransaction& tx) {
  return {[&tx](const std::string& sql) {
            std::vector<std::string> out;
            for (const auto& row : tx.exec(sql)) out.push_back(row[0].as<std::string>());
            return out;
          },
          [&tx](const std::string& sql) {
            return static_cast<std::uint64_t>(tx.exec0(sql).affected_rows());
          },
          [&tx](const std::string& sql) {
            try {
              pqxx::subtransaction one(tx, "import_unique");
              one.exec0(sql);
              one.commit();
              return true;
            } catch (const pqxx::unique_violation&) {
              return false;
            }
          }};
}

constexpr const char* kUniqueViolation = "23505";

LoadSql load_sql(PgCopyConnection& c) {
  return {[&c](const std::string& sql) { return c.column(sql); },
          [&c](const std::string& sql) -> std::uint64_t {
            const auto r = c.exec(sql);
            return r.empty() ? 0 : std::stoull(r);
          },
          [&c](const std::string& sql) {
            c.exec("SAVEPOINT import_unique");
            try {
              c.exec(sql);
            } catch (const PgStatementError& e) {
              if (e.sqlstate() != kUniqueViolation) throw;
              c.exec("ROLLBACK TO SAVEPOINT import_unique");
              return false;
            }
            c.exec("RELEASE SAVEPOINT import_unique");
            return true;
          }};
}

// Recreates the indexes dropped for a bulk load. Duplicates in the file stop the
// unique one: they are removed (the first copy stays) and counted, then it is
// built again. Returns the rows removed.
std::uint64_t rebuild_indexes(const LoadSql& sql, const std::string& table,
                              const std::vector<std::pair<std::string, std::string>>& indexes) {
  sql.exec("SET LOCAL maintenance_work_mem = '256MB'");
  std::uint64_t removed = 0;
  for (const auto& [name, definition] : indexes) {
    if (sql.exec_unless_duplicate(definition)) continue;
    // Groups of equal rows, then every row of a group but its first (columnwise
    // equality, so the join can hash).
    const auto mine = schema::system_metrics_identity();
    const auto theirs = schema::system_metrics_identity("t.");
    std::string parts, match;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      parts += mine[i] + " AS k" + std::to_string(i) + ", ";
      match += theirs[i] + " = d.k" + std::to_string(i) + " AND ";
    }
    removed += sql.exec(
        "DELETE FROM " + table + " t USING (SELECT " + parts + "min(ctid) AS keep FROM " + table +
        " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d WHERE " + match + "t.ctid <> d.keep");
    sql.exec(definition);
  }
  return removed;
}

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
// it was. Binary when given the database's settings: on a connection of its own,
// rows in COPY's binary form; text otherwise, in a transaction on `conn`.
class BulkLoad {
 public:
  // Null when the table already has rows (then each batch commits on its own).
  static std::unique_ptr<BulkLoad> begin(pqxx::connection& conn, const DatabaseConfig* binary,
                                         const std::string& table) {
    auto bulk = std::unique_ptr<BulkLoad>(new BulkLoad(conn, binary));
    const auto& sql = bulk->sql_;
    sql.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    if (sql.column("SELECT EXISTS (SELECT 1 FROM " + table + ")").at(0) == "t") {
      bulk->commit();
      return nullptr;
    }
    const auto indexes = sql.column(
        "SELECT indexrelid::regclass::text || E'\\t' || pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = '" +
        table + "'::regclass ORDER BY 1");
    for (const auto& row : indexes) {
      const auto tab = row.find('\t');
      bulk->indexes_.emplace_back(row.substr(0, tab), row.substr(tab + 1));
      sql.exec("DROP INDEX " + bulk->indexes_.back().first);
    }
    bulk->table_ = table;
    return bulk;
  }
  [[nodiscard]] bool binary() const { return copy_ != nullptr; }
  pqxx::work& tx() { return *tx_; }
  PgCopyConnection& connection() { return *copy_; }
  // Returns the rows removed as duplicates of others.
  std::uint64_t finish() {
    const auto removed = rebuild_indexes(sql_, table_, indexes_);
    commit();
    return removed;
  }

 private:
  BulkLoad(pqxx::connection& conn, const DatabaseConfig* binary) {
    if (binary != nullptr) {
      copy_ = std::make_unique<PgCopyConnection>(*binary);
      copy_->exec("BEGIN");
      sql_ = load_sql(*copy_);
    } else {
      tx_.emplace(conn);
      sql_ = load_sql(*tx_);
    }
  }
  void commit() {
    if (copy_) {
      copy_->exec("COMMIT");
    } else {
      tx_->commit();
    }
  }
  std::optional<pqxx::work> tx_;
  std::unique_ptr<PgCopyConnection> copy_;
  LoadSql sql_;
  std::string table_;
  std::vector<std::pair<std::string, std::string>> indexes_;  // name, definition
};

// A batch in COPY binary, in a savepoint; when PostgreSQL refuses one of its rows,
// row by row so only that row is rejected. The table has no unique index yet.
BatchOutcome write_binary_batch(PgCopyConnection& c, const std::string& copy_sql,
                                const Batch& batch,
                                const std::function<void(const ImportReject&)>& on_reject) {
  static const std::string header = [] {
    std::string h;
    binary_header(h);
    return h;
  }();
  static const std::string trailer = [] {
    std::string t;
    binary_trailer(t);
    return t;
  }();
  const auto attempt = [&](std::string_view rows) {
    c.exec("SAVEPOINT import_batch");
    try {
      c.copy_in(copy_sql, {header, rows, trailer});
    } catch (const PgStatementError&) {
      c.exec("ROLLBACK TO SAVEPOINT import_batch");
      throw;
    }
    c.exec("RELEASE SAVEPOINT import_batch");
  };
  BatchOutcome o;
  try {
    attempt(batch.data);
    o.imported = batch.rowids.size();
    return o;
  } catch (const PgStatementError&) {
  }
  const auto rows = batch.rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    try {
      attempt(rows[i]);
      ++o.imported;
    } catch (const PgStatementError& e) {
      ++o.rejected;
      if (on_reject)
        on_reject({"metrics", batch.rowids[i], e.what(), {describe_binary_row(rows[i])}});
    }
  }
  return o;
}

// What binary rows need of PostgreSQL: the import's time zone's offsets (a session
// in that zone) and the tag sets' hashes, on a connection of the reading thread.
BinaryRows binary_rows(const DatabaseConfig& config, const std::string& tz) {
  auto c = std::make_shared<PgCopyConnection>(config);
  c->exec("SET TIME ZONE " + c->quote_literal(tz));
  BinaryRows rows;
  rows.times = std::make_unique<LocalTimeConverter>([c](std::int64_t first, int count, int step) {
    const auto values = c->column(
        "SELECT (extract(epoch FROM t) - extract(epoch FROM t::timestamptz))::int FROM "
        "generate_series(0, " +
        std::to_string(count - 1) +
        ") i CROSS JOIN LATERAL (SELECT "
        "'epoch'::timestamp + (" +
        std::to_string(first) + " + i * " + std::to_string(step) +
        "::bigint) * interval '1 second') x(t) ORDER BY i");
    std::vector<std::int32_t> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(static_cast<std::int32_t>(std::stol(v)));
    return out;
  });
  rows.tags_hash = [c](std::string_view json) -> std::int64_t {
    try {
      return std::stoll(
          c->exec("SELECT jsonb_hash_extended(" + c->quote_literal(json) + "::jsonb, 0)"));
    } catch (const PgStatementError&) {
      return 0;  // a tag set the server refuses: its row will be rejected; order only
    }
  };
  return rows;
}

// metrics -> system_metrics, streamed in batches of COPY text.
ImportTableSummary import_metrics(const SqliteFile& file, pqxx::connection& conn,
                                  const DatabaseConfig* binary, const ImportOptions& options,
                                  SeenInverters& seen) {
  auto sum = summary_for("metrics");
  const auto start = Clock::now();
  const auto total = static_cast<std::uint64_t>(file.count("metrics"));
  const std::string table(schema::kSystemMetrics);
  const std::string stage = "smiles_import_stage";
  std::unique_ptr<BulkLoad> bulk;
  if (!options.dry_run) {
    // The staging table serves batches into a table with rows; a text bulk load
    // holds `conn` in its transaction, so it is made first.
    const bool large = total >= options.bulk_min_rows;
    if (large && binary != nullptr) bulk = BulkLoad::begin(conn, binary, table);
    if (!bulk) {
      pqxx::nontransaction(conn).exec0("CREATE TEMP TABLE IF NOT EXISTS " + stage + " (LIKE " +
                                       table + ")");
      if (large && binary == nullptr) bulk = BulkLoad::begin(conn, nullptr, table);
    }
  }
  const bool in_binary = bulk && bulk->binary();
  MetricsReader reader(
      file, options.batch_rows, options.on_reject,
      in_binary ? std::optional(binary_rows(*binary, options.timezone)) : std::nullopt);
  std::string columns;
  for (const auto& c : kMetricsColumns) columns += (columns.empty() ? "\"" : ", \"") + c + '"';
  const std::string copy_sql = "COPY " + table + " (" + columns + ") FROM STDIN (FORMAT binary)";
  std::uint64_t done = 0;
  while (auto batch = reader.next()) {
    if (!options.dry_run) {
      std::optional<pqxx::work> own;
      BatchOutcome o;
      if (in_binary) {
        o = write_binary_batch(bulk->connection(), copy_sql, *batch, options.on_reject);
      } else {
        pqxx::dbtransaction& tx = bulk ? bulk->tx() : own.emplace(conn);
        o = write_batch(tx, table, stage, *batch, options.on_reject);
      }
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

}  // namespace

void set_time_zone(pqxx::connection& c, const std::string& tz) {
  const std::string unknown =
      "unknown time zone '" + tz + "' (use a name such as Europe/Berlin or UTC)";
  pqxx::nontransaction tx(c);
  // Only names of the zone database count, not POSIX rules such as UTC+3 (whose sign
  // is the reverse of what one reads). A name of letters, '_' and '/' alone cannot
  // be a rule, which needs an offset: SET refuses it unless it names a zone, without
  // the 50 ms of listing them all.
  const bool plain = !tz.empty() && tz.find_first_not_of(
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_/") ==
                                        std::string::npos;
  if (!plain &&
      tx.exec_params1("SELECT count(*) FROM pg_timezone_names WHERE name = $1", tz)[0].as<int>() ==
          0) {
    throw ConfigError(unknown);
  }
  try {
    tx.exec0("SET TIME ZONE " + tx.quote(tz));
  } catch (const pqxx::sql_error&) {
    throw ConfigError(unknown);
  }
}

ImportReport import_file(const SqliteFile& file, pqxx::connection& conn,
                         const DatabaseConfig* binary, const ImportOptions& options) {
  const auto present = check_source_shape(file);
  ImportReport report;
  report.dry_run = options.dry_run;
  SeenInverters seen;
  report.tables.push_back(import_config_cache(file, conn, options));
  report.tables.push_back(import_production_cache(file, conn, options, seen));
  if (present.at("metrics")) {
    report.tables.push_back(import_metrics(file, conn, binary, options, seen));
  } else {
    auto missing = summary_for("metrics");
    missing.missing = true;
    report.tables.push_back(missing);
  }
  if (!options.dry_run && !seen.empty()) report.inverters_added = add_inverters(conn, seen);
  return report;
}

}  // namespace smiles::storage::sqlite_v1
