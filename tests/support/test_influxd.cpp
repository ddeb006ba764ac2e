#include "test_influxd.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "http_client.h"
#include "loopback.h"
#include "smiles/api/influx_writer.h"

namespace smiles::test {

using api::url_encode;

TestInfluxd::TestInfluxd(InfluxdOptions options) : options_(std::move(options)) {
  port_ = free_port();
  const auto d = dir_.path().string();
  std::ofstream conf(d + "/influxdb.conf");
  conf << "reporting-disabled = true\n"
       << "bind-address = \"127.0.0.1:" << free_port() << "\"\n"
       << "[meta]\n  dir = \"" << d << "/meta\"\n  logging-enabled = false\n"
       << "[data]\n  dir = \"" << d << "/data\"\n  wal-dir = \"" << d
       << "/wal\"\n  query-log-enabled = false\n"
       << "[monitor]\n  store-enabled = false\n"
       << "[subscriber]\n  enabled = false\n"
       << "[continuous_queries]\n  enabled = false\n"
       << "[http]\n  bind-address = \"127.0.0.1:" << port_ << "\"\n  log-enabled = false\n"
       << "  auth-enabled = " << (options_.auth ? "true" : "false") << "\n";
  if (!options_.cert_file.empty()) {
    conf << "  https-enabled = true\n  https-certificate = \"" << options_.cert_file
         << "\"\n  https-private-key = \"" << options_.key_file << "\"\n";
  }
  conf << "[logging]\n  level = \"warn\"\n";
  conf.close();
  launch();
  if (options_.auth) {
    // The first user may be created without credentials.
    const auto r =
        http_get(port_,
                 std::string("/query?q=") +
                     url_encode(std::string("CREATE USER ") + admin_user() + " WITH PASSWORD '" +
                                admin_password() + "' WITH ALL PRIVILEGES"),
                 {}, "POST");
    if (r.status != 200) throw std::runtime_error("cannot create the InfluxDB admin: " + r.body);
  }
}

TestInfluxd::~TestInfluxd() {
  if (process_) {
    thaw();
    process_->stop(SIGKILL);
  }
}

std::string TestInfluxd::url() const {
  return std::string(options_.cert_file.empty() ? "http" : "https") +
         "://127.0.0.1:" + std::to_string(port_);
}

void TestInfluxd::launch() {
  const auto d = dir_.path().string();
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "sh", "-c", "exec influxd run -config \"$0/influxdb.conf\" >>\"$0/influxd.log\" 2>&1", d});
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (std::chrono::steady_clock::now() < until) {
    // /ping answers 204 once the HTTP service runs; over HTTPS, an open port will do.
    if (options_.cert_file.empty() ? http_get(port_, "/ping").status == 204 : port_accepts(port_)) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  std::ifstream log(d + "/influxd.log");
  throw std::runtime_error("influxd did not start (is the influxdb package installed?): " +
                           std::string(std::istreambuf_iterator<char>(log), {}));
}

void TestInfluxd::kill() {
  if (!process_) return;
  thaw();
  process_->stop(SIGKILL);
  process_.reset();
}

void TestInfluxd::start() {
  if (!process_) launch();
}

void TestInfluxd::freeze() {
  if (process_) ::kill(process_->pid(), SIGSTOP);
}

void TestInfluxd::thaw() {
  if (process_) ::kill(process_->pid(), SIGCONT);
}

nlohmann::json TestInfluxd::query(const std::string& q, const std::string& db) const {
  nlohmann::json answer;
  if (options_.cert_file.empty()) {
    std::string target = "/query?epoch=ms&q=" + url_encode(q);
    if (!db.empty()) target += "&db=" + url_encode(db);
    if (options_.auth) {
      target += std::string("&u=") + admin_user() + "&p=" + url_encode(admin_password());
    }
    const auto r = http_get(port_, target, {}, "POST");
    if (r.status != 200) throw std::runtime_error("InfluxDB query failed: " + r.body);
    answer = nlohmann::json::parse(r.body);
  } else {
    // The influx client speaks HTTPS (the test's own HTTP client does not).
    std::vector<std::string> argv = {
        "influx",  "-ssl", "-unsafeSsl", "-host", "127.0.0.1", "-port", std::to_string(port_),
        "-format", "json", "-precision", "ms",    "-execute",  q};
    if (!db.empty()) argv.insert(argv.end(), {"-database", db});
    const auto r = run_command(argv);
    if (r.exit_code != 0) throw std::runtime_error("influx failed: " + r.err + r.out);
    answer = {{"results", nlohmann::json::parse(r.out)["results"]}};
  }
  for (const auto& result : answer["results"]) {
    if (result.contains("error")) throw std::runtime_error("InfluxQL: " + result.dump());
  }
  return answer;
}

long TestInfluxd::count(const std::string& db, const std::string& measurement,
                        const std::string& field) const {
  const auto j = query("SELECT count(\"" + field + "\") FROM \"" + measurement + "\"", db);
  const auto& result = j["results"][0];
  if (!result.contains("series")) return 0;
  return result["series"][0]["values"][0][1].get<long>();
}

}  // namespace smiles::test
