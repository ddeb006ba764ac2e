#include "probe_table.h"

#include <gtest/gtest.h>

namespace smiles::bridge {
namespace {

TEST(ProbeTable, ShowsEveryPortAndInverterValuesOnce) {
  DtuReading r;
  r.dtu_serial = "10F700822465";
  InverterReading inv;
  inv.serial_number = "116100000001";
  inv.inverter_type = "HM";
  inv.grid_voltage_v = 231.4;
  inv.link_status = 1;
  inv.ports = {{"116100000001", 1, 35.5, 7.25, 257.3, 900, 1234567},
               {"116100000001", 2, 36.0, 7.0, 252.0, 880, 1200000}};
  r.inverters = {inv};
  const auto table =
      format_probe_table(r, {"tcp://h:502?unit=1", std::chrono::milliseconds{12}, 4, 0});
  EXPECT_NE(table.find("DTU 10F700822465 at tcp://h:502?unit=1: 1 inverters, 2 ports"),
            std::string::npos);
  EXPECT_NE(table.find("116100000001  HM"), std::string::npos);
  EXPECT_NE(table.find("257.3"), std::string::npos);
  EXPECT_NE(table.find("1234.567"), std::string::npos);
  EXPECT_EQ(table.find("231.4"), table.rfind("231.4"));  // inverter values on the first row only
  EXPECT_NE(table.find("Plant: 509.3 W now, 1780 Wh today"), std::string::npos);
}

}  // namespace
}  // namespace smiles::bridge
