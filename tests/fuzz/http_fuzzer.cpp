// libFuzzer target for the HTTP side: raw bytes through Beast's request parser (with
// the server's limits) and, when a request comes out, through the router (with and
// without a token, over a live state holding a reading). Besides "no crash", it traps
// on a 500, on an answer that is not valid JSON, and on a metrics label outside the
// fixed set.
#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "readings.h"
#include "smiles/api/router.h"
#include "smiles/core/time.h"

namespace http = boost::beast::http;
using namespace smiles;

namespace {

// The read side answers empty; every route still runs its parameter checks.
struct EmptyHistory : storage::ReadModel {
  std::vector<storage::StoredInverter> inverters(const std::optional<std::string>&) override {
    return {};
  }
  std::vector<storage::InverterSample> inverter_history(const std::string&,
                                                        const storage::HistoryQuery&) override {
    return {};
  }
  std::vector<storage::PortSample> port_history(const std::string&, int,
                                                const storage::HistoryQuery&) override {
    return {};
  }
  std::vector<PortEnergyRecord> energy_states() override { return {}; }
  storage::StorageStats stats() override { return {}; }
  std::vector<storage::EnergyBar> energy(const storage::EnergyQuery&) override { return {}; }
  storage::PowerCurve power(const storage::PowerQuery&) override { return {}; }
};

struct World {
  api::LiveState live{[](Timestamp) { return std::string("2026-06-01"); }};
  EmptyHistory history;
  api::Router open{live, history, [] { return api::BackendStatus{}; },
                   [] { return std::string("m 1\n"); }, api::RouterOptions{}};
  api::Router locked{live, history, [] { return api::BackendStatus{}; },
                     [] { return std::string("m 1\n"); },
                     [] {
                       api::RouterOptions o;
                       o.api_token = "t0ken";
                       return o;
                     }()};
  World() {
    live.register_dtu("roof", "tcp://10.0.0.5:502?unit=1");
    live.record_success(test::make_reading(test::utc("2026-06-01T10:00:00"), 2, 2));
  }
};

void check(const api::Response& r) {
  if (r.status == 500) __builtin_trap();
  if (r.content_type == "application/json" && !nlohmann::json::accept(r.body)) __builtin_trap();
  const auto& labels = api::Router::route_labels();
  if (std::find(labels.begin(), labels.end(), r.route) == labels.end()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Any time the parser takes reads back from the formatter (to its millisecond).
  if (const auto t = parse_iso8601(text)) {
    const auto again = parse_iso8601(format_iso8601_utc(*t));
    if (!again || *again != std::chrono::floor<std::chrono::milliseconds>(*t)) __builtin_trap();
  }
  (void)api::url_decode(text);
  const auto label = api::Router::route_label(std::string(text));
  const auto& labels = api::Router::route_labels();
  if (std::find(labels.begin(), labels.end(), label) == labels.end()) __builtin_trap();

  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(4 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  api::Request request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  if (const auto it = req.find(http::field::authorization); it != req.end()) {
    request.authorization = std::string(it->value());
  }
  request.body = req.body();
  check(world.open.handle(request));
  check(world.locked.handle(request));
  const auto request_label = api::Router::route_label(request.target);
  if (std::find(labels.begin(), labels.end(), request_label) == labels.end()) __builtin_trap();
  return 0;
}
