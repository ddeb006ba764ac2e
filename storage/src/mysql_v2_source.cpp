#include "mysql_v2_source.h"

#include <nlohmann/json.hpp>

#include "legacy_sql.h"
#include "pg_copy.h"
#include "smiles/storage/errors.h"

namespace smiles::storage::mysql_v2 {

using legacy::Dialect;
using legacy::Found;
using legacy::Kind;
using legacy::legacy_tables;
using legacy::LegacyColumn;

namespace {

// A row without these cannot become a v2 row (they make its key).
bool required(const std::string& column) {
  return column == "serial_number" || column == "port_number" || column == "timestamp" ||
         column == "key" || column == "metric_name";
}

struct StagedColumn {
  std::string name;
  Kind kind = Kind::kText;
  std::string mysql_type;
};

// The DDL's columns the source has, in DDL order; raw_data (the same values again, as
// JSON) is not staged.
std::vector<StagedColumn> staged_columns(const Found& source, const std::string& table) {
  std::vector<StagedColumn> out;
  for (const auto& t : legacy_tables()) {
    if (table != t.name) continue;
    for (const auto& c : t.columns) {
      if (std::string(c.name) == "raw_data" || !source.has(table, c.name)) continue;
      out.push_back({c.name, c.kind, source.tables.at(table).at(c.name)});
    }
  }
  return out;
}

std::string pg_type(const StagedColumn& c) {
  switch (c.kind) {
    case Kind::kText:
      return "text";
    case Kind::kInteger:
      return c.name == "id" ? "bigint PRIMARY KEY" : "bigint";
    case Kind::kNumber:  // FLOAT stays single precision: its shortest text is exact
      return c.mysql_type == "float" ? "real" : "double precision";
    case Kind::kTime:  // UTC, as the session shows it
      return "timestamp";
    case Kind::kJson:
      return "jsonb";
  }
  return "text";
}

// What MySQL is asked for: FLOATs widened to DOUBLE (exact; the text form of a FLOAT
// keeps only 6 digits: 12345.678 reads back as 12345.7).
std::string select_expr(const StagedColumn& c) {
  std::string name = "`" + c.name + "`";
  if (c.kind == Kind::kNumber && (c.mysql_type == "float" || c.mysql_type == "double")) {
    return "(" + name + " + 0e0)";
  }
  return name;
}

// YYYY-MM-DD HH:MM:SS[.ffffff] with a real date: MySQL's zero date
// (0000-00-00 00:00:00, stored by a server without strict mode) and others are not.
bool valid_time(std::string_view v) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > v.size()) return -1;
    int out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      out = out * 10 + (v[i] - '0');
    }
    return out;
  };
  if (v.size() < 19 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':') {
    return false;
  }
  const int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const int hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59) {
    return false;
  }
  if (v.size() == 19) return true;
  if (v[19] != '.' || v.size() == 20) return false;
  return digits(20, v.size() - 20) >= 0;
}

// Appends `row` to `text` as one COPY row, or returns why it cannot be staged (and
// appends nothing). One pass over the values.
std::string convert_row(const std::vector<StagedColumn>& columns, const MysqlClient::Row& row,
                        std::string& text) {
  const auto start = text.size();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto& c = columns[i];
    const auto& v = row[i];
    if (i > 0) text += '\t';
    std::string reason;
    if (!v || (c.kind == Kind::kTime && !valid_time(*v))) {
      if (required(c.name)) {
        reason = !v ? c.name + " is NULL" : c.name + " is not a valid time: " + std::string(*v);
      }
      copy_null(text);  // a time that is not one, outside the key: unknown
    } else if (c.kind == Kind::kText && v->find('\0') != std::string_view::npos) {
      reason = c.name + " holds a NUL byte";
    } else if (c.kind == Kind::kText && required(c.name) && v->empty()) {
      reason = c.name + " is empty";
    } else if (c.kind == Kind::kJson && !nlohmann::json::accept(*v)) {
      // Not JSON (a server that did not check): kept, as a JSON string.
      copy_field(text, nlohmann::json(std::string(*v)).dump());
    } else {
      copy_field(text, *v);
    }
    if (!reason.empty()) {
      text.resize(start);
      return reason;
    }
  }
  text += '\n';
  return {};
}

ImportReject reject_of(const std::string& table, const std::vector<StagedColumn>& columns,
                       const MysqlClient::Row& row, std::string reason) {
  ImportReject r{table, 0, std::move(reason), {}};
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == "id" && row[i]) r.rowid = std::stoll(std::string(*row[i]));
    r.values.push_back(row[i] ? std::string(*row[i]) : "NULL");
  }
  return r;
}

}  // namespace

