#include "smiles/storage/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "reading_json.h"
#include "smiles/core/error.h"

namespace smiles::storage {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'S', 'M', 'S', 'P'};
constexpr std::size_t kHeader = 12;
constexpr std::uint32_t kMaxPayload = 64U * 1024 * 1024;

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw IoError("spool " + path.string() + ": " + what + ": " + std::strerror(errno));
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

// Reads exactly bytes.size() bytes at `offset`; false at end of file.
bool read_at(int fd, std::uint64_t offset, std::span<std::uint8_t> bytes,
             const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n =
        pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read", path);
    if (n == 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::uint64_t file_size(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (fstat(fd, &st) != 0) fail("stat", path);
  return static_cast<std::uint64_t>(st.st_size);
}

// Offset of the next record magic at or after `from`, searching in 64 KiB windows.
std::optional<std::uint64_t> find_magic(int fd, std::uint64_t from, std::uint64_t size,
                                        const std::filesystem::path& path) {
  std::vector<std::uint8_t> window(std::size_t{64} * 1024);
  while (from + kMagic.size() <= size) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(window.size(), size - from));
    if (!read_at(fd, from, {window.data(), n}, path)) return std::nullopt;
    const auto it = std::search(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(n),
                                kMagic.begin(), kMagic.end());
    if (it != window.begin() + static_cast<std::ptrdiff_t>(n)) {
      return from + static_cast<std::uint64_t>(it - window.begin());
    }
    if (n < kMagic.size()) return std::nullopt;
    from += n - (kMagic.size() - 1);  // a magic may straddle two windows
  }
  return std::nullopt;
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFU;
  for (std::uint8_t b : bytes) crc = table[(crc ^ b) & 0xFFU] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFU;
}

std::string encode_reading(const DtuReading& r) {
  nlohmann::json inverters = nlohmann::json::array();
  for (const auto& i : r.inverters) inverters.push_back(inverter_to_json(i));
  return nlohmann::json{{"n", r.dtu_name},
                        {"a", r.dtu_address},
                        {"d", r.dtu_serial},
                        {"ts", to_micros(r.timestamp)},
                        {"i", std::move(inverters)}}
      .dump();
}

