#include "smiles/protocol/simulator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "smiles/core/error.h"
#include "smiles/protocol/modbus_frame.h"
#include "smiles/protocol/register_map.h"

namespace smiles::protocol {

namespace {

constexpr int kMaxSimulatedPorts = 99;

// Serial prefixes by family and port count (digit 3: 2/4/6/8 = 1/2/4/6 ports).
struct ModelSpec {
  std::string_view family;
  int ports;
  std::string_view prefix;
  std::string_view model;
};
constexpr std::array<ModelSpec, 11> kModels{{
    {"MI", 1, "1021", "MI-400"},
    {"MI", 2, "1041", "MI-800"},
    {"MI", 4, "1061", "MI-1500"},
    {"HM", 1, "1121", "HM-400"},
    {"HM", 2, "1141", "HM-800"},
    {"HM", 4, "1161", "HM-1500"},
    {"HMS", 1, "1124", "HMS-500"},
    {"HMS", 2, "1144", "HMS-1000"},
    {"HMS", 4, "1164", "HMS-2000"},
    {"HMT", 4, "1362", "HMT-2000"},
    {"HMT", 6, "1382", "HMT-2250"},
}};

// A realistic rotation for generated plants.
constexpr std::array<std::pair<std::string_view, int>, 10> kMix{{
    {"MI", 2},
    {"HM", 4},
    {"HMS", 2},
    {"HMT", 6},
    {"MI", 1},
    {"HMS", 4},
    {"HM", 1},
    {"MI", 4},
    {"HMS", 1},
    {"HM", 2},
}};

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

double unit_noise(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  const std::uint64_t h = splitmix64(a * 0x100000001B3ULL ^ splitmix64(b * 31 + c));
  return static_cast<double>(h >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

const ModelSpec& find_model(std::string_view family, int ports) {
  for (const auto& m : kModels) {
    if (m.family == family && m.ports == ports) return m;
  }
  std::string allowed;
  for (const auto& m : kModels) {
    if (m.family == family) allowed += (allowed.empty() ? "" : "/") + std::to_string(m.ports);
  }
  if (allowed.empty()) {
    throw ConfigError("unknown inverter family '" + std::string(family) +
                      "' (known: MI, HM, HMS, HMT)");
  }
  throw ConfigError(std::string(family) + " inverters have " + allowed + " ports, not " +
                    std::to_string(ports));
}

SimulatedInverter make_inverter(const ModelSpec& spec, std::size_t index, std::uint32_t seed) {
  SimulatedInverter inv;
  char digits[16];
  const auto noise = static_cast<unsigned>(splitmix64(seed * 1000003ULL + index) % 100000);
  std::snprintf(digits, sizeof digits, "%05u%03u", noise, static_cast<unsigned>(index % 1000));
  inv.serial_number = std::string(spec.prefix) + digits;
  inv.model = std::string(spec.model);
  inv.ports = spec.ports;
  inv.peak_power_w = 280 + 170 * unit_noise(seed, index, 1);
  inv.base_total_wh = static_cast<std::uint64_t>(50'000 + 400'000 * unit_noise(seed, index, 2));
  return inv;
}

std::string dtu_serial_for(std::uint32_t seed) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%08u", static_cast<unsigned>(splitmix64(seed) % 100000000));
  return std::string("10F7") + digits;
}

SimulatorLayout build(const std::vector<std::pair<std::string, int>>& entries, std::uint32_t seed) {
  SimulatorLayout layout;
  layout.dtu_serial = dtu_serial_for(seed);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    layout.inverters.push_back(
        make_inverter(find_model(entries[i].first, entries[i].second), i, seed));
  }
  if (layout.inverters.empty()) throw ConfigError("a simulated DTU needs at least one inverter");
  if (layout.port_count() > kMaxSimulatedPorts) {
    throw ConfigError("a DTU serves at most 99 ports; layout has " +
                      std::to_string(layout.port_count()));
  }
  return layout;
}

// Daylight factor 0..1 from hour of day (sunrise 6:00, sunset 18:00, simulated UTC).
double daylight(double hour) {
  if (hour <= 6 || hour >= 18) return 0;
  return std::sin(std::numbers::pi * (hour - 6) / 12);
}

// Energy (Wh) produced since midnight by a port with `peak_w`, integral of the curve.
double energy_today_wh(double peak_w, double hour) {
  if (hour <= 6) return 0;
  const double h = std::min(hour, 18.0);
  return peak_w * 12 / std::numbers::pi * (1 - std::cos(std::numbers::pi * (h - 6) / 12));
}

constexpr std::int64_t kAnchorDay = 19723;  // 2024-01-01, days since the epoch

}  // namespace

int SimulatorLayout::port_count() const {
  int n = 0;
  for (const auto& inv : inverters) n += inv.ports;
  return n;
}

SimulatorLayout layout_from_spec(std::string_view spec, std::uint32_t seed) {
  std::vector<std::pair<std::string, int>> entries;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      throw ConfigError("layout item '" + std::string(item) + "' must be FAMILY:PORTS, e.g. HM:4");
    }
    std::string family(item.substr(0, colon));
    std::transform(family.begin(), family.end(), family.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    const std::string_view ports_text = item.substr(colon + 1);
    int ports = 0;
    auto [ptr, ec] =
        std::from_chars(ports_text.data(), ports_text.data() + ports_text.size(), ports);
    if (ec != std::errc() || ptr != ports_text.data() + ports_text.size()) {
      throw ConfigError("layout item '" + std::string(item) + "': port count is not a number");
    }
    entries.emplace_back(family, ports);
  }
  return build(entries, seed);
}

