#include "smiles/storage/mysql_v2_importer.h"

#include <charconv>
#include <pqxx/pqxx>

#include "energy_history.h"
#include "import_verify.h"
#include "legacy_sql.h"
#include "mysql_client.h"
#include "mysql_v2_source.h"
#include "production_rebuild.h"
#include "smiles/core/error.h"
#include "smiles/storage/errors.h"

namespace smiles::storage {

using legacy::Found;

namespace {

std::string percent_decode(std::string_view in, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int v = 0;
    if (i + 2 >= in.size() ||
        std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16).ptr != in.data() + i + 3) {
      throw ConfigError(std::string("--from: a bad %-escape in the ") + what);
    }
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

constexpr const char* kUrlForm = "mysql://user:password@host:3306/database";

// The source tables in the order they are staged (inverters first: small).
constexpr std::array<const char*, 6> kTables = {"inverters",     "config_cache", "production_cache",
                                                "inverter_data", "port_data",    "system_metrics"};

struct Session {
  MysqlClient client;
  MysqlShape shape;
  Found found;
  explicit Session(const MysqlSource& source) : client(source) {
    found = mysql_v2::read_shape(client, shape);
  }
};

std::vector<mysql_v2::Staged> stage_all(Session& s, pqxx::connection& conn, pqxx::work* outer,
                                        const std::string& schema,
                                        const MysqlImportOptions& options) {
  std::vector<mysql_v2::Staged> out;
  for (const char* table : kTables) {
    if (!s.found.has(table)) continue;
    out.push_back(mysql_v2::stage_table(s.client, conn, outer, schema, s.found, table, options));
  }
  return out;
}

// The staging schema must hold this source's rows only: a run that was killed
// resumes only from the same source.
void claim_staging(pqxx::connection& conn, const std::string& schema, const std::string& source) {
  pqxx::work tx(conn);
  const std::string table = tx.quote_name(schema) + ".source";
  if (tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NOT NULL")[0].as<bool>() &&
      tx.exec_params1("SELECT count(*) FROM " + table + " WHERE what <> $1", source)[0].as<int>() >
          0) {
    tx.exec("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");  // another source's rows
  }
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(schema));
  tx.exec("CREATE TABLE IF NOT EXISTS " + table +
          " (what text NOT NULL, started timestamptz NOT NULL DEFAULT now())");
  tx.exec_params(
      "INSERT INTO " + table + " (what) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM " + table + ")",
      source);
  tx.commit();
}

ImportTableSummary summary_of(const mysql_v2::Staged& st, std::uint64_t staged_rows,
                              const legacy::Carried* carried) {
  ImportTableSummary t;
  t.table = st.table;
  t.rejected = st.rejected;
  t.read = staged_rows + st.rejected;
  t.seconds = st.seconds;
  if (carried != nullptr) {
    const auto selected = static_cast<std::uint64_t>(carried->selected);
    t.imported = static_cast<std::uint64_t>(carried->inserted);
    t.collapsed = staged_rows > selected ? staged_rows - selected : 0;
    t.already_present = selected - t.imported;
  }
  return t;
}

const legacy::Carried* carried_for(const std::vector<legacy::Carried>& carried,
                                   const std::string& table) {
  for (const auto& c : carried) {
    if (c.table == table) return &c;
  }
  return nullptr;
}

std::uint64_t staged_rows(pqxx::transaction_base& tx, const std::string& schema,
                          const std::string& table) {
  return tx.exec1("SELECT count(*) FROM " + legacy::qualified(tx, schema, table))[0]
      .as<std::uint64_t>();
}

}  // namespace

MysqlSource parse_mysql_url(const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("mysql://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("mariadb://")) {
    rest.remove_prefix(10);
  } else {
    throw ConfigError(std::string("--from must be a mysql:// URL, e.g. ") + kUrlForm);
  }
  MysqlSource s;
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    throw ConfigError(std::string("--from names no database (the Python bridge's DB_NAME): ") +
                      kUrlForm);
  }
  s.database = percent_decode(rest.substr(slash + 1), "database name");
  std::string_view authority = rest.substr(0, slash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    s.user = percent_decode(userinfo.substr(0, colon), "user");
    if (colon != std::string_view::npos) {
      s.password = percent_decode(userinfo.substr(colon + 1), "password");
    }
  }
  if (s.user.empty()) throw ConfigError(std::string("--from names no user: ") + kUrlForm);
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    const auto port_text = authority.substr(colon + 1);
    unsigned port = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      throw ConfigError("--from: the port must be 1-65535, not '" + std::string(port_text) + "'");
    }
    s.port = port;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty()) s.host = std::string(host);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.starts_with("socket=")) {
      s.socket = percent_decode(item.substr(7), "socket path");
    } else if (!item.empty()) {
      throw ConfigError("--from: unknown parameter '" + std::string(item) +
                        "' (only socket=/path/to/mysqld.sock)");
    }
  }
  return s;
}

std::string describe(const MysqlSource& s) {
  std::string out = "mysql://" + s.user + "@";
  out += s.socket.empty() ? s.host + ":" + std::to_string(s.port) : "localhost";
  out += "/" + s.database;
  if (!s.socket.empty()) out += "?socket=" + s.socket;
  return out;
}

