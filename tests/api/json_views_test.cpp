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

}  // namespace
}  // namespace smiles::api
