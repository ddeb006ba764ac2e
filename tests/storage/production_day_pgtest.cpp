// The production-day rule in SQL (PostgreSQL's zone data), against the shared vectors
// the C++ form runs too (tests/bridge/time_zone_test.cpp).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "energy_vectors.h"
#include "smiles/storage/production_rules.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

TEST(ProductionDaySql, Vectors) {
  test::TestDatabase db;
  pqxx::connection c(db.url());
  pqxx::nontransaction tx(c);
  const std::string sql = "SELECT " + production_day_sql("$1::timestamptz", "$2", "$3") + "::text";
  for (const auto& v : test::day_vectors()) {
    EXPECT_EQ(tx.exec_params1(sql, v.utc, v.zone, v.reset_hour)[0].as<std::string>(), v.day)
        << v.utc << " in " << v.zone << ", RESET_HOUR " << v.reset_hour;
  }
}

}  // namespace
}  // namespace smiles::storage
