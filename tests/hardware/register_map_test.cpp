#include "smiles/protocol/register_map.h"

#include <gtest/gtest.h>

#include <array>

namespace smiles::protocol {
namespace {

TEST(RegisterMap, FieldsDoNotOverlapAndCoverTheDocumentedBytes) {
  std::array<int, kPortBlockBytes> owner{};
  owner.fill(-1);
  for (const auto& spec : kPortBlockMap) {
    for (int b = spec.offset; b < spec.offset + spec.width; ++b) {
      EXPECT_EQ(owner[static_cast<std::size_t>(b)], -1) << "byte " << b << " claimed twice";
      owner[static_cast<std::size_t>(b)] = static_cast<int>(spec.field);
    }
  }
  for (int b = 0; b <= 32; ++b) EXPECT_NE(owner[static_cast<std::size_t>(b)], -1) << "byte " << b;
  for (int b = 33; b < kPortBlockBytes; ++b) EXPECT_EQ(owner[static_cast<std::size_t>(b)], -1);
}

TEST(RegisterMap, AddressesFollowTheByteAddressingQuirk) {
  EXPECT_EQ(port_block_address(0), 0x1000);
  EXPECT_EQ(port_block_address(1), 0x1028);
  EXPECT_EQ(port_block_address(99), 0x1000 + 99 * 40);
  EXPECT_EQ(kPortBlockRegisters, 20);
  EXPECT_EQ(kDtuSerialRegisters, 3);
}

TEST(RegisterMap, TemperatureIsTheOnlySignedField) {
  for (const auto& spec : kPortBlockMap) {
    EXPECT_EQ(spec.encoding == Encoding::kSigned, spec.field == Field::kTemperature) << spec.name;
  }
  EXPECT_EQ(field_spec(Field::kTotalProduction).width, 4);
}

TEST(FamilyRules, PrefixDecidesTypeAndCurrentScale) {
  EXPECT_EQ(family_for_serial("103332416355").inverter_type, "MI");
  EXPECT_EQ(family_for_serial("103332416355").pv_current_divisor, 10);
  EXPECT_EQ(family_for_serial("116164835001").inverter_type, "HM");
  EXPECT_EQ(family_for_serial("116164835001").pv_current_divisor, 100);
  EXPECT_EQ(family_for_serial("114421965002").inverter_type, "HMS");
  EXPECT_EQ(family_for_serial("138297376003").inverter_type, "HMT");
  EXPECT_EQ(family_for_serial("999999999999").inverter_type, "unknown");
  EXPECT_EQ(family_for_serial("999999999999").pv_current_divisor, 100);
  EXPECT_EQ(family_for_serial("").inverter_type, "unknown");
}

}  // namespace
}  // namespace smiles::protocol