SimulatorLayout mixed_layout(int inverters, std::uint32_t seed) {
  if (inverters < 1) throw ConfigError("need at least one inverter");
  std::vector<std::pair<std::string, int>> entries;
  int ports = 0;
  for (int i = 0; static_cast<int>(entries.size()) < inverters; ++i) {
    auto [family, n] = kMix[static_cast<std::size_t>(i) % kMix.size()];
    if (ports + n > kMaxSimulatedPorts) {
      if (ports + 1 > kMaxSimulatedPorts) break;
      n = 1;
      family = "HMS";
    }
    entries.emplace_back(std::string(family), n);
    ports += n;
  }
  return build(entries, seed);
}

SimulatorLayout layout_with_ports(int ports, std::uint32_t seed) {
  if (ports < 1 || ports > kMaxSimulatedPorts) throw ConfigError("ports must be 1..99");
  std::vector<std::pair<std::string, int>> entries;
  int have = 0;
  for (std::size_t i = 0; have < ports; ++i) {
    auto [family, n] = kMix[i % kMix.size()];
    if (have + n > ports) {
      family = i % 2 == 0 ? "HM" : "MI";
      n = 1;
    }
    entries.emplace_back(std::string(family), n);
    have += n;
  }
  return build(entries, seed);
}

SimulatedDtu::SimulatedDtu(SimulatorLayout layout, ModelOptions options, Timestamp real_start)
    : layout_(std::move(layout)), options_(options), real_start_(real_start) {
  if (options_.speed < 0) throw ConfigError("simulation speed must be >= 0");
  for (std::size_t i = 0; i < layout_.inverters.size(); ++i) {
    for (int p = 0; p < layout_.inverters[i].ports; ++p) {
      port_index_.emplace_back(static_cast<int>(i), p);
    }
  }
}

Timestamp SimulatedDtu::sim_time(Timestamp real_now) const {
  const auto elapsed = std::chrono::duration<double>(real_now - real_start_) * options_.speed;
  return options_.start_time + std::chrono::duration_cast<Timestamp::duration>(elapsed);
}

