#include "smiles/protocol/port_block.h"

#include <gtest/gtest.h>

#include <vector>

#include "smiles/core/error.h"

namespace smiles::protocol {
namespace {

// A block as the DTU sends it: MI serial 10 33 32 41 63 55, port 1.
std::vector<std::uint8_t> mi_block() {
  return {0x0C, 0x10, 0x33, 0x32, 0x41, 0x63, 0x55, 0x01,  // type, serial, port
          0x01, 0x40,                                      // pv voltage 320 -> 32.0 V
          0x00, 0x02,                                      // pv current 2 -> 0.2 A (MI)
          0x08, 0xFC,                                      // grid 2300 -> 230.0 V
          0x13, 0x88,                                      // 5000 -> 50.00 Hz
          0x00, 0x64,                                      // power 100 -> 10.0 W
          0x01, 0xF4,                                      // today 500 Wh
          0x00, 0x01, 0xE2, 0x40,                          // total 123456 Wh
          0xFF, 0x9C,                                      // temperature -100 -> -10.0 C
          0x00, 0x03,                                      // status 3
          0x00, 0x00,                                      // alarm code
          0x00, 0x01,                                      // alarm count
          0x01,                                            // link up
          0x07, 0,    0,    0,    0,    0,    0};
}

TEST(PortBlock, DecodesAnMiBlock) {
  const auto b = decode_port_block(mi_block());
  EXPECT_EQ(b.data_type, 0x0C);
  EXPECT_EQ(b.serial_number, "103332416355");
  EXPECT_EQ(b.inverter_type, "MI");
  EXPECT_EQ(b.port_number, 1);
  EXPECT_DOUBLE_EQ(b.pv_voltage_v, 32.0);
  EXPECT_DOUBLE_EQ(b.pv_current_a, 0.2);
  EXPECT_DOUBLE_EQ(b.grid_voltage_v, 230.0);
  EXPECT_DOUBLE_EQ(b.grid_frequency_hz, 50.0);
  EXPECT_DOUBLE_EQ(b.pv_power_w, 10.0);
  EXPECT_EQ(b.today_production_wh, 500U);
  EXPECT_EQ(b.total_production_wh, 123456U);
  EXPECT_DOUBLE_EQ(b.temperature_c, -10.0);
  EXPECT_EQ(b.operating_status, 3);
  EXPECT_EQ(b.alarm_count, 1);
  EXPECT_EQ(b.link_status, 1);
  EXPECT_FALSE(b.is_end_of_list());
}

TEST(PortBlock, HmCurrentIsScaledByOneHundred) {
  auto bytes = mi_block();
  bytes[1] = 0x11;  // serial 11 33 ... -> HM family
  bytes[2] = 0x61;
  const auto b = decode_port_block(bytes);
  EXPECT_EQ(b.serial_number, "116132416355");
  EXPECT_EQ(b.inverter_type, "HM");
  EXPECT_DOUBLE_EQ(b.pv_current_a, 0.02);
}

TEST(PortBlock, HexSerialKeepsLettersAndLeadingZeros) {
  auto bytes = mi_block();
  const std::uint8_t serial[] = {0x13, 0x0A, 0xBC, 0x00, 0x0F, 0xFF};
  std::copy(std::begin(serial), std::end(serial), bytes.begin() + 1);
  EXPECT_EQ(decode_port_block(bytes).serial_number, "130ABC000FFF");
}

TEST(PortBlock, TemperatureExtremesAndU32Totals) {
  auto bytes = mi_block();
  bytes[24] = 0x80;  // -32768 -> -3276.8
  bytes[25] = 0x00;
  bytes[20] = bytes[21] = bytes[22] = bytes[23] = 0xFF;
  auto b = decode_port_block(bytes);
  EXPECT_DOUBLE_EQ(b.temperature_c, -3276.8);
  EXPECT_EQ(b.total_production_wh, 4294967295ULL);
  bytes[24] = 0x7F;
  bytes[25] = 0xFF;
  EXPECT_DOUBLE_EQ(decode_port_block(bytes).temperature_c, 3276.7);
  bytes[24] = 0xFF;  // -1 -> -0.1
  bytes[25] = 0xFF;
  EXPECT_DOUBLE_EQ(decode_port_block(bytes).temperature_c, -0.1);
}

TEST(PortBlock, AllZeroSerialEndsTheList) {
  std::vector<std::uint8_t> zeros(kPortBlockBytes, 0);
  EXPECT_TRUE(decode_port_block(zeros).is_end_of_list());
  zeros[6] = 1;
  EXPECT_FALSE(decode_port_block(zeros).is_end_of_list());
}

TEST(PortBlock, WrongLengthIsADataError) {
  auto bytes = mi_block();
  bytes.pop_back();
  EXPECT_THROW(decode_port_block(bytes), DataError);
  EXPECT_THROW(decode_port_block({}), DataError);
  EXPECT_THROW(decode_dtu_serial(std::vector<std::uint8_t>(5)), DataError);
}

TEST(PortBlock, EncodeIsTheInverseOfDecode) {
  const auto raw = decode_raw_port_block(mi_block());
  const auto bytes = encode_port_block(raw);
  auto expected = mi_block();
  expected[33] = 0;  // reserved byte is not part of the map
  EXPECT_EQ(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), expected);
}

TEST(PortBlock, EncodeRejectsValuesThatDoNotFit) {
  auto raw = decode_raw_port_block(mi_block());
  raw.set(Field::kPvPower, 70000);
  EXPECT_THROW(encode_port_block(raw), DataError);
  raw = decode_raw_port_block(mi_block());
  raw.set(Field::kTemperature, -40000);
  EXPECT_THROW(encode_port_block(raw), DataError);
  raw = decode_raw_port_block(mi_block());
  raw.serial_number = "12345";
  EXPECT_THROW(encode_port_block(raw), DataError);
}

TEST(PortBlock, DtuSerial) {
  const std::vector<std::uint8_t> bytes = {0x10, 0xF7, 0x00, 0x82, 0x24, 0x65};
  EXPECT_EQ(decode_dtu_serial(bytes), "10F700822465");
}

TEST(PortBlock, GroupsPortsIntoInvertersWithInverterLevelValuesFromTheFirstBlock) {
  auto a1 = decode_port_block(mi_block());
  auto a2 = a1;
  a2.port_number = 2;
  a2.grid_voltage_v = 999;  // repeated inverter values: the first block's are kept
  a2.pv_power_w = 20;
  auto b1 = a1;
  b1.serial_number = "116100000001";
  b1.inverter_type = "HM";
  const auto inverters = group_port_blocks({a1, b1, a2});
  ASSERT_EQ(inverters.size(), 2U);
  EXPECT_EQ(inverters[0].serial_number, "103332416355");
  ASSERT_EQ(inverters[0].ports.size(), 2U);
  EXPECT_EQ(inverters[0].ports[1].port_number, 2);
  EXPECT_DOUBLE_EQ(inverters[0].ports[1].pv_power_w, 20);
  EXPECT_DOUBLE_EQ(inverters[0].grid_voltage_v, 230.0);
  EXPECT_EQ(inverters[1].inverter_type, "HM");
  EXPECT_EQ(inverters[1].ports.size(), 1U);
}

TEST(PlantTotals, SumOnlyLinkedInverters) {
  DtuReading r;
  InverterReading linked;
  linked.link_status = 1;
  linked.ports = {{"A", 1, 30, 1, 100, 10, 1000}, {"A", 2, 30, 1, 50, 5, 500}};
  InverterReading unlinked;
  unlinked.link_status = 0;
  unlinked.ports = {{"B", 1, 30, 1, 999, 999, 999}};
  r.inverters = {linked, unlinked};
  const auto t = plant_totals(r);
  EXPECT_DOUBLE_EQ(t.power_w, 150);
  EXPECT_EQ(t.today_wh, 15U);
  EXPECT_EQ(t.total_wh, 1500U);
  EXPECT_EQ(t.inverters_producing, 1);
  EXPECT_EQ(t.port_count, 3);
}

}  // namespace
}  // namespace smiles::protocol