Found read_shape(MysqlClient& client, MysqlShape& shape) {
  shape.server = client.server();
  Found f;
  for (const auto& r : client.rows(
           "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE "
           "TABLE_SCHEMA = DATABASE()")) {
    if (!r[0] || !r[1] || !r[2]) continue;
    for (const auto& t : legacy_tables()) {
      if (*r[0] == t.name) f.tables[*r[0]][*r[1]] = *r[2];
    }
  }
  if (!f.has("inverter_data") && !f.has("port_data") && !f.has("inverters")) {
    throw SourceRefused(
        "this MySQL database holds none of the S-Miles v2 tables (inverters, inverter_data, "
        "port_data): is --from the database the Python bridge wrote (its DB_NAME)? Nothing "
        "was written");
  }
  LegacyPlan plan;
  legacy::inspect(f, plan, Dialect::kMysql);
  for (const char* table : {"inverter_data", "port_data"}) {
    if (f.has(table) && !f.has(table, "id")) {
      plan.problems.push_back(std::string(table) +
                              " has no id column (BIGINT AUTO_INCREMENT in the v2 DDL)");
    }
  }
  if (!plan.problems.empty()) {
    std::string all;
    for (const auto& p : plan.problems) all += (all.empty() ? "" : "; ") + p;
    throw SourceRefused("this MySQL database is not an S-Miles v2 database, nothing was written: " +
                        all);
  }
  shape.notes = plan.notes;
  return f;
}

void create_staging(pqxx::transaction_base& tx, const std::string& schema, const Found& source) {
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
  for (const auto& t : legacy_tables()) {
    if (!source.has(t.name)) continue;
    std::string columns;
    for (const auto& c : staged_columns(source, t.name)) {
      columns += (columns.empty() ? "" : ", ") + tx.quote_name(c.name) + " " + pg_type(c);
    }
    tx.exec("CREATE TABLE IF NOT EXISTS " + legacy::qualified(tx, schema, t.name) + " (" + columns +
            ")");
  }
}

Staged stage_table(MysqlClient& client, pqxx::connection& conn, pqxx::work* outer,
                   const std::string& schema, const Found& source, const std::string& table,
                   const MysqlImportOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const auto columns = staged_columns(source, table);
  const bool ids = source.has(table, "id");
  const bool resumable = outer == nullptr && ids;
  Staged out;
  out.table = table;
  const std::string target = conn.quote_name(schema) + "." + conn.quote_name(table);
  std::uint64_t resume_after = 0;  // the last id staged by a run that was stopped
  if (resumable) {
    pqxx::work tx(conn);
    resume_after = tx.exec1("SELECT coalesce(max(id), 0) FROM " + target)[0].as<std::uint64_t>();
  }
  // A table without ids is staged whole, in one transaction.
  std::unique_ptr<pqxx::work> whole;
  if (outer == nullptr && !ids) whole = std::make_unique<pqxx::work>(conn);
  pqxx::work* single = outer != nullptr ? outer : whole.get();
  if (single != nullptr) single->exec("TRUNCATE " + target);

  std::string list;
  std::vector<std::string> names;
  names.reserve(columns.size());
  for (const auto& c : columns) {
    list += (list.empty() ? "" : ", ") + select_expr(c);
    names.push_back("\"" + c.name + "\"");
  }
  const std::string from =
      "FROM `" + table + "`" + (ids ? " WHERE id > " + std::to_string(resume_after) : "");
  const auto total_rows = client.rows("SELECT COUNT(*) " + from);
  ImportProgress progress{
      table, 0, total_rows.empty() || !total_rows[0][0] ? 0 : std::stoull(*total_rows[0][0]), 0};

  std::string batch;  // COPY rows, each ending in a newline
  std::size_t batch_rows = 0;
  auto flush = [&] {
    if (batch_rows == 0) return;
    batch.pop_back();  // copy_text() ends the last row itself
    if (single != nullptr) {
      copy_text(*single, target, names, batch);
    } else {
      pqxx::work tx(conn);
      copy_text(tx, target, names, batch);
      tx.commit();
    }
    batch.clear();
    batch_rows = 0;
  };
  auto last_report = std::chrono::steady_clock::now();
  client.stream("SELECT " + list + " " + from + (ids ? " ORDER BY id" : ""),
                [&](const MysqlClient::Row& row) {
                  ++out.read;
                  auto reason = convert_row(columns, row, batch);
                  if (!reason.empty()) {
                    ++out.rejected;
                    if (options.on_reject) {
                      options.on_reject(reject_of(table, columns, row, std::move(reason)));
                    }
                  } else if (++batch_rows >= options.batch_rows) {
                    flush();
                  }
                  const auto now = std::chrono::steady_clock::now();
                  if (options.on_progress && now - last_report > std::chrono::milliseconds(500)) {
                    last_report = now;
                    progress.rows_done = out.read;
                    progress.seconds = std::chrono::duration<double>(now - started).count();
                    options.on_progress(progress);
                  }
                });
  flush();
  if (whole) whole->commit();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (options.on_progress) {
    progress.rows_done = out.read;
    progress.rows_total = std::max<std::uint64_t>(progress.rows_total, out.read);
    progress.seconds = out.seconds;
    options.on_progress(progress);
  }
  return out;
}

}  // namespace smiles::storage::mysql_v2
