#include "sqlite_file.h"

#include <array>
#include <filesystem>
#include <fstream>

#include "smiles/storage/errors.h"

namespace smiles::storage {

namespace {

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw SourceRefused(path + ": " + why);
}

// The file header (https://www.sqlite.org/fileformat.html): magic, page size and,
// when valid, the page count, which a truncated copy no longer reaches.
void check_header(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) refuse(path, "cannot read the file (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot open the file for reading");
  std::array<unsigned char, 100> h{};
  in.read(reinterpret_cast<char*>(h.data()), h.size());
  static constexpr std::string_view kMagic{"SQLite format 3\0", 16};
  if (in.gcount() < 100 || std::string_view(reinterpret_cast<char*>(h.data()), 16) != kMagic) {
    refuse(path, size == 0 ? "the file is empty, not an SQLite database"
                           : "not an SQLite database (no SQLite header)");
  }
  std::uint64_t page_size = (std::uint32_t{h[16]} << 8) | h[17];
  if (page_size == 1) page_size = 65536;
  const std::uint32_t change_counter = be32(&h[24]);
  const std::uint32_t page_count = be32(&h[28]);
  const std::uint32_t valid_for = be32(&h[92]);
  if (page_count != 0 && valid_for == change_counter) {
    const std::uint64_t expected = page_size * page_count;
    if (size < expected) {
      refuse(path, "the file is truncated: its header says " + std::to_string(expected) +
                       " bytes, the file has " + std::to_string(size) +
                       " (an incomplete copy? copy it again with the old bridge stopped)");
    }
  }
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    throw SourceRefused(std::string("cannot read the SQLite file: ") + sqlite3_errmsg(db));
  }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

bool SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw SourceRefused(std::string("reading the SQLite file failed: ") + sqlite3_errmsg(db_) +
                      " (check it with: sqlite3 FILE 'PRAGMA integrity_check')");
}

std::string_view SqliteStatement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr
             ? std::string_view{}
             : std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

SqliteFile::SqliteFile(const std::string& path, int lock_wait_ms) : path_(path) {
  check_header(path);
  // NOMUTEX: one thread at a time uses the connection; per-call locking cost a
  // quarter of the import's reading time.
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    refuse(path, "cannot open: " + why);
  }
  sqlite3_busy_timeout(db_, lock_wait_ms);
  // The first read takes the shared lock: a writer holding the file fails here.
  const int rc =
      sqlite3_exec(db_, "BEGIN; SELECT count(*) FROM sqlite_master;", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    const int code = sqlite3_errcode(db_) & 0xff;
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_close(db_);
    db_ = nullptr;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      refuse(path,
             "the file is locked by another program (is the old bridge still running? stop it "
             "first)");
    }
    if (code == SQLITE_NOTADB) refuse(path, "not an SQLite database (" + why + ")");
    refuse(path, "cannot read: " + why + " (the file may be damaged)");
  }
}

SqliteFile::~SqliteFile() {
  if (db_ != nullptr) {
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
}

std::vector<std::string> SqliteFile::tables() const {
  std::vector<std::string> out;
  SqliteStatement s(db_, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

std::vector<std::string> SqliteFile::columns(const std::string& table) const {
  std::vector<std::string> out;
  SqliteStatement s(db_, "SELECT name FROM pragma_table_info('" + table + "')");
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

std::int64_t SqliteFile::count(const std::string& table) const {
  SqliteStatement s(db_, "SELECT count(*) FROM \"" + table + "\"");
  return s.step() ? s.int64(0) : 0;
}

}  // namespace smiles::storage