RawPortBlock SimulatedDtu::port_block(int index, Timestamp t, bool zeroed) const {
  RawPortBlock raw;
  if (index < 0 || index >= static_cast<int>(port_index_.size())) {
    raw.serial_number = std::string(12, '0');
    return raw;
  }
  const auto [inv_index, port] = port_index_[static_cast<std::size_t>(index)];
  const SimulatedInverter& inv = layout_.inverters[static_cast<std::size_t>(inv_index)];
  raw.serial_number = inv.serial_number;
  raw.set(Field::kDataType, 0x0C);
  raw.set(Field::kPortNumber, port + 1);
  if (zeroed) return raw;

  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  const std::int64_t day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const double hour = static_cast<double>(secs - day * 86400) / 3600.0;
  const double sun = daylight(hour);
  if (options_.night_unlinked && sun <= 0) return raw;  // asleep: a zero block, unlinked
  const double minute = std::floor(static_cast<double>(secs) / 60);
  const auto k = static_cast<std::uint64_t>(index);
  const double peak = inv.peak_power_w * (0.9 + 0.2 * unit_noise(k, 7, 0));
  const double cloud = 0.8 + 0.2 * unit_noise(k, static_cast<std::uint64_t>(minute), 3);
  const double power_w = peak * sun * cloud;
  const double pv_voltage_v = sun > 0 ? 29 + 9 * sun + unit_noise(k, 5, 0) : 0;
  const double pv_current_a = pv_voltage_v > 0 ? power_w / pv_voltage_v : 0;
  const double divisor = family_for_serial(inv.serial_number).pv_current_divisor;

  const double daily_wh = std::floor(energy_today_wh(peak, 24));
  const auto today_wh = static_cast<std::int64_t>(std::floor(energy_today_wh(peak, hour)));
  // Monotonic in time; clamping the sum (not the day count) keeps it monotonic.
  const std::int64_t total_wh = std::max<std::int64_t>(
      0, static_cast<std::int64_t>(inv.base_total_wh) +
             (day - kAnchorDay) * static_cast<std::int64_t>(daily_wh) + today_wh);

  const double phase = static_cast<double>(secs) / 420.0 + inv_index;
  raw.set(Field::kPvVoltage, std::lround(pv_voltage_v * 10));
  raw.set(Field::kPvCurrent, std::lround(pv_current_a * divisor));
  raw.set(Field::kGridVoltage, std::lround((230 + 4 * std::sin(phase)) * 10));
  raw.set(Field::kGridFrequency, std::lround((50 + 0.03 * std::sin(phase * 2.3)) * 100));
  raw.set(Field::kPvPower, std::lround(power_w * 10));
  raw.set(Field::kTodayProduction, std::min<std::int64_t>(today_wh, 0xFFFF));
  raw.set(Field::kTotalProduction, std::min<std::int64_t>(total_wh, 0xFFFFFFFFLL));
  raw.set(Field::kTemperature, std::lround((options_.ambient_c + 25 * sun + inv_index % 3) * 10));
  raw.set(Field::kOperatingStatus, sun > 0 ? 3 : 0);
  raw.set(Field::kAlarmCode, 0);
  raw.set(Field::kAlarmCount, inv_index % 3 == 2 ? 1 : 0);
  raw.set(Field::kLinkStatus, 1);
  return raw;
}

