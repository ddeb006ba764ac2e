#include "smiles/api/metrics.h"

#include <dirent.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "smiles/api/router.h"

namespace smiles::api {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

const Histogram::BucketBoundaries kPollBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                  2.5,  5,    10,  30,   60};
const Histogram::BucketBoundaries kHttpBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1};

// A counter following a total kept elsewhere (which only grows).
void add_total(Counter& counter, std::uint64_t total, double& seen) {
  const auto t = static_cast<double>(total);
  if (t > seen) counter.Increment(t - seen);
  seen = std::max(seen, t);
}

prometheus::MetricFamily family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

// process_* metrics from /proc (prometheus-cpp has no process collector).
std::vector<prometheus::MetricFamily> process_metrics() {
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(content.substr(close + 2));
    std::vector<std::string> f;
    std::string item;
    while (fields >> item) f.push_back(item);
    // After "comm": state(0) ... utime(11) stime(12) ... starttime(19) vsize(20) rss(21)
    if (f.size() > 21) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
      out.push_back(
          family("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
                 prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / ticks));
      out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                           prometheus::MetricType::Gauge, std::stod(f[21]) * page));
      out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           prometheus::MetricType::Gauge, std::stod(f[20])));
      std::ifstream uptime("/proc/uptime");
      double up = 0;
      uptime >> up;
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      out.push_back(family(
          "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          prometheus::MetricType::Gauge, std::round(now - up + std::stod(f[19]) / ticks)));
    }
  }
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++fds;
    closedir(d);
    out.push_back(family("process_open_fds", "Number of open file descriptors.",
                         prometheus::MetricType::Gauge, fds - 3));  // ., .., the dir itself
  }
  return out;
}

}  // namespace

