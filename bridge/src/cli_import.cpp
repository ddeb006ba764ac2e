// hoymiles-smiles import sqlite FILE | mysql --from URL | archive DIR, and export:
// move the earlier Python bridge's databases, or an export, into PostgreSQL (see
// MIGRATION.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

#include "commands.h"
#include "db_flags.h"
#include "env_config.h"
#include "smiles/storage/archive.h"
#include "smiles/storage/connection_pool.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/mysql_v2_importer.h"
#include "smiles/storage/sqlite_v1_importer.h"

namespace smiles::bridge {

namespace {

struct SqliteArgs {  // the command line of `import sqlite`
  std::string file;
  DbFlags db;
  bool dry_run = false;
  bool verify = false;
  bool verify_only = false;
  bool no_progress = false;
  std::string rejects = "import-rejects.csv";
  std::size_t batch_rows = 20000;
  std::uint64_t bulk_min_rows = 200000;
};

std::string csv(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Rejected rows go to a CSV file, created on the first one.
class RejectFile {
 public:
  explicit RejectFile(std::string path) : path_(std::move(path)) {}
  void add(const storage::ImportReject& r) {
    ++count_;
    if (!out_.is_open()) {
      out_.open(path_, std::ios::trunc);
      if (!out_) throw IoError("cannot write the reject file " + path_);
      out_ << "table,rowid,reason,values\n";
    }
    std::string values;
    for (const auto& v : r.values) values += (values.empty() ? "" : " | ") + v;
    out_ << csv(r.table) << ',' << r.rowid << ',' << csv(r.reason) << ',' << csv(values) << '\n';
  }
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::uint64_t count_ = 0;
};

// One line, rewritten in place, at most twice a second.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void show(const storage::ImportProgress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (p.rows_done < p.rows_total && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    const double rate = p.seconds > 0 ? static_cast<double>(p.rows_done) / p.seconds : 0;
    const double eta =
        rate > 0 ? static_cast<double>(p.rows_total - std::min(p.rows_done, p.rows_total)) / rate
                 : 0;
    std::fprintf(stderr, "\r  %-16s %12llu / %llu rows  %9.0f rows/s  ETA %5.0f s   ",
                 p.table.c_str(), static_cast<unsigned long long>(p.rows_done),
                 static_cast<unsigned long long>(p.rows_total), rate, eta);
    if (p.rows_done >= p.rows_total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
};

void print_summary(const storage::ImportReport& r) {
  bool collapsing = false;
  for (const auto& t : r.tables) collapsing = collapsing || t.collapsed > 0;
  std::printf("\n%-18s %12s %12s %16s %10s %9s%s\n", "table", "read",
              r.dry_run ? "importable" : "imported", r.dry_run ? "" : "already present", "rejected",
              "seconds", collapsing ? "   collapsed" : "");
  for (const auto& t : r.tables) {
    if (t.missing) {
      std::printf("%-18s %12s   (no such table in this file: nothing to import)\n", t.table.c_str(),
                  "-");
      continue;
    }
    const auto ok = t.collapsed > 0 ? t.imported : t.read - t.rejected;
    std::printf("%-18s %12llu %12llu %16s %10llu %9.1f", t.table.c_str(),
                static_cast<unsigned long long>(t.read),
                static_cast<unsigned long long>(r.dry_run ? ok : t.imported),
                r.dry_run ? "" : std::to_string(t.already_present).c_str(),
                static_cast<unsigned long long>(t.rejected), t.seconds);
    if (collapsing) std::printf(" %11llu", static_cast<unsigned long long>(t.collapsed));
    std::printf("\n");
  }
  if (collapsing) {
    std::printf(
        "collapsed: rows of one poll merged into one (the Python bridge wrote inverter_data once "
        "per port)\n");
  }
  if (!r.dry_run)
    std::printf("inverters added: %llu\n", static_cast<unsigned long long>(r.inverters_added));
}

// The terminal side both importers share: rejected rows to the reject file (a dry run
// shows the first ten instead), the progress line, and the summary at the end.
class ImportOutput {
 public:
  ImportOutput(const std::string& rejects, bool dry_run, bool progress)
      : rejects_(rejects), progress_(progress && isatty(STDERR_FILENO) == 1), dry_run_(dry_run) {}

  std::function<void(const storage::ImportReject&)> on_reject() {
    return [this](const storage::ImportReject& r) {
      if (!dry_run_) {
        rejects_.add(r);
      } else if (samples_.size() < 10) {
        samples_.push_back(r);
      }
    };
  }
  std::function<void(const storage::ImportProgress&)> on_progress() {
    return [this](const storage::ImportProgress& p) { progress_.show(p); };
  }
  // `row_id`: what identifies a source row ("rowid", "id").
  void finish(const storage::ImportReport& report, const char* row_id) const {
    print_summary(report);
    if (rejects_.count() > 0) {
      std::cout << rejects_.count() << " rejected rows, with the reason for each, are in "
                << rejects_.path() << "\n";
    }
    for (const auto& r : samples_) {
      std::cout << "  would reject " << r.table << " " << row_id << " " << r.rowid << ": "
                << r.reason << "\n";
    }
    if (dry_run_) std::cout << "dry run: nothing was written\n";
  }

 private:
  RejectFile rejects_;
  ProgressLine progress_;
  bool dry_run_;
  std::vector<storage::ImportReject> samples_;
};

int print_verify(const storage::VerifyReport& v, const char* source) {
  std::printf("\nverify: the %s's importable rows against the database\n", source);
  std::printf("%-18s %12s %12s %12s %10s  %-17s %-17s\n", "table",
              (std::string("in ") + source).c_str(), "found", "differing", "missing",
              (std::string(source) + " checksum").c_str(), "database checksum");
  for (const auto& t : v.tables) {
    std::printf(
        "%-18s %12llu %12llu %12llu %10llu  %-17s %-17s\n", t.table.c_str(),
        static_cast<unsigned long long>(t.source_rows), static_cast<unsigned long long>(t.found),
        static_cast<unsigned long long>(t.differing), static_cast<unsigned long long>(t.missing),
        t.source_checksum.c_str(), t.database_checksum.c_str());
  }
  std::printf(v.ok() ? "verify: OK, every importable row is in the database\n"
                     : "verify: FAILED, rows are missing (run the import again)\n");
  return v.ok() ? kExitOk : kExitFailure;
}

// Brings the schema up to date unless told not to write; false when it cannot be.
bool prepare_schema(storage::ConnectionPool& pool, const DbSettings& settings, bool write,
                    const char* me) {
  storage::Migrator migrator(pool, storage::MigratorOptions{"", settings.rules});
  const auto status = migrator.status();
  if (status.up_to_date()) return true;
  if (!status.problems.empty()) {
    std::cout << storage::format_status(status);
    std::cerr << me << ": the database schema needs attention first (see above)\n";
    return false;
  }
  if (!write) {
    std::cout << "dry run: the schema would be upgraded to version " << status.latest_version
              << " first\n";
    return true;
  }
  for (int v : migrator.upgrade().applied_versions)
    std::cout << "applied schema migration " << v << "\n";
  return true;
}

int run_import(const SqliteArgs& o) {
  const char* me = "hoymiles-smiles import sqlite";
  return run_guarded(me, [&] {
    const auto settings = db_settings(o.db);
    // The file is checked before anything, the schema included, is written.
    storage::SqliteV1Importer::check(o.file);
    storage::ConnectionPool pool(settings.database);
    std::cout << "source   " << o.file << "\ndatabase " << storage::describe(settings.database)
              << "\ntimezone " << settings.rules.timezone << " (of the file's timestamps)\n";
    if (!prepare_schema(pool, settings, !o.dry_run && !o.verify_only, me)) return kExitFailure;
    ImportOutput output(o.rejects, o.dry_run, !o.no_progress);
    storage::ImportOptions options;
    options.timezone = settings.rules.timezone;
    options.reset_hour = settings.rules.reset_hour;
    options.dry_run = o.dry_run;
    options.batch_rows = o.batch_rows;
    options.bulk_min_rows = o.bulk_min_rows;
    options.on_reject = output.on_reject();
    options.on_progress = output.on_progress();
    storage::SqliteV1Importer importer(pool, options);
    if (!o.verify_only) output.finish(importer.run(o.file), "rowid");
    return o.verify || o.verify_only ? print_verify(importer.verify(o.file), "file") : kExitOk;
  });
}

struct MysqlArgs {  // the command line of `import mysql`
  std::string from;
  DbFlags db;
  bool dry_run = false;
  bool verify = false;
  bool verify_only = false;
  bool no_progress = false;
  std::string rejects = "import-rejects.csv";
  std::size_t batch_rows = 50000;
};

int run_import_mysql(const MysqlArgs& o) {
  const char* me = "hoymiles-smiles import mysql";
  return run_guarded(me, [&] {
    auto source = storage::parse_mysql_url(o.from);
    if (source.password.empty()) {
      // Kept out of the command line (and ps) when given this way.
      if (auto pw = process_environment()("SMILES_MYSQL_PASSWORD")) source.password = *pw;
    }
    const auto settings = db_settings(o.db);
    // The source is checked before anything, the schema included, is written.
    const auto shape = storage::MysqlV2Importer::check(source);
    storage::ConnectionPool pool(settings.database);
    std::cout << "source   " << storage::describe(source) << " (" << shape.server << ")\ndatabase "
              << storage::describe(settings.database)
              << "\ntimes    MySQL TIMESTAMPs are stored in UTC; read with the session time zone "
                 "set to UTC (+00:00)\nday      production days in "
              << settings.rules.timezone << ", reset hour " << settings.rules.reset_hour << "\n";
    for (const auto& n : shape.notes) std::cout << "note: " << n << "\n";
    if (!prepare_schema(pool, settings, !o.dry_run && !o.verify_only, me)) return kExitFailure;
    ImportOutput output(o.rejects, o.dry_run, !o.no_progress);
    storage::MysqlImportOptions options;
    options.production = settings.rules;
    options.dry_run = o.dry_run;
    options.batch_rows = o.batch_rows;
    options.on_reject = output.on_reject();
    options.on_progress = output.on_progress();
    storage::MysqlV2Importer importer(pool, options);
    if (!o.verify_only) output.finish(importer.run(source), "id");
    return o.verify || o.verify_only ? print_verify(importer.verify(source), "source") : kExitOk;
  });
}

struct ArchiveOptions {
  std::string dir;
  DbFlags db;
};

int run_import_archive(const ArchiveOptions& o) {
  const char* me = "hoymiles-smiles import archive";
  return run_guarded(me, [&] {
    const auto settings = db_settings(o.db);
    const int latest = storage::builtin_migrations().back().version;
    const auto manifest = storage::read_archive(o.dir, latest);  // checked before any write
    std::cout << "archive  " << o.dir << " (schema version " << manifest.schema_version
              << ", exported " << manifest.created_at << ")\ndatabase "
              << storage::describe(settings.database) << "\n";
    storage::ConnectionPool pool(settings.database);
    if (!prepare_schema(pool, settings, true, me)) return kExitFailure;
    const auto report = storage::import_archive(settings.database, o.dir, latest);
    std::printf("\n%-18s %12s %12s %16s %10s %9s\n", "table", "rows", "imported", "already present",
                "differing", "seconds");
    for (const auto& t : report.tables) {
      std::printf("%-18s %12llu %12llu %16llu %10llu %9.1f\n", t.name.c_str(),
                  static_cast<unsigned long long>(t.rows),
                  static_cast<unsigned long long>(t.imported),
                  static_cast<unsigned long long>(t.already_present),
                  static_cast<unsigned long long>(t.differing), t.seconds);
    }
    std::cout << "manifest verified: every table's row count and checksum match\n";
    const auto days = storage::rebuild_energy_history(pool, settings.rules);
    std::cout << "energy history rebuilt from the readings: " << days << " closed port-days\n";
    return kExitOk;
  });
}

struct ExportOptions {
  std::string dir;
  DbFlags db;
};

int run_export(const ExportOptions& o) {
  const char* me = "hoymiles-smiles export";
  return run_guarded(me, [&] {
    const auto settings = db_settings(o.db);
    std::cout << "database " << storage::describe(settings.database) << "\nexport   " << o.dir
              << "\n";
    const auto report = storage::export_archive(settings.database, o.dir);
    std::printf("\n%-18s %12s  %s\n", "table", "rows", "file");
    for (const auto& t : report.manifest.tables) {
      std::printf("%-18s %12llu  %s\n", t.name.c_str(), static_cast<unsigned long long>(t.rows),
                  t.file.c_str());
    }
    std::printf("schema version %d; %.1f MB in %.1f s; manifest: %s/%s\n",
                report.manifest.schema_version, static_cast<double>(report.bytes) / 1e6,
                report.seconds, o.dir.c_str(), storage::kArchiveManifest);
    return kExitOk;
  });
}

}  // namespace

void add_export_command(CLI::App& app, CommandRun& run) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export",
      "Write every table as CSV plus manifest.json (schema version, row counts, checksums) into "
      "a new directory: a portable copy to move or back up the database without pg_dump");
  cmd->add_option("dir", o->dir, "a directory that does not exist yet (or is empty)")->required();
  add_db_flags(cmd, o->db, "");
  cmd->footer(
      "Exit codes: 0 written, 1 database error, 2 bad arguments or a non-empty directory, "
      "3 database unreachable or the directory cannot be written.");
  cmd->callback([&run, o] { run = [o] { return run_export(*o); }; });
}