std::optional<std::vector<std::uint8_t>> SimulatedDtu::read(std::uint16_t address,
                                                            std::uint16_t count, Timestamp t,
                                                            bool zeroed,
                                                            std::uint8_t& exception_code) const {
  exception_code = 0;
  if (count == 0 || count > 125) {
    exception_code = 0x03;
    return std::nullopt;
  }
  const std::size_t bytes = std::size_t{count} * 2;
  constexpr std::size_t kBlocksEnd =
      kPortBlockBaseAddress + std::size_t{kMaxPortBlocks} * kPortBlockBytes;
  if (address >= kPortBlockBaseAddress && address + bytes <= kBlocksEnd) {
    const std::size_t offset = address - kPortBlockBaseAddress;
    std::vector<std::uint8_t> out;
    out.reserve(bytes);
    const std::size_t first = offset / kPortBlockBytes;
    const std::size_t last = (offset + bytes - 1) / kPortBlockBytes;
    for (std::size_t b = first; b <= last; ++b) {
      const auto block = encode_port_block(port_block(static_cast<int>(b), t, zeroed));
      const std::size_t from = b == first ? offset % kPortBlockBytes : 0;
      const std::size_t to =
          std::min<std::size_t>(kPortBlockBytes, offset + bytes - b * kPortBlockBytes);
      out.insert(out.end(), block.begin() + static_cast<std::ptrdiff_t>(from),
                 block.begin() + static_cast<std::ptrdiff_t>(to));
    }
    return out;
  }
  if (address >= kDtuSerialAddress && address + bytes <= kDtuSerialAddress + kDtuSerialBytes) {
    std::vector<std::uint8_t> serial;
    for (std::size_t i = 0; i < kDtuSerialBytes; ++i) {
      serial.push_back(
          static_cast<std::uint8_t>(std::stoul(layout_.dtu_serial.substr(i * 2, 2), nullptr, 16)));
    }
    const std::size_t from = address - kDtuSerialAddress;
    return std::vector<std::uint8_t>(serial.begin() + static_cast<std::ptrdiff_t>(from),
                                     serial.begin() + static_cast<std::ptrdiff_t>(from + bytes));
  }
  exception_code = 0x02;
  return std::nullopt;
}

ResponsePlan plan_response(const SimulatedDtu& dtu, const FaultOptions& faults,
                           FaultCounters& counters, const ServedRequest& request, Timestamp t) {
  const std::uint64_t n = ++counters.requests;
  auto hits = [n](int every) { return every > 0 && n % static_cast<std::uint64_t>(every) == 0; };
  ResponsePlan plan;
  plan.delay = faults.delay;
  if (hits(faults.drop_every)) {
    plan.action = ResponsePlan::Action::kDrop;
    plan.fault = "drop";
    return plan;
  }
  if (hits(faults.no_answer_every)) {
    plan.action = ResponsePlan::Action::kNoAnswer;
    plan.fault = "no-answer";
    return plan;
  }
  if (request.function != kReadHoldingRegisters) {
    plan.pdu = exception_pdu(request.function, 0x01);
    return plan;
  }
  if (hits(faults.exception_every)) {
    plan.pdu = exception_pdu(request.function, faults.exception_code);
    plan.fault = "exception";
    return plan;
  }
  const bool block0 = request.address == kPortBlockBaseAddress;
  if (block0 && counters.block0_reads++ < static_cast<std::uint64_t>(faults.not_mapped_polls)) {
    plan.pdu = read_response_pdu({}, std::nullopt);
    plan.fault = "not-mapped";
    return plan;
  }
  bool zeroed = faults.zero_blocks;
  if (!zeroed && faults.zero_period.count() > 0) {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    const auto period = faults.zero_period.count();
    zeroed = ((secs % period) + period) % period < faults.zero_duration.count();
  }
  std::uint8_t code = 0;
  const auto bytes = dtu.read(request.address, request.count, t, zeroed, code);
  if (!bytes) {
    plan.pdu = exception_pdu(request.function, code);
    return plan;
  }
  plan.pdu = read_response_pdu(*bytes, faults.wrong_byte_count);
  if (faults.wrong_byte_count) plan.fault = "wrong-byte-count";
  if (zeroed && request.address < kDtuSerialAddress) plan.fault = "zero-block";
  if (hits(faults.garbage_every)) {
    plan.action = ResponsePlan::Action::kGarbage;
    plan.fault = "garbage";
  }
  return plan;
}

}  // namespace smiles::protocol
