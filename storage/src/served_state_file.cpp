#include "smiles/storage/served_state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checksums.h"
#include "reading_json.h"
#include "smiles/core/error.h"

namespace smiles::storage {

namespace {

using nlohmann::json;

// Version 2: inverter readings in the spool's compact form (reading_json.h). A
// version-1 file is not read: the database's values stand in once.
constexpr const char* kHeader = "hoymiles-smiles served state 2";

[[noreturn]] void io_fail(const std::string& what, const std::filesystem::path& path) {
  throw IoError("cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

void ServedStateFile::save(const ServedState& state) const {
  json ports = json::array();
  for (const auto& r : state.ports) {
    const auto& e = r.energy;
    ports.push_back(
        {{"serial", r.serial_number},
         {"port", r.port_number},
         {"total", e.total},
         {"baseline", e.baseline},
         {"day", e.day},
         {"last_updated", to_micros(e.last_updated)},
         {"latest", to_micros(e.latest)},
         {"raw_total", e.raw_total},
         {"offset", e.offset},
         {"held", e.held},
         {"suspect", {e.suspect_first, e.suspect_last, e.suspect_count, e.suspect_low}}});
  }
  json inverters = json::array();
  for (const auto& inv : state.inverters) {
    if (!inv.latest) continue;
    inverters.push_back({{"dtu", inv.dtu_name},
                         {"first_seen", to_micros(inv.first_seen)},
                         {"last_seen", to_micros(inv.last_seen)},
                         {"timestamp", to_micros(inv.latest->timestamp)},
                         {"reading", inverter_to_json(inv.latest->values)}});
  }
  const std::string body = json{{"ports", ports}, {"inverters", inverters}}.dump();
  Fnv1a64 sum;
  sum.update(body);
  const std::string text = std::string(kHeader) + "\n" + body + "\nfnv1a64 " + sum.hex() + "\n";

  std::lock_guard lock(save_mutex_);
  const auto tmp = path_.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail("create", tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      io_fail("write", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    io_fail("fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) io_fail("rename into", path_);
  const auto dir = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);  // the rename itself survives a crash
    ::close(d);
  }
}

std::optional<ServedState> ServedStateFile::load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path_)) return std::nullopt;
    io_fail("read", path_);
  }
  std::string header, body, trailer;
  std::getline(in, header);
  std::getline(in, body);
  std::getline(in, trailer);
  const std::string damaged = path_.string() + " is damaged (";
  if (header != kHeader) {
    if (header.starts_with("hoymiles-smiles served state ")) {
      throw DataError(path_.string() + " was written in another format (" + header +
                      "); it is replaced after the next poll");
    }
    throw DataError(damaged + "not a served-state file of this program)");
  }
  Fnv1a64 sum;
  sum.update(body);
  if (trailer != "fnv1a64 " + sum.hex()) throw DataError(damaged + "checksum mismatch)");
  ServedState state;
  try {
    const auto j = json::parse(body);
    for (const auto& p : j.at("ports")) {
      PortEnergyRecord r{p.at("serial").get<std::string>(), p.at("port").get<int>(), {}};
      PortEnergy& e = r.energy;
      e.total = p.at("total").get<std::uint64_t>();
      e.baseline = p.at("baseline").get<std::uint64_t>();
      e.day = p.at("day").get<std::string>();
      e.last_updated = from_micros(p.at("last_updated").get<std::int64_t>());
      e.latest = from_micros(p.at("latest").get<std::int64_t>());
      e.raw_total = p.at("raw_total").get<std::uint64_t>();
      e.offset = p.at("offset").get<std::int64_t>();
      e.held = p.at("held").get<bool>();
      const auto& suspect = p.at("suspect");
      e.suspect_first = suspect.at(0).get<std::uint64_t>();
      e.suspect_last = suspect.at(1).get<std::uint64_t>();
      e.suspect_count = suspect.at(2).get<std::uint32_t>();
      e.suspect_low = suspect.at(3).get<bool>();
      if (e.baseline > e.total) throw DataError("baseline above total");
      state.ports.push_back(std::move(r));
    }
    for (const auto& i : j.at("inverters")) {
      StoredInverter inv;
      inv.dtu_name = i.at("dtu").get<std::string>();
      inv.first_seen = from_micros(i.at("first_seen").get<std::int64_t>());
      inv.last_seen = from_micros(i.at("last_seen").get<std::int64_t>());
      inv.latest = InverterSample{from_micros(i.at("timestamp").get<std::int64_t>()),
                                  inverter_from_json(i.at("reading"))};
      state.inverters.push_back(std::move(inv));
    }
  } catch (const json::exception& e) {
    throw DataError(damaged + e.what() + ")");
  } catch (const DataError& e) {
    throw DataError(damaged + e.what() + ")");
  }
  return state;
}

}  // namespace smiles::storage