struct BridgeMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::mutex mutex;  // guards the maps below and series creation

  Family<Gauge>& build_info = BuildGauge()
                                  .Name("hoymiles_build_info")
                                  .Help("Version of the running hoymiles-smiles; always 1.")
                                  .Register(*registry);
  Family<Gauge>& dtu_up = BuildGauge()
                              .Name("hoymiles_dtu_up")
                              .Help("1 when the last poll of the DTU succeeded.")
                              .Register(*registry);
  Family<Counter>& polls = BuildCounter()
                               .Name("hoymiles_dtu_polls_total")
                               .Help("Polls by result (ok or error kind).")
                               .Register(*registry);
  Family<Histogram>& poll_seconds = BuildHistogram()
                                        .Name("hoymiles_dtu_poll_duration_seconds")
                                        .Help("Duration of a full poll.")
                                        .Register(*registry);
  Family<Gauge>& port_power = BuildGauge()
                                  .Name("hoymiles_port_power_watts")
                                  .Help("PV power of a port.")
                                  .Register(*registry);
  Family<Gauge>& port_voltage = BuildGauge()
                                    .Name("hoymiles_port_voltage_volts")
                                    .Help("PV voltage of a port.")
                                    .Register(*registry);
  Family<Gauge>& port_current = BuildGauge()
                                    .Name("hoymiles_port_current_amperes")
                                    .Help("PV current of a port.")
                                    .Register(*registry);
  Family<Counter>& port_energy =
      BuildCounter()
          .Name("hoymiles_port_energy_joules_total")
          .Help("Energy produced by a port over its lifetime (never decreases).")
          .Register(*registry);
  Family<Gauge>& port_today = BuildGauge()
                                  .Name("hoymiles_port_energy_today_joules")
                                  .Help("Energy produced by a port in the current production day.")
                                  .Register(*registry);
  Family<Gauge>& inv_temperature = BuildGauge()
                                       .Name("hoymiles_inverter_temperature_celsius")
                                       .Help("Inverter temperature.")
                                       .Register(*registry);
  Family<Gauge>& inv_grid_voltage = BuildGauge()
                                        .Name("hoymiles_inverter_grid_voltage_volts")
                                        .Help("Grid voltage at the inverter.")
                                        .Register(*registry);
  Family<Gauge>& inv_grid_frequency = BuildGauge()
                                          .Name("hoymiles_inverter_grid_frequency_hertz")
                                          .Help("Grid frequency at the inverter.")
                                          .Register(*registry);
  Family<Gauge>& inv_status = BuildGauge()
                                  .Name("hoymiles_inverter_operating_status")
                                  .Help("Operating status code (3 while producing).")
                                  .Register(*registry);
  Family<Gauge>& inv_alarm = BuildGauge()
                                 .Name("hoymiles_inverter_alarm_code")
                                 .Help("Latest alarm code.")
                                 .Register(*registry);
  Family<Gauge>& inv_link = BuildGauge()
                                .Name("hoymiles_inverter_link_up")
                                .Help("1 when the inverter is linked to its DTU.")
                                .Register(*registry);
  Family<Counter>& writes = BuildCounter()
                                .Name("hoymiles_database_writes_total")
                                .Help("Readings by where they went: stored, spooled or dropped.")
                                .Register(*registry);
  Family<Gauge>& db_up = BuildGauge()
                             .Name("hoymiles_database_up")
                             .Help("1 when PostgreSQL is reachable.")
                             .Register(*registry);
  Family<Gauge>& db_writes_failing =
      BuildGauge()
          .Name("hoymiles_database_writes_failing")
          .Help("1 while database writes fail (readings go to the spool).")
          .Register(*registry);
  Family<Gauge>& pool = BuildGauge()
                            .Name("hoymiles_database_pool_connections")
                            .Help("Pooled connections by state.")
                            .Register(*registry);
  Family<Gauge>& spool_bytes =
      BuildGauge().Name("hoymiles_spool_bytes").Help("Size of the spool file.").Register(*registry);
  Family<Gauge>& spool_readings = BuildGauge()
                                      .Name("hoymiles_spool_readings")
                                      .Help("Readings waiting in the spool.")
                                      .Register(*registry);
  Family<Counter>& http = BuildCounter()
                              .Name("hoymiles_http_requests_total")
                              .Help("HTTP requests by route and status code.")
                              .Register(*registry);
  Family<Histogram>& http_seconds = BuildHistogram()
                                        .Name("hoymiles_http_request_duration_seconds")
                                        .Help("HTTP request duration by route.")
                                        .Register(*registry);

  Family<Gauge>& push_receivers = BuildGauge()
                                      .Name("hoymiles_push_receivers")
                                      .Help("Registered WebSocket push receivers by state.")
                                      .Register(*registry);
  Family<Counter>& push_messages =
      BuildCounter()
          .Name("hoymiles_push_messages_total")
          .Help("Push updates by result: sent, or dropped for a newer one (slow receiver).")
          .Register(*registry);

  Family<Counter>& modbus_requests = BuildCounter()
                                         .Name("hoymiles_dtu_modbus_requests_total")
                                         .Help("Modbus requests sent to the DTU, retries included.")
                                         .Register(*registry);
  Family<Counter>& modbus_problems =
      BuildCounter()
          .Name("hoymiles_dtu_modbus_problems_total")
          .Help(
              "Modbus trouble by kind: retry, timeout, frame_error, exception, connection_error, "
              "wrong_byte_count_accepted.")
          .Register(*registry);
  std::map<std::string, double> modbus_seen;  // dtu/kind -> total already counted

  Family<Gauge>& influx_up =
      BuildGauge()
          .Name("hoymiles_influxdb_up")
          .Help("1 while InfluxDB writes succeed (or none was due yet), 0 while they fail.")
          .Register(*registry);
  Family<Gauge>& influx_queued = BuildGauge()
                                     .Name("hoymiles_influxdb_queued_batches")
                                     .Help("Poll cycles waiting to be written to InfluxDB.")
                                     .Register(*registry);
  Family<Counter>& influx_points = BuildCounter()
                                       .Name("hoymiles_influxdb_points_total")
                                       .Help("Points written to InfluxDB.")
                                       .Register(*registry);
  Family<Counter>& influx_batches =
      BuildCounter()
          .Name("hoymiles_influxdb_batches_total")
          .Help(
              "Poll cycles by fate: written, rejected (refused by InfluxDB as bad data) or "
              "dropped (the queue was full, or left at stop).")
          .Register(*registry);
  Family<Counter>& influx_errors =
      BuildCounter()
          .Name("hoymiles_influxdb_write_errors_total")
          .Help("InfluxDB writes that failed and were retried (server away, timeout, 5xx).")
          .Register(*registry);
  std::map<std::string, double> influx_seen;  // counter -> total already counted

  std::map<std::string, double> energy_seen;  // series key -> joules already counted
  double push_sent_seen = 0;
  double push_dropped_seen = 0;
};

BridgeMetrics::BridgeMetrics(const std::string& version) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", version}}).Set(1);
}

BridgeMetrics::~BridgeMetrics() = default;

void BridgeMetrics::poll(const std::string& dtu, std::string_view result, double seconds) {
  std::lock_guard lock(impl_->mutex);
  impl_->polls.Add({{"dtu", dtu}, {"result", std::string(result)}}).Increment();
  impl_->poll_seconds.Add({{"dtu", dtu}}, kPollBuckets).Observe(seconds);
  impl_->dtu_up.Add({{"dtu", dtu}}).Set(result == "ok" ? 1 : 0);
}

