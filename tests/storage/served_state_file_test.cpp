// The served-state file: what is saved loads back field for field; a file of another
// format or with a damaged body is refused, not believed.
#include "smiles/storage/served_state_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <vector>

#include "readings.h"
#include "smiles/core/error.h"
#include "temp_dir.h"

namespace smiles::storage {
namespace {

using test::make_reading;
using test::utc;

ServedState sample_state() {
  ServedState s;
  PortEnergyRecord r{"116100000001", 2, {}};
  r.energy.total = 1'234'567;
  r.energy.baseline = 1'230'000;
  r.energy.day = "2026-06-01";
  r.energy.last_updated = utc("2026-06-01T10:00:00");
  r.energy.latest = utc("2026-06-01T10:01:00");
  r.energy.raw_total = 1'234'500;
  r.energy.offset = 67;
  r.energy.held = true;
  r.energy.suspect_first = 10;
  r.energy.suspect_last = 12;
  r.energy.suspect_count = 2;
  r.energy.suspect_low = true;
  s.ports.push_back(r);
  const auto reading = make_reading(utc("2026-06-01T10:01:00"), 1, 2, 3);
  s.inverters.push_back({"roof", utc("2026-05-01T08:00:00"), utc("2026-06-01T10:01:00"),
                         InverterSample{reading.timestamp, reading.inverters.at(0)}});
  return s;
}

TEST(ServedStateFile, SavedStateLoadsBackFieldForField) {
  test::TempDir dir("smiles-state");
  ServedStateFile file(dir / "served-state");
  EXPECT_FALSE(file.load());
  const auto saved = sample_state();
  file.save(saved);
  const auto loaded = file.load();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->ports.size(), 1U);
  const auto& a = saved.ports[0].energy;
  const auto& b = loaded->ports[0].energy;
  EXPECT_EQ(loaded->ports[0].serial_number, "116100000001");
  EXPECT_EQ(loaded->ports[0].port_number, 2);
  EXPECT_EQ(b.total, a.total);
  EXPECT_EQ(b.baseline, a.baseline);
  EXPECT_EQ(b.day, a.day);
  EXPECT_EQ(b.last_updated, a.last_updated);
  EXPECT_EQ(b.latest, a.latest);
  EXPECT_EQ(b.raw_total, a.raw_total);
  EXPECT_EQ(b.offset, a.offset);
  EXPECT_EQ(b.held, a.held);
  EXPECT_EQ(b.suspect_first, a.suspect_first);
  EXPECT_EQ(b.suspect_last, a.suspect_last);
  EXPECT_EQ(b.suspect_count, a.suspect_count);
  EXPECT_EQ(b.suspect_low, a.suspect_low);
  ASSERT_EQ(loaded->inverters.size(), 1U);
  const auto& inv = loaded->inverters[0];
  EXPECT_EQ(inv.dtu_name, "roof");
  EXPECT_EQ(inv.first_seen, saved.inverters[0].first_seen);
  ASSERT_TRUE(inv.latest);
  EXPECT_EQ(inv.latest->timestamp, saved.inverters[0].latest->timestamp);
  const auto& want = saved.inverters[0].latest->values;
  EXPECT_EQ(inv.latest->values.serial_number, want.serial_number);
  EXPECT_EQ(inv.latest->values.temperature_c, want.temperature_c);
  ASSERT_EQ(inv.latest->values.ports.size(), want.ports.size());
  EXPECT_EQ(inv.latest->values.ports[1].total_production_wh, want.ports[1].total_production_wh);
}

// Every DTU's poll thread saves after its poll: saves at the same moment must not
// interleave in the shared temporary file.
TEST(ServedStateFile, ConcurrentSavesLeaveAWholeFile) {
  test::TempDir dir("smiles-state");
  ServedStateFile file(dir / "served-state");
  auto big = sample_state();
  for (int i = 0; i < 200; ++i) big.ports.push_back(big.ports[0]);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) file.save(big);
    });
  }
  for (auto& t : threads) t.join();
  const auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->ports.size(), big.ports.size());
}

TEST(ServedStateFile, OtherFormatsAndDamageAreRefused) {
  test::TempDir dir("smiles-state");
  const auto path = dir / "served-state";
  ServedStateFile file(path);
  std::ofstream(path) << "hoymiles-smiles served state 1\n{}\nfnv1a64 0\n";
  try {
    (void)file.load();
    ADD_FAILURE() << "a version-1 file was read";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("another format"), std::string::npos) << e.what();
  }
  file.save(sample_state());
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text[text.find("1234567")] = '9';  // one digit of the body changed
  std::ofstream(path) << text;
  EXPECT_THROW((void)file.load(), DataError);
}

}  // namespace
}  // namespace smiles::storage