DtuReading decode_reading(std::string_view payload) {
  try {
    const auto j = nlohmann::json::parse(payload);
    DtuReading r;
    r.dtu_name = j.at("n").get<std::string>();
    r.dtu_address = j.at("a").get<std::string>();
    r.dtu_serial = j.at("d").get<std::string>();
    r.timestamp = from_micros(j.at("ts").get<std::int64_t>());
    for (const auto& ji : j.at("i")) r.inverters.push_back(inverter_from_json(ji));
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("spool record is not a reading: ") + e.what());
  }
}

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {
  std::error_code ec;
  if (options_.path.has_parent_path()) {
    std::filesystem::create_directories(options_.path.parent_path(), ec);
  }
  const bool existed = std::filesystem::exists(options_.path);
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fail("cannot open", options_.path);
  if (!existed && options_.path.has_parent_path()) {  // make the new file's name durable
    const int dir = ::open(options_.path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  const auto size = file_size(fd_, options_.path);
  const Scan s = scan([](std::string_view) {}, 0, size, UINT64_MAX);
  if (s.good_end < size) {  // torn tail: cut it off so appends continue cleanly
    if (::ftruncate(fd_, static_cast<off_t>(s.good_end)) != 0) fail("truncate", options_.path);
    ::fsync(fd_);
  }
  stats_.bytes = s.good_end;
  stats_.readings = s.records;
  stats_.damaged_records = s.damaged + (s.good_end < size ? 1 : 0);
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

// Reads one record at a time: memory stays at one payload however large the file.
template <typename Visit>
Spool::Scan Spool::scan(Visit&& visit, std::uint64_t from, std::uint64_t size,
                        std::uint64_t max_records) const {
  Scan s;
  s.good_end = from;
  std::uint64_t pos = from;
  std::array<std::uint8_t, kHeader> header{};
  std::vector<std::uint8_t> payload;
  while (pos + kHeader <= size && s.records < max_records) {
    bool intact = false;
    if (read_at(fd_, pos, header, options_.path) &&
        std::memcmp(header.data(), kMagic.data(), kMagic.size()) == 0) {
      const std::uint32_t len = get_u32(header.data() + 4);
      if (len <= kMaxPayload && pos + kHeader + len <= size) {
        payload.resize(len);
        intact = read_at(fd_, pos + kHeader, payload, options_.path) &&
                 crc32(payload) == get_u32(header.data() + 8);
      }
      if (intact) {
        visit(std::string_view(reinterpret_cast<const char*>(payload.data()), len));
        pos += kHeader + len;
        s.good_end = pos;
        ++s.records;
        continue;
      }
    }
    // Damaged: resynchronise on the next magic, if an intact record may follow.
    const auto next = find_magic(fd_, pos + 1, size, options_.path);
    if (!next || *next + kHeader > size) break;  // nothing after: a torn tail
    ++s.damaged;
    pos = *next;
  }
  return s;
}

bool Spool::append(const DtuReading& reading) {
  const std::string payload = encode_reading(reading);
  std::vector<std::uint8_t> record(kHeader + payload.size());
  std::memcpy(record.data(), kMagic.data(), kMagic.size());
  put_u32(record.data() + 4, static_cast<std::uint32_t>(payload.size()));
  put_u32(record.data() + 8,
          crc32({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}));
  std::memcpy(record.data() + kHeader, payload.data(), payload.size());

  std::lock_guard lock(mutex_);
  if (stats_.bytes + record.size() > options_.max_bytes) {
    ++stats_.dropped;
    return false;
  }
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::pwrite(fd_, record.data() + written, record.size() - written,
                               static_cast<off_t>(stats_.bytes + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n == 0 ? ENOSPC : errno;
      // Leave no half record behind for the next append to follow.
      [[maybe_unused]] const int rc = ::ftruncate(fd_, static_cast<off_t>(stats_.bytes));
      errno = error;  // the write's reason, not the truncate's
      fail("write", options_.path);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) fail("fsync", options_.path);
  stats_.bytes += record.size();
  ++stats_.readings;
  ++stats_.appended;
  return true;
}

std::size_t Spool::replay_batch(ReadingSink& sink, std::size_t batch) {
  std::lock_guard replaying(replay_mutex_);
  std::uint64_t from = 0;
  std::uint64_t end = 0;
  {
    std::lock_guard lock(mutex_);
    if (stats_.readings == 0) return 0;
    from = head_;
    end = stats_.bytes;
  }
  // Records below `end` are complete and never rewritten: read them unlocked.
  std::vector<DtuReading> pending;
  std::uint64_t undecodable = 0;
  const Scan s = scan(
      [&](std::string_view payload) {
        try {
          pending.push_back(decode_reading(payload));
        } catch (const DataError&) {
          ++undecodable;  // intact CRC but unreadable: written by a foreign tool
        }
      },
      from, end, std::max<std::size_t>(batch, 1));
  if (!pending.empty()) sink.write(pending);
  std::lock_guard lock(mutex_);
  head_ = s.records == 0 ? end : s.good_end;  // nothing intact left: all of it is damage
  stats_.readings -= std::min(stats_.readings, s.records);
  stats_.damaged_records += undecodable;  // torn or corrupt ones were counted at open
  stats_.replayed += pending.size();
  if (head_ >= stats_.bytes) {  // caught up with the appends: start the file afresh
    if (::ftruncate(fd_, 0) != 0) fail("truncate", options_.path);
    if (::fsync(fd_) != 0) fail("fsync", options_.path);
    stats_.bytes = 0;
    stats_.readings = 0;
    head_ = 0;
  }
  return static_cast<std::size_t>(s.records);
}

std::uint64_t Spool::replay(ReadingSink& sink, std::size_t batch) {
  const auto before = stats().replayed;
  while (replay_batch(sink, batch) > 0) {
  }
  return stats().replayed - before;
}

SpoolStats Spool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace smiles::storage
