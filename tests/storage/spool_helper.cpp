// Test helper: appends readings to a spool forever, printing "acked N" after each
// append has returned (i.e. is durable). The test kills it with SIGKILL.
#include <cstdio>
#include <cstdlib>

#include "readings.h"
#include "smiles/storage/spool.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: spool_helper <spool-file>\n");
    return 2;
  }
  smiles::storage::Spool spool({argv[1]});
  const auto start = smiles::test::utc("2026-06-01T00:00:00");
  for (int i = 1;; ++i) {
    if (!spool.append(smiles::test::make_reading(start + std::chrono::seconds{i}, 4, 4, i)))
      return 1;
    std::printf("acked %d\n", i);
    std::fflush(stdout);
  }
}
