// Inverter family from the serial number: the one table of serial prefixes, used
// by the decoder (PV current scale), the simulator and the importers (type).
#pragma once

#include <array>
#include <string_view>

namespace smiles {

// Inverter family from the serial prefix. Serial digits: 1-2 generation (10 = MI,
// 11 = HM/HMS, 13 = HMT), 3 = port count code, 4 = series (4 = HMS). The longest
// matching prefix wins; a new prefix is one line here.
struct FamilyRule {
  std::string_view serial_prefix;
  std::string_view inverter_type;
  double pv_current_divisor;  // raw PV current / divisor = amperes
};

inline constexpr std::array<FamilyRule, 7> kFamilyRules{{
    {"10", "MI", 10},
    {"11", "HM", 100},
    {"1124", "HMS", 100},
    {"1144", "HMS", 100},
    {"1164", "HMS", 100},
    {"1184", "HMS", 100},
    {"13", "HMT", 100},
}};
// Anything no rule matches: HM-style scaling, type reported as unknown.
inline constexpr FamilyRule kUnknownFamily{"", "unknown", 100};

constexpr const FamilyRule& family_for_serial(std::string_view serial) {
  const FamilyRule* best = &kUnknownFamily;
  for (const auto& rule : kFamilyRules) {
    if (serial.starts_with(rule.serial_prefix) &&
        rule.serial_prefix.size() > best->serial_prefix.size()) {
      best = &rule;
    }
  }
  return *best;
}

}  // namespace smiles
