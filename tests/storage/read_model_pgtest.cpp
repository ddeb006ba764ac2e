#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/reading_writer.h"

#include <gtest/gtest.h>

#include <future>
#include <pqxx/pqxx>

#include "read_queries.h"
#include "readings.h"
#include "smiles/core/error.h"
#include "smiles/storage/migrator.h"
#include "test_database.h"

namespace smiles::storage {
namespace {

using namespace std::chrono_literals;
using test::make_reading;
using test::utc;
using test::with_energy;

class ReadModelTest : public ::testing::Test {
 protected:
  void SetUp() override { Migrator(pool).upgrade(); }
  void write(const DtuReading& r) { writer.write({&r, 1}); }

  test::TestDatabase db;
  ConnectionPool pool{db.config()};
  ReadingWriter writer{pool, {0, "UTC"}};
  PgReadModel model{pool, {0, "UTC"}};
};

TEST_F(ReadModelTest, LatestValuesOfEveryInverterWithPorts) {
  write(make_reading(utc("2026-06-01T10:00:00"), 2, 3, 1));
  write(make_reading(utc("2026-06-01T10:01:00"), 2, 3, 2));
  const auto all = model.inverters(std::nullopt);
  ASSERT_EQ(all.size(), 2U);
  ASSERT_TRUE(all[0].latest);
  EXPECT_EQ(all[0].dtu_name, "roof");
  EXPECT_EQ(all[0].latest->timestamp, utc("2026-06-01T10:01:00"));
  EXPECT_EQ(all[0].first_seen, utc("2026-06-01T10:00:00"));
  EXPECT_EQ(all[0].latest->values, make_reading(utc("2026-06-01T10:01:00"), 2, 3, 2).inverters[0]);
  const auto one = model.inverters(std::string("116100000002"));
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].latest->values.ports.size(), 3U);
  EXPECT_TRUE(model.inverters(std::string("999999999999")).empty());
}

TEST_F(ReadModelTest, HistoryIsNewestFirstWithLimitSinceUntil) {
  const auto t0 = utc("2026-06-01T10:00:00");
  for (int i = 0; i < 10; ++i) write(make_reading(t0 + std::chrono::minutes{i}, 1, 2, i + 1));
  auto h = model.inverter_history("116100000001", {3, std::nullopt, std::nullopt});
  ASSERT_EQ(h.size(), 3U);
  EXPECT_EQ(h[0].timestamp, t0 + 9min);
  EXPECT_EQ(h[2].timestamp, t0 + 7min);
  h = model.inverter_history("116100000001", {100, t0 + 2min, t0 + 4min});
  ASSERT_EQ(h.size(), 3U);
  EXPECT_EQ(h.front().timestamp, t0 + 4min);
  EXPECT_EQ(h.back().timestamp, t0 + 2min);
  auto p = model.port_history("116100000001", 2, {5, std::nullopt, std::nullopt});
  ASSERT_EQ(p.size(), 5U);
  EXPECT_EQ(p[0].values.pv_power_w, 100.0 * 10 + 2);
  EXPECT_EQ(p[0].values.port_number, 2);
  EXPECT_TRUE(model.port_history("116100000001", 3, {}).empty());
  EXPECT_THROW(model.inverter_history("116100000001", {0, {}, {}}), ConfigError);
  EXPECT_THROW(model.port_history("116100000001", 1, {10001, {}, {}}), ConfigError);
}

TEST_F(ReadModelTest, EnergyStatesAreWhatTheWriterKept) {
  write(with_energy(make_reading(utc("2020-01-01T12:00:00"), 1, 1), 3000, 7'000'000));
  auto states = model.energy_states();
  ASSERT_EQ(states.size(), 1U);
  EXPECT_EQ(states[0].serial_number, "116100000001");
  EXPECT_EQ(states[0].energy.total, 7'000'000U);
  EXPECT_EQ(states[0].energy.today_wh("2020-01-01"), 3000U);  // the first reading's DTU today
  EXPECT_EQ(states[0].energy.today_wh("2020-01-02"), 0U);
  EXPECT_EQ(states[0].energy.day, "2020-01-01");
  write(with_energy(make_reading(utc("2020-01-02T12:00:00"), 1, 1), 1234, 7'001'234));
  states = model.energy_states();
  EXPECT_EQ(states[0].energy.today_wh("2020-01-02"), 1234U);  // total - yesterday's total
  EXPECT_EQ(states[0].energy.total, 7'001'234U);
  EXPECT_EQ(states[0].energy.raw_total, 7'001'234U);
  EXPECT_FALSE(states[0].energy.held);
}

