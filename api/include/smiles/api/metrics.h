// The bridge's Prometheus metrics (prefix hoymiles_), on prometheus-cpp's core
// registry and text serializer. Series appear only after their first good reading;
// energy counters never go down. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/api/influx_writer.h"
#include "smiles/core/dtu_client_stats.h"
#include "smiles/core/energy.h"
#include "smiles/core/reading.h"

namespace prometheus {
class Registry;
}

namespace smiles::api {

struct BackendStatus;

// A DTU client's Modbus counters since start (the bridge copies them from the
// hardware layer's DtuClientStats).
class BridgeMetrics {
 public:
  explicit BridgeMetrics(const std::string& version);
  ~BridgeMetrics();
  BridgeMetrics(const BridgeMetrics&) = delete;
  BridgeMetrics& operator=(const BridgeMetrics&) = delete;

  // One poll of `dtu`: result is "ok" or the error kind ("timeout", "not_mapped", ...).
  void poll(const std::string& dtu, std::string_view result, double seconds);
  // Values of a good poll, and the served (monotonic) energy values of its ports.
  void reading(const DtuReading& reading, const std::vector<ProductionEntry>& energy);
  // The Modbus counters of `dtu`'s client, as totals since start.
  void modbus(const std::string& dtu, const DtuClientStats& counts);
  // Where readings went: "stored", "spooled" or "dropped".
  void stored(std::string_view outcome, std::size_t readings);
  void backend(const BackendStatus& status);
  void http_request(const std::string& route, int status, double seconds);
  // WebSocket push: receivers connected / registered, updates sent / dropped so far.
  void push(std::size_t connected, std::size_t registered, std::uint64_t sent,
            std::uint64_t dropped);

  // The InfluxDB output's state and totals (hoymiles_influxdb_*; absent while it is off).
  void influx(const InfluxStatus& status);

  // Prometheus text format 0.0.4, with process_* metrics.
  [[nodiscard]] std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smiles::api
