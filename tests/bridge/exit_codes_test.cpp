// The one exit-code table against the codes each command documents in --help and
// README: serve/simulate 1 or 2; probe 2, 3, 4, 5; db/import/export 1, 2, 3. Every
// error class of the project is listed, so a new kind that falls through shows here.
#include "exit_codes.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "smiles/protocol/errors.h"
#include "smiles/storage/errors.h"

namespace smiles::bridge {
namespace {

struct Case {
  const char* name;
  std::function<std::unique_ptr<Error>()> make;
  int service, probe, database;
};

template <typename E, typename... Args>
std::function<std::unique_ptr<Error>()> make(Args... args) {
  return [=] { return std::make_unique<E>(args...); };
}

TEST(ExitCodes, EveryErrorClassEndsEachCommandAsDocumented) {
  const Case cases[] = {
      {"ConfigError", make<ConfigError>("bad"), 2, 2, 2},
      {"NotMappedError", make<protocol::NotMappedError>("empty"), 1, 4, 3},
      {"TimeoutError", make<TimeoutError>("silent"), 1, 3, 3},
      {"ConnectionError", make<ConnectionError>("refused"), 1, 3, 3},
      {"BackingOff", make<protocol::BackingOff>("later"), 1, 3, 3},
      {"IoError", make<IoError>("disk"), 1, 3, 3},
      {"DatabaseUnavailable", make<storage::DatabaseUnavailable>("down"), 1, 3, 3},
      {"PoolTimeout", make<storage::PoolTimeout>("busy"), 1, 3, 3},
      {"FrameError", make<protocol::FrameError>("crc"), 1, 5, 1},
      {"ModbusException", [] { return std::make_unique<protocol::ModbusException>(2, "x"); }, 1, 5,
       1},
      {"DataError", make<DataError>("odd"), 1, 5, 1},
      {"SchemaError", make<storage::SchemaError>("newer"), 1, 5, 1},
      {"StorageError", make<storage::StorageError>("insert"), 1, 5, 1},
      {"SourceRefused", make<storage::SourceRefused>("not v1"), 1, 1, 1},
      {"Error", make<Error>("other"), 1, 5, 1},
  };
  for (const auto& c : cases) {
    const auto e = c.make();
    EXPECT_EQ(exit_code_for(*e, CommandFamily::kService), c.service) << c.name;
    EXPECT_EQ(exit_code_for(*e, CommandFamily::kProbe), c.probe) << c.name;
    EXPECT_EQ(exit_code_for(*e, CommandFamily::kDatabase), c.database) << c.name;
  }
}

}  // namespace
}  // namespace smiles::bridge
