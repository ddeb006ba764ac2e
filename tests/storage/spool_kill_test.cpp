// kill -9 of a process that is appending to the spool: nothing acknowledged is lost.
#include <gtest/gtest.h>
#include <signal.h>

#include "process.h"
#include "smiles/storage/spool.h"
#include "temp_dir.h"

namespace smiles::storage {
namespace {

TEST(SpoolKill, NothingAcknowledgedIsLost) {
  test::TempDir dir("smiles-spool-kill");
  for (int round = 0; round < 5; ++round) {
    test::ChildProcess writer({SPOOL_HELPER_PATH, (dir / "spool.bin").string()});
    int acked = 0;
    const int target = 20 + round * 37;
    while (acked < target) {
      auto line = writer.wait_for_line("acked ", std::chrono::seconds{10});
      ASSERT_TRUE(line) << "helper stopped acknowledging";
      acked = std::stoi(line->substr(6));
    }
    EXPECT_EQ(writer.stop(SIGKILL), -SIGKILL);
    // The helper may have acknowledged more than we read so far: drain the pipe.
    while (auto more = writer.wait_for_line("acked ", std::chrono::milliseconds{200})) {
      acked = std::stoi(more->substr(6));
    }
    Spool spool({dir / "spool.bin"});
    // Every acknowledged append is there; at most one more (written, not yet acked).
    const auto n = spool.stats().readings;
    EXPECT_GE(n, static_cast<std::uint64_t>(acked)) << "round " << round;
    EXPECT_LE(n, static_cast<std::uint64_t>(acked) + 1) << "round " << round;
    std::filesystem::remove(dir / "spool.bin");
  }
}

}  // namespace
}  // namespace smiles::storage
