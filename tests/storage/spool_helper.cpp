// Test helper: appends readings (4 inverters x 4 ports, one a second from
// 2026-06-01T00:00:01Z) to a spool, printing "acked N" after each append has returned
// (i.e. is durable): forever (the test kills it with SIGKILL), or COUNT of them.
#include <cstdio>
#include <cstdlib>

#include "readings.h"
#include "smiles/storage/spool.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: spool_helper <spool-file> [count]\n");
    return 2;
  }
  const long count = argc == 3 ? std::atol(argv[2]) : -1;
  smiles::storage::Spool spool({argv[1]});
  const auto start = smiles::test::utc("2026-06-01T00:00:00");
  for (int i = 1; count < 0 || i <= count; ++i) {
    if (!spool.append(smiles::test::make_reading(start + std::chrono::seconds{i}, 4, 4, i)))
      return 1;
    if (count < 0) {
      std::printf("acked %d\n", i);
      std::fflush(stdout);
    }
  }
  return 0;
}