MysqlV2Importer::MysqlV2Importer(ConnectionPool& pool, MysqlImportOptions options)
    : pool_(pool), options_(std::move(options)) {
  if (options_.batch_rows == 0) options_.batch_rows = 1;
}

MysqlShape MysqlV2Importer::check(const MysqlSource& source) { return Session(source).shape; }

ImportReport MysqlV2Importer::run(const MysqlSource& source) {
  Session s(source);
  auto conn = pool_.acquire();
  ImportReport report;
  report.dry_run = options_.dry_run;

  if (options_.dry_run) {
    // Everything in one transaction that is never committed.
    const std::string schema = std::string(kMysqlStagingSchema) + "_dry_run";
    pqxx::work tx(*conn);
    tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    mysql_v2::create_staging(tx, schema, s.found);
    const auto staged = stage_all(s, *conn, &tx, schema, options_);
    const Found f = legacy::find_tables(tx, schema);
    const auto carried = legacy::count_carry(tx, f, schema, "UTC");
    for (const auto& st : staged) {
      auto t = summary_of(st, staged_rows(tx, schema, st.table), carried_for(carried, st.table));
      t.imported = t.read - t.rejected - t.collapsed;
      report.tables.push_back(t);
    }
    return report;  // rolled back
  }

  const std::string schema = kMysqlStagingSchema;
  claim_staging(*conn, schema, describe(source));
  {
    pqxx::work tx(*conn);
    mysql_v2::create_staging(tx, schema, s.found);
    tx.commit();
  }
  const auto staged = stage_all(s, *conn, nullptr, schema, options_);

  // One transaction carries the staged rows over and drops the staging schema.
  pqxx::work tx(*conn);
  const Found f = legacy::find_tables(tx, schema);
  const auto carried = legacy::carry_over(tx, f, schema, "UTC");
  for (const auto& st : staged) {
    report.tables.push_back(
        summary_of(st, staged_rows(tx, schema, st.table), carried_for(carried, st.table)));
  }
  if (const auto* inv = carried_for(carried, "inverters")) {
    report.inverters_added = static_cast<std::uint64_t>(inv->inserted);
  }
  // The production cache: from the readings (the served-energy model), and ports the
  // old cache knows but no reading shows keep its total.
  auto cache_ports = static_cast<std::uint64_t>(fill_production_cache(tx, options_.production));
  if (f.has("production_cache")) {
    cache_ports +=
        tx.exec_params(
              "INSERT INTO production_cache (serial_number, port_number, today_production, "
              "total_production, production_day, last_updated, raw_total, latest) SELECT "
              "l.serial_number, l.port_number, 0, l.total_production, " +
                  production_day_sql("coalesce(l.last_updated AT TIME ZONE 'UTC', now())", "$1",
                                     "$2") +
                  ", coalesce(l.last_updated AT TIME ZONE 'UTC', now()), "
                  "l.total_production, l.last_updated AT TIME ZONE 'UTC' FROM " +
                  legacy::qualified(tx, schema, "production_cache") +
                  " l WHERE l.serial_number IS NOT NULL AND l.port_number IS NOT NULL AND "
                  "coalesce(l.total_production, 0) > 0 ON CONFLICT DO NOTHING",
              options_.production.timezone, options_.production.reset_hour)
            .affected_rows();
  }
  for (auto& t : report.tables) {
    if (t.table == "production_cache") t.imported = cache_ports;  // ports added
  }
  tx.exec(
      "INSERT INTO dtus (dtu_name, last_seen) SELECT dtu_name, max(last_seen) FROM inverters "
      "WHERE dtu_name IS NOT NULL GROUP BY dtu_name ON CONFLICT DO NOTHING");
  rebuild_energy_history(tx, options_.production);
  tx.exec_params(
      "INSERT INTO config_cache (key, value) VALUES ('smiles_mysql_import', jsonb_build_object("
      "'source', $1::text, 'server', $2::text, 'imported_at', now())) ON CONFLICT (key) DO "
      "NOTHING",
      describe(source), s.shape.server);
  tx.exec("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");
  tx.commit();
  return report;
}

VerifyReport MysqlV2Importer::verify(const MysqlSource& source) {
  Session s(source);
  auto conn = pool_.acquire();
  std::vector<std::string> targets;
  for (const char* t :
       {"inverters", "inverter_data", "port_data", "config_cache", "system_metrics"}) {
    if (s.found.has(t) || std::string(t) == "inverters") targets.emplace_back(t);
  }
  const verify::ShadowTables shadow(*conn, targets);
  const std::string schema = std::string(kMysqlStagingSchema) + "_verify";
  pqxx::work tx(*conn);
  tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
  mysql_v2::create_staging(tx, schema, s.found);
  MysqlImportOptions quiet = options_;
  quiet.on_reject = nullptr;
  quiet.on_progress = nullptr;
  stage_all(s, *conn, &tx, schema, quiet);
  const Found f = legacy::find_tables(tx, schema);
  legacy::carry_over(tx, f, schema, "UTC");  // into the shadows
  VerifyReport report;
  report.tables.reserve(targets.size());
  for (const auto& t : targets) report.tables.push_back(verify::compare_table(tx, t));
  return report;  // rolled back
}

}  // namespace smiles::storage
