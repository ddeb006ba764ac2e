#include "smiles/protocol/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "smiles/core/error.h"
#include "smiles/protocol/modbus_frame.h"

namespace smiles::protocol {
namespace {

using namespace std::chrono_literals;

Timestamp day_at(int day, double hour) {
  return Timestamp{} + std::chrono::days{20000 + day} +
         std::chrono::duration_cast<Timestamp::duration>(
             std::chrono::duration<double>(hour * 3600));
}

SimulatedDtu frozen(const SimulatorLayout& layout, double ambient = 15) {
  return SimulatedDtu(layout, ModelOptions{day_at(0, 12), 0, ambient}, Timestamp{});
}

TEST(SimulatorLayout, SpecGivesFamiliesPortsAndPlausibleSerials) {
  const auto layout = layout_from_spec("mi:2,HM:4,HMS:1,HMT:6", 9);
  ASSERT_EQ(layout.inverters.size(), 4U);
  EXPECT_EQ(layout.port_count(), 13);
  EXPECT_EQ(family_for_serial(layout.inverters[0].serial_number).inverter_type, "MI");
  EXPECT_EQ(family_for_serial(layout.inverters[1].serial_number).inverter_type, "HM");
  EXPECT_EQ(family_for_serial(layout.inverters[2].serial_number).inverter_type, "HMS");
  EXPECT_EQ(family_for_serial(layout.inverters[3].serial_number).inverter_type, "HMT");
  std::set<std::string> serials;
  for (const auto& inv : layout.inverters) {
    EXPECT_EQ(inv.serial_number.size(), 12U);
    serials.insert(inv.serial_number);
  }
  EXPECT_EQ(serials.size(), 4U);
  EXPECT_EQ(layout.dtu_serial, layout_from_spec("HM:1", 9).dtu_serial);  // stable per seed
}

TEST(SimulatorLayout, SpecErrors) {
  EXPECT_THROW(layout_from_spec("HM", 1), ConfigError);
  EXPECT_THROW(layout_from_spec("XX:2", 1), ConfigError);
  EXPECT_THROW(layout_from_spec("HMT:2", 1), ConfigError);
  EXPECT_THROW(layout_from_spec("HM:x", 1), ConfigError);
  EXPECT_THROW(layout_from_spec("", 1), ConfigError);
  std::string too_many;
  for (int i = 0; i < 25; ++i) too_many += "HM:4,";
  too_many.pop_back();
  EXPECT_THROW(layout_from_spec(too_many, 1), ConfigError);
}

TEST(SimulatorLayout, GeneratedLayoutsRespectThePortLimit) {
  EXPECT_EQ(mixed_layout(5, 1).inverters.size(), 5U);
  EXPECT_LE(mixed_layout(99, 1).port_count(), 99);
  for (int ports : {1, 7, 50, 99}) EXPECT_EQ(layout_with_ports(ports, 1).port_count(), ports);
  EXPECT_THROW(layout_with_ports(100, 1), ConfigError);
  std::set<std::string> families;
  for (const auto& inv : mixed_layout(10, 1).inverters) {
    families.insert(std::string(family_for_serial(inv.serial_number).inverter_type));
  }
  EXPECT_EQ(families, (std::set<std::string>{"MI", "HM", "HMS", "HMT"}));
}

TEST(SimulatedDtu, ServesTheByteAddressedMap) {
  const auto dtu = frozen(layout_from_spec("HM:2,MI:1", 1));
  const auto t = day_at(0, 12);
  std::uint8_t code = 0;
  const auto b0 = dtu.read(0x1000, 20, t, false, code);
  const auto b1 = dtu.read(0x1028, 20, t, false, code);
  ASSERT_TRUE(b0 && b1);
  EXPECT_EQ(decode_port_block(*b0).port_number, 1);
  EXPECT_EQ(decode_port_block(*b1).port_number, 2);
  // Two blocks in one read equal the two reads; an unaligned read is a slice.
  const auto both = dtu.read(0x1000, 40, t, false, code);
  ASSERT_TRUE(both);
  std::vector<std::uint8_t> joined(*b0);
  joined.insert(joined.end(), b1->begin(), b1->end());
  EXPECT_EQ(*both, joined);
  const auto slice = dtu.read(0x1000 + 30, 10, t, false, code);
  EXPECT_EQ(*slice, std::vector<std::uint8_t>(joined.begin() + 30, joined.begin() + 50));
  // Past the last port: zero serial.
  const auto end = dtu.read(0x1000 + 3 * 40, 20, t, false, code);
  EXPECT_TRUE(decode_port_block(*end).is_end_of_list());
  // DTU serial.
  const auto serial = dtu.read(0x2000, 3, t, false, code);
  EXPECT_EQ(decode_dtu_serial(*serial), dtu.layout().dtu_serial);
}

TEST(SimulatedDtu, IllegalRequestsGetExceptionCodes) {
  const auto dtu = frozen(layout_from_spec("HM:1", 1));
  const auto t = day_at(0, 12);
  std::uint8_t code = 0;
  EXPECT_FALSE(dtu.read(0x0000, 1, t, false, code));
  EXPECT_EQ(code, 0x02);
  EXPECT_FALSE(dtu.read(0x1000 + 99 * 40 + 2, 20, t, false, code));  // runs past block 99
  EXPECT_EQ(code, 0x02);
  EXPECT_FALSE(dtu.read(0x1000, 0, t, false, code));
  EXPECT_EQ(code, 0x03);
  EXPECT_FALSE(dtu.read(0x1000, 126, t, false, code));
  EXPECT_EQ(code, 0x03);
}

TEST(SimulatedDtu, DayCurveTotalsAndMidnightReset) {
  const auto dtu = frozen(layout_from_spec("HM:1", 1));
  double noon_power = scale_port_block(dtu.port_block(0, day_at(0, 12))).pv_power_w;
  EXPECT_GT(noon_power, 100);
  EXPECT_EQ(scale_port_block(dtu.port_block(0, day_at(0, 2))).pv_power_w, 0);
  EXPECT_EQ(scale_port_block(dtu.port_block(0, day_at(0, 2))).operating_status, 0);
  std::uint64_t last_total = 0;
  std::uint32_t last_today = 0;
  for (double hour = 0; hour < 48; hour += 0.25) {
    const auto b = scale_port_block(dtu.port_block(0, day_at(0, hour)));
    EXPECT_GE(b.total_production_wh, last_total) << hour;
    if (std::fmod(hour, 24.0) == 0) {
      EXPECT_EQ(b.today_production_wh, 0U) << hour;  // reset at midnight
    } else {
      EXPECT_GE(b.today_production_wh, last_today) << hour;
    }
    last_total = b.total_production_wh;
    last_today = b.today_production_wh;
  }
  EXPECT_GT(last_today, 1000U);
}

TEST(SimulatedDtu, NegativeAmbientGivesNegativeTemperaturesAtNight) {
  const auto dtu = frozen(layout_from_spec("MI:1", 1), -12.5);
  EXPECT_DOUBLE_EQ(scale_port_block(dtu.port_block(0, day_at(0, 3))).temperature_c, -12.5);
}

TEST(SimulatedDtu, CurrentMatchesPowerOverVoltageInTheFamilyScale) {
  const auto dtu = frozen(layout_from_spec("MI:1,HM:1", 1));
  for (int i = 0; i < 2; ++i) {
    const auto b = scale_port_block(dtu.port_block(i, day_at(0, 12)));
    const double step = b.inverter_type == "MI" ? 0.1 : 0.01;
    EXPECT_NEAR(b.pv_current_a, b.pv_power_w / b.pv_voltage_v, step) << b.inverter_type;
  }
}

TEST(SimulatedDtu, TimeRunsAtTheConfiguredSpeed) {
  const Timestamp real_start{};
  SimulatedDtu dtu(layout_from_spec("HM:1", 1), ModelOptions{day_at(0, 6), 60, 15}, real_start);
  EXPECT_EQ(dtu.sim_time(real_start + 60s), day_at(0, 7));
}

ServedRequest block_read(std::uint16_t address) { return {0x03, address, 20}; }

TEST(FaultPlan, EveryNthRequestGetsTheFault) {
  const auto dtu = frozen(layout_from_spec("HM:1", 1));
  FaultOptions faults;
  faults.drop_every = 3;
  faults.no_answer_every = 5;
  FaultCounters counters;
  std::vector<ResponsePlan::Action> actions;
  for (int i = 0; i < 6; ++i) {
    actions.push_back(
        plan_response(dtu, faults, counters, block_read(0x1000), day_at(0, 12)).action);
  }
  using A = ResponsePlan::Action;
  EXPECT_EQ(actions,
            (std::vector<A>{A::kAnswer, A::kAnswer, A::kDrop, A::kAnswer, A::kNoAnswer, A::kDrop}));
}

TEST(FaultPlan, ExceptionGarbageWrongCountNotMappedAndZeroBlocks) {
  const auto dtu = frozen(layout_from_spec("HM:1", 1));
  const auto t = day_at(0, 12);
  FaultCounters c;
  FaultOptions f;
  f.exception_every = 1;
  f.exception_code = 0x06;
  EXPECT_EQ(plan_response(dtu, f, c, block_read(0x1000), t).pdu, exception_pdu(0x03, 0x06));

  f = {};
  f.garbage_every = 1;
  EXPECT_EQ(plan_response(dtu, f, c, block_read(0x1000), t).action, ResponsePlan::Action::kGarbage);

  f = {};
  f.wrong_byte_count = 80;
  auto p = plan_response(dtu, f, c, block_read(0x1000), t);
  ASSERT_EQ(p.pdu.size(), 42U);
  EXPECT_EQ(p.pdu[1], 80);

  f = {};
  f.not_mapped_polls = 2;
  c = {};
  EXPECT_EQ(plan_response(dtu, f, c, block_read(0x1000), t).pdu, read_response_pdu({}));
  EXPECT_EQ(plan_response(dtu, f, c, block_read(0x1000), t).pdu, read_response_pdu({}));
  EXPECT_EQ(plan_response(dtu, f, c, block_read(0x1000), t).pdu.size(), 42U);

  f = {};
  f.zero_blocks = true;
  p = plan_response(dtu, f, c, block_read(0x1000), t);
  const auto zero = scale_port_block(decode_raw_port_block(std::span(p.pdu).subspan(2)));
  EXPECT_EQ(zero.serial_number, dtu.layout().inverters[0].serial_number);
  EXPECT_EQ(zero.total_production_wh, 0U);
  EXPECT_EQ(zero.pv_power_w, 0);

  f = {};
  f.zero_period = 900s;
  f.zero_duration = 20s;
  const auto in_window = day_at(0, 12) + 10s;  // 12:00:10 is 10 s into a 15-min period
  const auto outside = day_at(0, 12) + 30s;
  auto total_at = [&](Timestamp when) {
    auto plan = plan_response(dtu, f, c, block_read(0x1000), when);
    return decode_port_block(std::span(plan.pdu).subspan(2)).total_production_wh;
  };
  EXPECT_EQ(total_at(in_window), 0U);
  EXPECT_GT(total_at(outside), 0U);
}

}  // namespace
}  // namespace smiles::protocol