TEST_F(ReadModelTest, StatsCountRowsAndTheTimeSpan) {
  write(make_reading(utc("2026-06-01T10:00:00"), 2, 2));
  write(make_reading(utc("2026-06-02T10:00:00"), 2, 2));
  const auto s = model.stats();
  EXPECT_EQ(s.table_rows.at("port_data"), 8);
  EXPECT_EQ(s.table_rows.at("inverter_data"), 4);
  EXPECT_EQ(s.table_rows.at("inverters"), 2);
  EXPECT_FALSE(s.rows_estimated);
  EXPECT_GT(s.database_size_bytes, 1'000'000);
  EXPECT_EQ(s.oldest_reading, utc("2026-06-01T10:00:00"));
  EXPECT_EQ(s.newest_reading, utc("2026-06-02T10:00:00"));
  EXPECT_EQ(s.total_records, 8 + 4 + 2 + 1 + 4);  // + dtus + production_cache
}

// A table locked by a bulk import (ACCESS EXCLUSIVE until it commits) does not make
// /stats wait: its estimate is reported.
TEST_F(ReadModelTest, StatsDoNotWaitForATableAnImportHolds) {
  pqxx::connection other(db.url());
  pqxx::work holder(other);
  holder.exec0("LOCK TABLE system_metrics IN ACCESS EXCLUSIVE MODE");
  auto stats = std::async(std::launch::async, [&] { return model.stats(); });
  // Without the check this waits until the lock goes (a hang, not a slow answer).
  ASSERT_EQ(stats.wait_for(60s), std::future_status::ready);
  const auto s = stats.get();
  EXPECT_TRUE(s.rows_estimated);
  EXPECT_EQ(s.table_rows.at("system_metrics"), 0);
  holder.abort();
}

// Every query of the read model is served by an index on a realistic dataset:
// 60 inverters x 4 ports, one poll a minute for ~3.5 days (300k port rows).
TEST_F(ReadModelTest, EveryQueryUsesAnIndex) {
  db.exec(R"sql(
    INSERT INTO inverters (serial_number, dtu_name, inverter_type, port_count, first_seen, last_seen)
    SELECT '1161' || lpad(i::text, 8, '0'), 'roof', 'HM', 4, '2026-06-01', '2026-06-05'
    FROM generate_series(1, 60) i;
    INSERT INTO inverter_data
    SELECT '1161' || lpad(i::text, 8, '0'), '2026-06-01'::timestamptz + m * interval '1 minute',
           230, 50, 30, 3, 0, 0, 1
    FROM generate_series(1, 60) i, generate_series(1, 1250) m;
    INSERT INTO port_data
    SELECT '1161' || lpad(i::text, 8, '0'), p, '2026-06-01'::timestamptz + m * interval '1 minute',
           35, 5, 175, m, 1000000 + m
    FROM generate_series(1, 60) i, generate_series(1, 4) p, generate_series(1, 1250) m;
    ANALYZE;
  )sql");
  pqxx::connection c(db.url());
  pqxx::nontransaction tx(c);
  auto plan = [&](const std::string& sql, const std::string& args) {
    tx.exec("DEALLOCATE ALL");
    tx.exec("PREPARE q AS " + sql);
    std::string text;
    for (const auto& row : tx.exec("EXPLAIN EXECUTE q" + args))
      text += row[0].as<std::string>() + "\n";
    return text;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {queries::latest_inverters(), "(NULL)"},
      {queries::latest_inverters(), "('116100000007')"},
      {queries::latest_ports(), "(NULL)"},
      {queries::inverter_history(), "('116100000007', NULL, NULL, 100)"},
      {queries::inverter_history(), "('116100000007', '2026-06-02', '2026-06-03', 100)"},
      {queries::port_history(), "('116100000007', 2, NULL, NULL, 100)"},
      {queries::port_history(), "('116100000007', 2, '2026-06-02', NULL, 10000)"},
      {queries::reading_span(), ""},
  };
  for (const auto& [sql, args] : cases) {
    const auto text = plan(sql, args);
    EXPECT_EQ(text.find("Seq Scan on port_data"), std::string::npos) << text;
    EXPECT_EQ(text.find("Seq Scan on inverter_data"), std::string::npos) << text;
    EXPECT_NE(text.find("Index"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace smiles::storage
