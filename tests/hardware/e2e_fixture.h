// Shared pieces of the client <-> simulator end-to-end tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "smiles/hardware/modbus_register_reader.h"
#include "smiles/hardware/simulator_server.h"
#include "smiles/protocol/dtu_client.h"

namespace smiles::hardware::testing {

using namespace smiles::protocol;  // what the I/O adapters carry

inline Timestamp frozen_noon() {
  return Timestamp{} + std::chrono::days{20400} + std::chrono::hours{12};
}

// Simulated DTU with time frozen at noon, so expected values are exact.
inline SimulatedDtu frozen_dtu(const std::string& layout) {
  return SimulatedDtu(layout_from_spec(layout, 42), ModelOptions{frozen_noon(), 0, 15});
}

// What the client must report: the model's blocks, through the register map.
inline DtuReading expected_reading(const SimulatedDtu& dtu, bool zeroed = false) {
  std::vector<PortBlock> blocks;
  for (int i = 0; i < dtu.layout().port_count(); ++i) {
    blocks.push_back(
        decode_port_block(encode_port_block(dtu.port_block(i, frozen_noon(), zeroed))));
  }
  DtuReading r;
  r.dtu_serial = dtu.layout().dtu_serial;
  r.inverters = group_port_blocks(blocks);
  return r;
}

inline void expect_same_values(const DtuReading& actual, const DtuReading& expected) {
  EXPECT_EQ(actual.dtu_serial, expected.dtu_serial);
  EXPECT_EQ(actual.inverters, expected.inverters);
}

inline DtuClientOptions fast_recovery() {
  DtuClientOptions o;
  o.retries = 2;
  o.reconnect_delay = std::chrono::milliseconds{0};
  o.reconnect_delay_max = std::chrono::milliseconds{0};
  return o;
}

inline TransportOptions short_timeouts() {
  TransportOptions t;
  t.response_timeout = std::chrono::milliseconds{250};
  t.byte_timeout = std::chrono::milliseconds{30};
  return t;
}

}  // namespace smiles::hardware::testing