void BridgeMetrics::reading(const DtuReading& r, const std::vector<ProductionEntry>& energy) {
  std::lock_guard lock(impl_->mutex);
  std::map<std::pair<std::string, int>, const ProductionEntry*> served;
  for (const auto& e : energy) served[{e.serial_number, e.port_number}] = &e;
  for (const auto& inv : r.inverters) {
    const std::map<std::string, std::string> il = {{"dtu", r.dtu_name},
                                                   {"serial", inv.serial_number}};
    impl_->inv_link.Add(il).Set(inv.link_status != 0 ? 1 : 0);
    if (inv.link_status == 0) continue;  // DTU upload / night blocks are not "good" readings
    impl_->inv_temperature.Add(il).Set(inv.temperature_c);
    impl_->inv_grid_voltage.Add(il).Set(inv.grid_voltage_v);
    impl_->inv_grid_frequency.Add(il).Set(inv.grid_frequency_hz);
    impl_->inv_status.Add(il).Set(inv.operating_status);
    impl_->inv_alarm.Add(il).Set(inv.alarm_code);
    for (const auto& p : inv.ports) {
      const std::map<std::string, std::string> pl = {{"dtu", r.dtu_name},
                                                     {"serial", inv.serial_number},
                                                     {"port", std::to_string(p.port_number)}};
      impl_->port_power.Add(pl).Set(p.pv_power_w);
      impl_->port_voltage.Add(pl).Set(p.pv_voltage_v);
      impl_->port_current.Add(pl).Set(p.pv_current_a);
      const auto it = served.find({inv.serial_number, p.port_number});
      if (it == served.end()) continue;
      const double joules = static_cast<double>(it->second->total_production_wh) * 3600.0;
      double& seen = impl_->energy_seen[inv.serial_number + "/" + std::to_string(p.port_number)];
      if (joules > seen) {
        impl_->port_energy.Add(pl).Increment(joules - seen);
        seen = joules;
      }
      impl_->port_today.Add(pl).Set(static_cast<double>(it->second->today_production_wh) * 3600.0);
    }
  }
}

void BridgeMetrics::modbus(const std::string& dtu, const DtuClientStats& c) {
  std::lock_guard lock(impl_->mutex);
  auto add = [&](Family<Counter>& family, const std::map<std::string, std::string>& labels,
                 const std::string& key, std::uint64_t total) {
    add_total(family.Add(labels), total, impl_->modbus_seen[dtu + "/" + key]);
  };
  add(impl_->modbus_requests, {{"dtu", dtu}}, "requests", c.requests);
  for (const auto& [kind, total] : {std::pair<const char*, std::uint64_t>{"retry", c.retries},
                                    {"timeout", c.timeouts},
                                    {"frame_error", c.frame_errors},
                                    {"exception", c.exceptions},
                                    {"connection_error", c.connection_errors},
                                    {"wrong_byte_count_accepted", c.wrong_byte_count_accepted}}) {
    add(impl_->modbus_problems, {{"dtu", dtu}, {"kind", kind}}, kind, total);
  }
}

void BridgeMetrics::stored(std::string_view outcome, std::size_t readings) {
  impl_->writes.Add({{"result", std::string(outcome)}}).Increment(static_cast<double>(readings));
}

void BridgeMetrics::backend(const BackendStatus& s) {
  impl_->db_up.Add({}).Set(s.database_connected ? 1 : 0);
  impl_->db_writes_failing.Add({}).Set(s.database_writes_failing ? 1 : 0);
  impl_->pool.Add({{"state", "idle"}}).Set(s.pool_idle);
  impl_->pool.Add({{"state", "in_use"}}).Set(s.pool_in_use);
  impl_->spool_bytes.Add({}).Set(static_cast<double>(s.spool_bytes));
  impl_->spool_readings.Add({}).Set(static_cast<double>(s.spool_readings));
}

void BridgeMetrics::push(std::size_t connected, std::size_t registered, std::uint64_t sent,
                         std::uint64_t dropped) {
  std::lock_guard lock(impl_->mutex);
  impl_->push_receivers.Add({{"state", "connected"}}).Set(static_cast<double>(connected));
  impl_->push_receivers.Add({{"state", "disconnected"}})
      .Set(static_cast<double>(registered - connected));
  add_total(impl_->push_messages.Add({{"result", "sent"}}), sent, impl_->push_sent_seen);
  add_total(impl_->push_messages.Add({{"result", "dropped"}}), dropped, impl_->push_dropped_seen);
}

void BridgeMetrics::influx(const InfluxStatus& s) {
  std::lock_guard lock(impl_->mutex);
  impl_->influx_up.Add({}).Set(s.state == "failing" ? 0 : 1);
  impl_->influx_queued.Add({}).Set(static_cast<double>(s.queued_batches));
  auto& seen = impl_->influx_seen;
  add_total(impl_->influx_points.Add({}), s.points_written, seen["points"]);
  add_total(impl_->influx_errors.Add({}), s.write_errors, seen["errors"]);
  add_total(impl_->influx_batches.Add({{"result", "written"}}), s.batches_written, seen["written"]);
  add_total(impl_->influx_batches.Add({{"result", "rejected"}}), s.batches_rejected,
            seen["rejected"]);
  add_total(impl_->influx_batches.Add({{"result", "dropped"}}), s.batches_dropped, seen["dropped"]);
}

void BridgeMetrics::http_request(const std::string& route, int status, double seconds) {
  impl_->http.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  impl_->http_seconds.Add({{"route", route}}, kHttpBuckets).Observe(seconds);
}

std::string BridgeMetrics::text() const {
  auto families = impl_->registry->Collect();
  auto process = process_metrics();
  families.insert(families.end(), process.begin(), process.end());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace smiles::api