void add_import_command(CLI::App& app, CommandRun& run) {
  auto* cmd =
      app.add_subcommand("import", "Import data from the earlier Python bridge or an export");
  cmd->require_subcommand(1);
  auto o = std::make_shared<SqliteArgs>();
  auto* sqlite = cmd->add_subcommand(
      "sqlite",
      "Import an S-Miles v1 SQLite file (hoymiles-smiles.db or hoymiles-mqtt.db): metrics, "
      "production_cache and config_cache. Safe to repeat: rows already present are skipped.");
  sqlite->add_option("file", o->file, "the SQLite file (stop the old bridge first)")->required();
  add_db_flags(sqlite, o->db, "Time zone the old bridge wrote its timestamps in");
  sqlite->add_flag("--dry-run", o->dry_run, "read and check everything, write nothing");
  sqlite->add_flag("--verify", o->verify,
                   "after importing, compare the file with the database (counts, checksums)");
  sqlite->add_flag("--verify-only", o->verify_only, "compare only, import nothing");
  sqlite
      ->add_option("--rejects", o->rejects,
                   "CSV file for rows that cannot be imported, with the reason (created only "
                   "when there are some)")
      ->capture_default_str();
  sqlite->add_flag("--no-progress", o->no_progress, "no progress line on the terminal");
  sqlite->add_option("--batch-rows", o->batch_rows, "metrics rows per COPY transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  sqlite
      ->add_option("--bulk-min-rows", o->bulk_min_rows,
                   "when system_metrics is empty, load a file with at least this many metrics "
                   "rows in one transaction and build the indexes afterwards (about twice as "
                   "fast; killed, it leaves the table as it was)")
      ->capture_default_str();
  sqlite->footer(
      "Exit codes: 0 imported (rejected rows, if any, are listed in the reject file), 1 file "
      "refused, schema problem or verify found missing rows, 2 bad arguments, 3 database "
      "unreachable.");
  sqlite->callback([&run, o] { run = [o] { return run_import(*o); }; });

  auto m = std::make_shared<MysqlArgs>();
  auto* mysql = cmd->add_subcommand(
      "mysql",
      "Import the MySQL/MariaDB database of the S-Miles v2 Python bridge (DB_TYPE=mysql or "
      "mariadb): readings, inverters, production cache, config and metrics. Safe to repeat, "
      "and a killed import goes on where it stopped.");
  mysql
      ->add_option("--from", m->from,
                   "the source, mysql://user:password@host:3306/database (?socket=/path for a "
                   "unix socket). Without a password in the URL, SMILES_MYSQL_PASSWORD is used; "
                   "the password is never printed")
      ->required();
  add_db_flags(mysql, m->db, "Time zone of the production days (MySQL times are UTC)");
  mysql->add_flag("--dry-run", m->dry_run,
                  "read and check everything, stage and count it in a transaction that is "
                  "rolled back, write nothing");
  mysql->add_flag("--verify", m->verify,
                  "after importing, compare the source with the database (counts, checksums)");
  mysql->add_flag("--verify-only", m->verify_only, "compare only, import nothing");
  mysql
      ->add_option("--rejects", m->rejects,
                   "CSV file for rows that cannot be imported, with the reason (created only "
                   "when there are some)")
      ->capture_default_str();
  mysql->add_flag("--no-progress", m->no_progress, "no progress line on the terminal");
  mysql->add_option("--batch-rows", m->batch_rows, "rows per staged (committed) COPY batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  mysql->footer(
      "Exit codes: 0 imported (rejected rows, if any, are listed in the reject file), 1 source "
      "refused (not an S-Miles v2 database, login refused), schema problem or verify found "
      "missing rows, 2 bad arguments, 3 MySQL or PostgreSQL unreachable.");
  mysql->callback([&run, m] { run = [m] { return run_import_mysql(*m); }; });

  auto a = std::make_shared<ArchiveOptions>();
  auto* archive = cmd->add_subcommand(
      "archive",
      "Load a directory written by `hoymiles-smiles export`: checks the manifest and every file "
      "first, then loads each table in one transaction. Safe to repeat.");
  archive->add_option("dir", a->dir, "the export directory (with manifest.json)")->required();
  add_db_flags(archive, a->db, "");
  archive->footer(
      "Exit codes: 0 imported and verified against the manifest, 1 archive refused or rows not "
      "matching the manifest (that table is rolled back), 2 bad arguments, 3 database "
      "unreachable.");
  archive->callback([&run, a] { run = [a] { return run_import_archive(*a); }; });
}

}  // namespace smiles::bridge
