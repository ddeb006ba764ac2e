#include "smiles/api/json_views.h"

#include <gtest/gtest.h>

namespace smiles::api {
namespace {

DtuReading sample() {
  DtuReading r;
  r.dtu_name = "roof";
  r.dtu_serial = "10F700822465";
  r.timestamp = Timestamp{} + std::chrono::seconds{1'767'225'600} + std::chrono::milliseconds{5};
  InverterReading inv;
  inv.serial_number = "103332416355";
  inv.inverter_type = "MI";
  inv.grid_voltage_v = 230.1;
  inv.grid_frequency_hz = 50.01;
  inv.temperature_c = -3.5;
  inv.operating_status = 3;
  inv.link_status = 1;
  inv.ports = {{"103332416355", 1, 32.0, 0.1 + 0.2, 10.5, 500, 123456}};
  r.inverters = {inv};
  return r;
}

TEST(JsonViews, ContractFieldsArePresentWithJsonNumbers) {
  const auto doc = dtu_reading_json(sample());
  EXPECT_EQ(doc["dtu_serial"], "10F700822465");
  EXPECT_EQ(doc["timestamp"], "2026-01-01T00:00:00.005Z");
  const auto& inv = doc["inverters"][0];
  for (const char* field :
       {"serial_number", "dtu_name", "inverter_type", "timestamp", "grid_voltage", "grid_frequency",
        "temperature", "operating_status", "alarm_code", "alarm_count", "link_status", "ports"}) {
    EXPECT_TRUE(inv.contains(field)) << field;
  }
  for (const char* number : {"grid_voltage", "grid_frequency", "temperature", "operating_status",
                             "alarm_code", "alarm_count", "link_status"}) {
    EXPECT_TRUE(inv[number].is_number()) << number;
  }
  const auto& port = inv["ports"][0];
  for (const char* field : {"serial_number", "port_number", "timestamp", "pv_voltage", "pv_current",
                            "pv_power", "today_production", "total_production"}) {
    EXPECT_TRUE(port.contains(field)) << field;
  }
  EXPECT_EQ(port["pv_current"].dump(), "0.3");  // fixed-point values without binary noise
  EXPECT_EQ(port["total_production"], 123456);
  EXPECT_EQ(inv["temperature"], -3.5);
  EXPECT_EQ(doc["totals"]["total_kwh"], 123.456);
}

TEST(JsonWriter, WritesWhatNlohmannParsesBackUnchanged) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  w.begin_object();
  w("text", std::string("quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9"));
  w("int", -42);
  w("big", std::uint32_t{4'000'000'000});
  w("whole", 3.0);
  w("frac", 0.1 + 0.2);
  w("tiny", 1e-9);
  w("nan", std::nan(""));
  w("yes", true);
  w.key("none");
  w.value(nullptr);
  w.key("empty");
  w.begin_array();
  w.end_array();
  w.end_object();
  w.value(7);
  w.end_array();
  const auto doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc.size(), 2U);
  const auto& o = doc[0];
  EXPECT_EQ(o["text"], "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9");
  EXPECT_EQ(o["int"], -42);
  EXPECT_EQ(o["big"], 4'000'000'000U);
  EXPECT_EQ(o["whole"].dump(), "3.0");            // stays a float, as nlohmann prints it
  EXPECT_EQ(o["frac"].get<double>(), 0.1 + 0.2);  // shortest form that round-trips
  EXPECT_EQ(o["tiny"], 1e-9);
  EXPECT_TRUE(o["nan"].is_null());
  EXPECT_EQ(o["yes"], true);
  EXPECT_TRUE(o["none"].is_null());
  EXPECT_TRUE(o["empty"].is_array());
  EXPECT_EQ(doc[1], 7);
}

// The streamed history text holds exactly what the document views hold.
TEST(JsonViews, HistoryTextEqualsTheDocumentViews) {
  const auto reading = sample();
  const auto& inv = reading.inverters[0];
  std::vector<storage::InverterSample> inverter_samples{{reading.timestamp, inv},
                                                        {reading.timestamp, inv}};
  inverter_samples[0].values.ports.clear();
  inverter_samples[1].values.ports.clear();
  inverter_samples[1].values.temperature_c = 41.2;
  const auto inverters = nlohmann::json::parse(inverter_history_json(inverter_samples));
  ASSERT_EQ(inverters.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    auto expected = inverter_json(inverter_samples[i].values, "roof", reading.timestamp);
    expected.erase("ports");
    expected.erase("dtu_name");
    expected.erase("inverter_type");
    EXPECT_EQ(inverters[i], expected);
  }
  EXPECT_EQ(inverters[1]["temperature"], 41.2);

  std::vector<storage::PortSample> port_samples{{reading.timestamp, inv.ports[0]}};
  const auto ports = nlohmann::json::parse(port_history_json(port_samples));
  ASSERT_EQ(ports.size(), 1U);
  EXPECT_EQ(ports[0], port_json(inv.ports[0], reading.timestamp));
  EXPECT_EQ(nlohmann::json::parse(port_history_json({})), nlohmann::json::array());
}

}  // namespace
}  // namespace smiles::api
