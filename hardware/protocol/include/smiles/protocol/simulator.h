// The DTU simulator's pure parts: a plant of inverters with plausible, time-varying
// values served through the real register map, and a planner that decides how to
// answer each request, injecting the DTU misbehaviours on demand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/core/reading.h"
#include "smiles/protocol/port_block.h"

namespace smiles::protocol {

struct SimulatedInverter {
  std::string serial_number;
  std::string model;  // e.g. "HMS-2CH", for display
  int ports = 1;
  double peak_power_w = 400;        // per port at noon
  std::uint64_t base_total_wh = 0;  // lifetime energy per port before the anchor date
};

struct SimulatorLayout {
  std::string dtu_serial;
  std::vector<SimulatedInverter> inverters;
  [[nodiscard]] int port_count() const;
};

// "MI:2,HM:4,HMS:1,HMT:6": family and port count per inverter. Families MI, HM,
// HMS (1, 2 or 4 ports) and HMT (4 or 6 ports); at most 99 ports in all.
// Throws ConfigError with the reason.
SimulatorLayout layout_from_spec(std::string_view spec, std::uint32_t seed);
// `inverters` inverters cycling through a realistic mix of families (at most 99 ports).
SimulatorLayout mixed_layout(int inverters, std::uint32_t seed);
// Exactly `ports` ports (1..99) over a mix of families.
SimulatorLayout layout_with_ports(int ports, std::uint32_t seed);

struct ModelOptions {
  Timestamp start_time{};  // simulated time at construction
  double speed = 1.0;      // simulated seconds per real second; 0 freezes time
  double ambient_c = 15;   // night-time inverter temperature (may be negative)
  // At night (no sun) the inverters sleep: their blocks are zeros with link status 0,
  // as a real DTU reports them.
  bool night_unlinked = false;
};

class SimulatedDtu {
 public:
  SimulatedDtu(SimulatorLayout layout, ModelOptions options,
               Timestamp real_start = WallClock::now());

  [[nodiscard]] Timestamp sim_time(Timestamp real_now) const;
  [[nodiscard]] const SimulatorLayout& layout() const { return layout_; }

  // Block `index` at simulated time `t`; past the last port an all-zero block.
  // `zeroed` mimics the DTU's cloud-upload / night blocks: serial and port kept, values 0.
  [[nodiscard]] RawPortBlock port_block(int index, Timestamp t, bool zeroed = false) const;

  // Bytes served for `count` registers at `address` (two bytes per register from the
  // byte-addressed map). Returns nullopt, with `exception_code` set, for an illegal
  // request (0x02 address outside the map, 0x03 bad count).
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> read(std::uint16_t address,
                                                              std::uint16_t count, Timestamp t,
                                                              bool zeroed,
                                                              std::uint8_t& exception_code) const;

 private:
  SimulatorLayout layout_;
  ModelOptions options_;
  Timestamp real_start_;
  std::vector<std::pair<int, int>> port_index_;  // block index -> (inverter, port)
};

// Misbehaviours to inject. "every N" counts requests served (1-based): N=3 hits
// requests 3, 6, 9, ... 0 disables.
struct FaultOptions {
  std::optional<std::uint8_t> wrong_byte_count;  // byte-count byte of every read answer
  std::chrono::milliseconds delay{0};            // before every answer
  int no_answer_every = 0;                       // stay silent (client times out)
  int drop_every = 0;                            // TCP: close the connection; RTU: silent
  int exception_every = 0;
  std::uint8_t exception_code = 0x06;     // server device busy
  int garbage_every = 0;                  // RTU: corrupt CRC; TCP: truncated frame
  int not_mapped_polls = 0;               // first N reads of block 0 answer empty
  bool zero_blocks = false;               // every block zeroed (night / upload)
  std::chrono::seconds zero_period{0};    // zeroed for zero_duration of every period
  std::chrono::seconds zero_duration{0};  //   of simulated time (DTU: ~15 min)
};

struct ServedRequest {
  std::uint8_t function = 0x03;
  std::uint16_t address = 0;
  std::uint16_t count = 0;
};

struct ResponsePlan {
  enum class Action : std::uint8_t { kAnswer, kNoAnswer, kDrop, kGarbage };
  Action action = Action::kAnswer;
  std::vector<std::uint8_t> pdu;  // for kAnswer and kGarbage
  std::chrono::milliseconds delay{0};
  const char* fault = nullptr;  // name of the injected fault, if any
};

// Counters the planner keeps across requests (owned by the server, one per simulator).
struct FaultCounters {
  std::uint64_t requests = 0;
  std::uint64_t block0_reads = 0;
};

// Pure: what to send for `request`, given the model, the faults and the counters
// (which it advances).
ResponsePlan plan_response(const SimulatedDtu& dtu, const FaultOptions& faults,
                           FaultCounters& counters, const ServedRequest& request, Timestamp t);

}  // namespace smiles::protocol
