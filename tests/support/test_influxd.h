// Test support: a private InfluxDB 1.x server (Debian's influxd) per test, on a free
// loopback port with its own data directory, removed at the end; it can be killed,
// restarted on the same port and data, and frozen. A missing influxd fails the test.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "process.h"
#include "temp_dir.h"

namespace smiles::test {

struct InfluxdOptions {
  std::string cert_file, key_file;  // both: HTTPS only
  bool auth = false;                // auth-enabled, with an admin user (admin_user())
};

class TestInfluxd {
 public:
  explicit TestInfluxd(InfluxdOptions options = {});  // started and answering
  ~TestInfluxd();
  TestInfluxd(const TestInfluxd&) = delete;
  TestInfluxd& operator=(const TestInfluxd&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const;  // http(s)://127.0.0.1:<port>
  static const char* admin_user() { return "admin"; }
  static const char* admin_password() { return "admin-pass"; }

  void kill();    // SIGKILL
  void start();   // again, same port and data
  void freeze();  // SIGSTOP: connections are accepted by the kernel, nothing answers
  void thaw();

  // InfluxQL; the JSON answer (throws on an HTTP error or an "error" in it).
  nlohmann::json query(const std::string& q, const std::string& db = "") const;
  // count(<field>) of a measurement (0 when there is none).
  long count(const std::string& db, const std::string& measurement, const std::string& field) const;

 private:
  void launch();
  InfluxdOptions options_;
  TempDir dir_{"smiles-influxd"};
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace smiles::test
