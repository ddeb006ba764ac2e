#include "smiles/storage/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "readings.h"
#include "smiles/core/error.h"
#include "temp_dir.h"

namespace smiles::storage {
namespace {

using test::make_reading;
using test::utc;

class SpoolTest : public ::testing::Test {
 protected:
  DtuReading reading(int i) {
    return make_reading(utc("2026-06-01T10:00:00") + std::chrono::minutes{i}, 2, 3, i + 1);
  }

  test::TempDir dir{"smiles-spool"};
  std::filesystem::path path = dir / "sub" / "spool.bin";
};

// Collects what a replay writes; can be told to fail on a given batch.
struct RecordingSink : ReadingSink {
  void write(std::span<const DtuReading> batch) override {
    if (++batches == fail_on_batch) throw IoError("database went away");
    received.insert(received.end(), batch.begin(), batch.end());
  }
  std::vector<DtuReading> received;
  int batches = 0;
  int fail_on_batch = -1;
};

TEST_F(SpoolTest, ReadingsSurviveReopenAndReplayInOrderExactly) {
  {
    Spool spool({path});
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool.append(reading(i)));
    EXPECT_EQ(spool.stats().readings, 5U);
  }
  Spool spool({path});
  EXPECT_EQ(spool.stats().readings, 5U);
  RecordingSink sink;
  EXPECT_EQ(spool.replay(sink, 2), 5U);
  EXPECT_EQ(sink.batches, 3);
  ASSERT_EQ(sink.received.size(), 5U);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(sink.received[static_cast<std::size_t>(i)], reading(i)) << i;
  EXPECT_EQ(spool.stats().readings, 0U);
  EXPECT_EQ(std::filesystem::file_size(path), 0U);
}

TEST_F(SpoolTest, TornLastRecordIsCutOffWithoutLosingEarlierOnes) {
  {
    Spool spool({path});
    for (int i = 0; i < 3; ++i) spool.append(reading(i));
  }
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 7);  // crash in the middle of the third append
  Spool spool({path});
  EXPECT_EQ(spool.stats().readings, 2U);
  EXPECT_EQ(spool.stats().damaged_records, 1U);
  spool.append(reading(3));
  RecordingSink sink;
  spool.replay(sink);
  ASSERT_EQ(sink.received.size(), 3U);
  EXPECT_EQ(sink.received[2], reading(3));
}

TEST_F(SpoolTest, CorruptRecordInTheMiddleIsSkipped) {
  std::uint64_t second_record_at = 0;
  {
    Spool spool({path});
    spool.append(reading(0));
    second_record_at = spool.stats().bytes;
    spool.append(reading(1));
    spool.append(reading(2));
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(second_record_at + 40));
    f.put('#');
  }
  Spool spool({path});
  EXPECT_EQ(spool.stats().readings, 2U);
  EXPECT_EQ(spool.stats().damaged_records, 1U);
  RecordingSink sink;
  spool.replay(sink);
  ASSERT_EQ(sink.received.size(), 2U);
  EXPECT_EQ(sink.received[0], reading(0));
  EXPECT_EQ(sink.received[1], reading(2));
}

TEST_F(SpoolTest, LargeFileWithDamageWiderThanTheSearchWindow) {
  std::vector<std::uint64_t> offsets;
  {
    Spool spool({path});
    for (int i = 0; i < 600; ++i) {
      offsets.push_back(spool.stats().bytes);
      spool.append(reading(i));
    }
  }
  const auto hole = offsets[400] - offsets[200];
  ASSERT_GT(hole, 64U * 1024);  // the resync must search across more than one window
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offsets[200]));
    const std::string zeros(hole, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  Spool spool({path});
  EXPECT_EQ(spool.stats().readings, 400U);
  EXPECT_EQ(spool.stats().damaged_records, 1U);
  RecordingSink sink;
  EXPECT_EQ(spool.replay(sink, 64), 400U);
  ASSERT_EQ(sink.received.size(), 400U);
  EXPECT_EQ(sink.received[199], reading(199));
  EXPECT_EQ(sink.received[200], reading(400));
  EXPECT_EQ(sink.received.back(), reading(599));
}

TEST_F(SpoolTest, BoundDropsAndCounts) {
  Spool spool({path, 3000});
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += spool.append(reading(i)) ? 1 : 0;
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 10);
  EXPECT_EQ(spool.stats().dropped, static_cast<std::uint64_t>(10 - accepted));
  EXPECT_LE(spool.stats().bytes, 3000U);
  EXPECT_EQ(spool.stats().readings, static_cast<std::uint64_t>(accepted));
}

TEST_F(SpoolTest, FailedReplayKeepsEverythingNotWritten) {
  Spool spool({path});
  for (int i = 0; i < 6; ++i) spool.append(reading(i));
  RecordingSink failing;
  failing.fail_on_batch = 2;
  EXPECT_THROW(spool.replay(failing, 2), IoError);
  EXPECT_EQ(failing.received.size(), 2U);  // the first batch was taken
  EXPECT_EQ(spool.stats().readings, 4U);
  RecordingSink ok;
  EXPECT_EQ(spool.replay(ok, 2), 4U);
  ASSERT_EQ(ok.received.size(), 4U);
  EXPECT_EQ(ok.received.front().timestamp, reading(2).timestamp);
  EXPECT_EQ(spool.stats().bytes, 0U);
}

// A replay writes without the lock appends take: readings keep arriving while the
// sink is slow, and every one of them is replayed exactly once.
TEST_F(SpoolTest, AppendsGoOnWhileAReplayWrites) {
  Spool spool({path});
  for (int i = 0; i < 10; ++i) spool.append(reading(i));
  struct SlowSink : ReadingSink {
    std::function<void()> meanwhile;
    std::vector<DtuReading> received;
    void write(std::span<const DtuReading> batch) override {
      // An append from another thread finishes while this batch is being written.
      std::thread(meanwhile).join();
      received.insert(received.end(), batch.begin(), batch.end());
    }
  } sink;
  int next = 100;
  sink.meanwhile = [&] {
    if (next < 103) spool.append(reading(next++));  // three, then the replay catches up
  };
  EXPECT_EQ(spool.replay_batch(sink, 4), 4U);
  EXPECT_EQ(spool.stats().readings, 7U);  // 10 - 4 + 1 appended meanwhile
  spool.replay(sink, 4);
  EXPECT_EQ(spool.stats().readings, 0U);
  EXPECT_EQ(spool.stats().bytes, 0U);
  std::set<std::int64_t> seen;
  for (const auto& r : sink.received) seen.insert(r.timestamp.time_since_epoch().count());
  EXPECT_EQ(seen.size(), sink.received.size()) << "a reading was replayed twice";
  EXPECT_EQ(next, 103);
  EXPECT_EQ(sink.received.size(), 13U);
}

TEST_F(SpoolTest, CodecRoundTripsExactly) {
  auto r = reading(7);
  r.inverters[0].temperature_c = -12.3;
  r.inverters[1].ports[0].pv_current_a = 0.1 + 0.2;
  r.inverters[1].ports[0].total_production_wh = 4'294'967'295ULL;
  EXPECT_EQ(decode_reading(encode_reading(r)), r);
  EXPECT_THROW(decode_reading("{\"n\": 1}"), DataError);
  EXPECT_THROW(decode_reading("not json"), DataError);
}

TEST(Crc32, KnownVector) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0xCBF43926U);
}

}  // namespace
}  // namespace smiles::storage
