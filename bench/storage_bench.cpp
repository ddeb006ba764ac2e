// Storage figures, measured against references in the same run:
//   1. ReadingWriter throughput (port readings/s) vs raw COPY of the same rows.
//   2. Read-model latency (median, p99) at N port_data rows (default 10 million).
// Needs a PostgreSQL admin URL in SMILES_BENCH_DATABASE_URL (bench/run starts one).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "smiles/core/time.h"
#include "smiles/storage/migrator.h"
#include "smiles/storage/pg_read_model.h"
#include "smiles/storage/reading_writer.h"
#include "smiles/storage/schema.h"

using namespace smiles;
using namespace smiles::storage;
using Clock = std::chrono::steady_clock;

namespace {

std::string admin_url() {
  const char* url = std::getenv("SMILES_BENCH_DATABASE_URL");
  if (url == nullptr) {
    std::fprintf(stderr, "set SMILES_BENCH_DATABASE_URL (bench/run does)\n");
    std::exit(2);
  }
  return url;
}

std::string fresh_database(const std::string& name) {
  pqxx::connection admin(admin_url());
  pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  pqxx::nontransaction(admin).exec("CREATE DATABASE " + name);
  const auto url = admin_url();
  return url.substr(0, url.rfind('/') + 1) + name;
}

DatabaseConfig config_for(const std::string& url) {
  DatabaseConfig c;
  c.url = url;
  c.pool_size = 2;
  c.max_overflow = 0;
  return c;
}

// A full DTU: 25 inverters x 4 ports = 100 ports (99 would do; round numbers read better).
DtuReading full_dtu(Timestamp t, int n) {
  DtuReading r;
  r.dtu_name = "bench";
  r.dtu_serial = "10F700000001";
  r.timestamp = t;
  for (int i = 0; i < 25; ++i) {
    InverterReading inv;
    char serial[16];
    std::snprintf(serial, sizeof serial, "1161%08d", i);
    inv.serial_number = serial;
    inv.inverter_type = "HM";
    inv.grid_voltage_v = 230.1;
    inv.grid_frequency_hz = 50.0;
    inv.temperature_c = 31.5;
    inv.operating_status = 3;
    inv.link_status = 1;
    for (int p = 1; p <= 4; ++p) {
      inv.ports.push_back({serial, p, 35.2, 7.31, 257.3 + p, static_cast<std::uint32_t>(n % 5000),
                           static_cast<std::uint64_t>(1'000'000 + n * 4 + p)});
    }
    r.inverters.push_back(std::move(inv));
  }
  return r;
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Latency {
  double median_ms, p99_ms;
};
template <typename F>
Latency measure(int runs, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    f(i);
    ms.push_back(seconds_since(t) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

struct WriteRun {
  double rate = 0;     // port readings/s
  double cpu = 0;      // client CPU seconds
  double seconds = 0;  // wall time
};

// Writes readings[1..] in batches of `batch` into a fresh database.
WriteRun write_run(const std::vector<DtuReading>& readings, int batch, bool history,
                   ConnectionPool** keep = nullptr) {
  const auto url = fresh_database("smiles_bench_writer");
  static std::unique_ptr<ConnectionPool> pool;
  pool = std::make_unique<ConnectionPool>(config_for(url));
  Migrator(*pool).upgrade();
  ReadingWriter writer(*pool, {0, "UTC"}, history);
  writer.write({readings.data(), 1});  // warm-up: connection, prepared statements
  const int polls = static_cast<int>(readings.size());
  auto t = Clock::now();
  const double cpu = cpu_now();
  for (int i = 1; i < polls; i += batch) {
    writer.write({readings.data() + i, static_cast<std::size_t>(std::min(batch, polls - i))});
  }
  WriteRun r;
  r.seconds = seconds_since(t);
  r.cpu = cpu_now() - cpu;
  r.rate = (polls - 1) * 100.0 / r.seconds;
  if (keep != nullptr) *keep = pool.get();
  return r;
}

void writer_throughput(int polls, int batch) {
  const Timestamp start = WallClock::now() - std::chrono::hours{24 * 365};
  std::vector<DtuReading> readings;
  for (int n = 0; n < polls; ++n) readings.push_back(full_dtu(start + std::chrono::minutes{n}, n));
  const double port_rows = polls * 100.0;

  // What keeping the energy history (energy_days, power_5min) costs the writer: runs
  // without and with it, alternating, best of two each; in batches (a replay, an
  // import) and one poll per write (live polling, on a tenth of the polls).
  std::printf("\nEnergy history's cost to the writer (best of 2, alternating)\n");
  for (const int b : {batch, 1}) {
    const std::vector<DtuReading> part(
        readings.begin(), readings.begin() + (b == 1 ? std::max(2, polls / 10) : polls));
    WriteRun without, with;
    for (int round = 0; round < 2; ++round) {
      const auto w0 = write_run(part, b, false);
      const auto w1 = write_run(part, b, true);
      without = w0.rate > without.rate ? w0 : without;
      with = w1.rate > with.rate ? w1 : with;
    }
    const double overhead = 100.0 * (without.rate - with.rate) / without.rate;
    std::printf(
        "  %4d poll(s) per write   without %9.0f, with %9.0f port readings/s: %+.1f%% "
        "(target < 10%%: %s)\n",
        b, without.rate, with.rate, -overhead, overhead < 10 ? "met" : "MISSED");
  }

  // Our path: COPY + inverters/dtus + production cache + energy history.
  ConnectionPool* kept = nullptr;
  const auto run = write_run(readings, batch, true, &kept);
  ConnectionPool& pool = *kept;
  ReadingWriter writer(pool, {0, "UTC"});
  const double writer_s = run.seconds;
  const double writer_cpu = run.cpu;
  auto t = Clock::now();
  double cpu = 0;
  writer.write(readings);  // idempotent replay of everything: no new rows
  const double replay_s = seconds_since(t);

  // Reference: raw COPY of the same rows straight into the tables.
  const auto copy_url = fresh_database("smiles_bench_copy");
  ConnectionPool copy_pool(config_for(copy_url));
  Migrator(copy_pool).upgrade();
  auto c = copy_pool.acquire();
  t = Clock::now();
  cpu = cpu_now();
  for (int i = 1; i < polls; i += batch) {
    pqxx::work tx(*c);
    pqxx::stream_to inv(
        tx, "inverter_data",
        schema::copy_columns(schema::kInverterKeyColumns, schema::kInverterValueColumns));
    for (int k = i; k < std::min(polls, i + batch); ++k) {
      const auto ts = format_iso8601_utc(readings[static_cast<std::size_t>(k)].timestamp);
      for (const auto& v : readings[static_cast<std::size_t>(k)].inverters) {
        inv << std::make_tuple(v.serial_number, ts, v.grid_voltage_v, v.grid_frequency_hz,
                               v.temperature_c, int{v.operating_status}, int{v.alarm_code},
                               int{v.alarm_count}, int{v.link_status});
      }
    }
    inv.complete();
    pqxx::stream_to ports(tx, "port_data",
                          schema::copy_columns(schema::kPortKeyColumns, schema::kPortValueColumns));
    for (int k = i; k < std::min(polls, i + batch); ++k) {
      const auto ts = format_iso8601_utc(readings[static_cast<std::size_t>(k)].timestamp);
      for (const auto& v : readings[static_cast<std::size_t>(k)].inverters) {
        for (const auto& p : v.ports) {
          ports << std::make_tuple(p.serial_number, p.port_number, ts, p.pv_voltage_v,
                                   p.pv_current_a, p.pv_power_w,
                                   static_cast<long long>(p.today_production_wh),
                                   static_cast<long long>(p.total_production_wh));
        }
      }
    }
    ports.complete();
    tx.commit();
  }
  const double copy_s = seconds_since(t);
  const double copy_cpu = cpu_now() - cpu;
  const double measured_rows = (polls - 1) * 100.0;
  const double writer_rate = measured_rows / writer_s;
  const double copy_rate = measured_rows / copy_s;
  std::printf("\nReadingWriter throughput (%d polls of a 100-port DTU, %d polls per write)\n",
              polls, batch);
  std::printf("  writer                  %10.0f port readings/s   (target >= 100000: %s)\n",
              writer_rate, writer_rate >= 100000 ? "met" : "MISSED");
  std::printf("  raw COPY, same rows     %10.0f port readings/s\n", copy_rate);
  std::printf("  ratio writer/raw COPY   %10.2f                   (target >= 0.5: %s)\n",
              writer_rate / copy_rate, writer_rate / copy_rate >= 0.5 ? "met" : "MISSED");
  std::printf("  client CPU share         writer %.0f%%, raw COPY %.0f%% of wall time\n",
              100 * writer_cpu / writer_s, 100 * copy_cpu / copy_s);
  std::printf(
      "  idempotent replay       %10.0f port readings/s   (all %0.f rows again, none added)\n",
      port_rows / replay_s, port_rows);
}

// Loads `rows` port readings (25 inverters x 4 ports, one poll a minute) into a fresh
// database smiles_bench_read; returns its URL.
std::string load_read_dataset(long long rows) {
  const auto url = fresh_database("smiles_bench_read");
  {
    ConnectionPool pool(config_for(url));
    Migrator(pool).upgrade();
  }
  const long long minutes = rows / 100;
  std::printf("\nGenerating %lld port_data rows (100 ports x %lld minutes = %.0f days)...\n",
              minutes * 100, minutes, static_cast<double>(minutes) / 1440.0);
  auto t = Clock::now();
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  tx.exec("SET maintenance_work_mem = '512MB'");
  tx.exec(
      "INSERT INTO inverters (serial_number, dtu_name, inverter_type, port_count, first_seen, "
      "last_seen) SELECT '1161' || lpad(i::text, 8, '0'), 'bench', 'HM', 4, '2025-01-01', now() "
      "FROM generate_series(0, 24) i");
  // Load without the keys, then build them: what a bulk import would do.
  tx.exec("ALTER TABLE port_data DROP CONSTRAINT port_data_pkey");
  tx.exec("ALTER TABLE inverter_data DROP CONSTRAINT inverter_data_pkey");
  tx.exec("DROP INDEX port_data_time_idx");
  tx.exec_params(
      "INSERT INTO port_data SELECT '1161' || lpad(i::text, 8, '0'), p, "
      "'2025-01-01'::timestamptz + m * interval '1 minute', 35 + p, 7, 250 + (m % 100), m % 5000, "
      "1000000 + m FROM generate_series(0, 24) i, generate_series(1, 4) p, "
      "generate_series(1, $1::bigint) m",
      minutes);
  tx.exec_params(
      "INSERT INTO inverter_data SELECT '1161' || lpad(i::text, 8, '0'), "
      "'2025-01-01'::timestamptz + m * interval '1 minute', 230, 50, 30, 3, 0, 0, 1 "
      "FROM generate_series(0, 24) i, generate_series(1, $1::bigint) m",
      minutes);
  tx.exec("ALTER TABLE port_data ADD PRIMARY KEY (serial_number, port_number, \"timestamp\")");
  tx.exec("ALTER TABLE inverter_data ADD PRIMARY KEY (serial_number, \"timestamp\")");
  tx.exec("CREATE INDEX port_data_time_idx ON port_data (\"timestamp\")");
  tx.exec("VACUUM ANALYZE");
  std::printf("  loaded and indexed in %.0f s\n", seconds_since(t));

  return url;
}

// `years` of readings of a 20-port plant (5 inverters x 4 ports), one every `every`
// minutes, loaded at schema version 3; then migration 4 fills the energy history from
// them (timed). Each port makes 1440 Wh a day, from 06:00 to 18:00 UTC. Returns the
// database URL.
std::string load_history_dataset(int years, int every) {
  const auto url = fresh_database("smiles_bench_history");
  ConnectionPool pool(config_for(url));
  auto migrations = builtin_migrations();
  migrations.resize(static_cast<std::size_t>(schema::kEnergyHistoryMigration - 1));
  Migrator(pool, migrations).upgrade();
  const long long readings = years * 365LL * 1440 / every;
  std::printf(
      "\nLoading %d years of a 20-port plant, a reading every %d min: %lld port_data rows\n", years,
      every, readings * 20);
  auto t = Clock::now();
  {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    tx.exec("SET maintenance_work_mem = '512MB'");
    tx.exec("ALTER TABLE port_data DROP CONSTRAINT port_data_pkey");
    tx.exec("ALTER TABLE inverter_data DROP CONSTRAINT inverter_data_pkey");
    tx.exec("DROP INDEX port_data_time_idx");
    const std::string start =
        "(date_trunc('day', now()) - make_interval(years => " + std::to_string(years) + "))";
    // m: minutes since the start; the day's production so far: 2 Wh a minute 06-18 h.
    const std::string so_far = "least(greatest(m % 1440 - 360, 0), 720) * 2";
    tx.exec(
        "INSERT INTO inverters (serial_number, dtu_name, inverter_type, port_count, "
        "first_seen, last_seen) SELECT '1161' || lpad(i::text, 8, '0'), 'bench', 'HM', "
        "4, " +
        start + ", now() FROM generate_series(0, 4) i");
    tx.exec_params(
        "INSERT INTO port_data SELECT '1161' || lpad(i::text, 8, '0'), p, " + start +
            " + m * interval '1 minute', 35, 3.4, CASE WHEN m % 1440 BETWEEN 360 AND "
            "1079 THEN 120 ELSE 0 END, " +
            so_far + ", 1000000 + (m / 1440) * 1440 + " + so_far +
            " FROM generate_series(0, 4) i, generate_series(1, 4) p, "
            "generate_series(0, $1::bigint - 1) k, LATERAL (SELECT k * $2::bigint AS m) x",
        readings, every);
    tx.exec_params("INSERT INTO inverter_data SELECT '1161' || lpad(i::text, 8, '0'), " + start +
                       " + k * $2::bigint * interval '1 minute', 230, 50, 30, 3, 0, 0, 1 FROM "
                       "generate_series(0, 4) i, generate_series(0, $1::bigint - 1) k",
                   readings, every);
    tx.exec("ALTER TABLE port_data ADD PRIMARY KEY (serial_number, port_number, \"timestamp\")");
    tx.exec("ALTER TABLE inverter_data ADD PRIMARY KEY (serial_number, \"timestamp\")");
    tx.exec("CREATE INDEX port_data_time_idx ON port_data (\"timestamp\")");
    tx.exec("VACUUM ANALYZE");
  }
  std::printf("  loaded and indexed in %.0f s\n", seconds_since(t));
  t = Clock::now();
  Migrator(pool, MigratorOptions{"", {0, "UTC"}}).upgrade();
  const double migrate_s = seconds_since(t);
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  tx.exec("VACUUM ANALYZE energy_days, power_5min");
  std::printf(
      "  migration 4 filled the energy history in %.1f s (%.0f port readings/s): %s "
      "energy_days rows, %s power_5min rows\n",
      migrate_s, static_cast<double>(readings) * 20 / migrate_s,
      tx.exec1("SELECT count(*) FROM energy_days")[0].c_str(),
      tx.exec1("SELECT count(*) FROM power_5min")[0].c_str());
  return url;
}

void read_latency(long long rows) {
  const auto url = load_read_dataset(rows);
  ConnectionPool pool(config_for(url));
  const long long minutes = rows / 100;
  PgReadModel model(pool, {0, "UTC"});
  std::mt19937 rng(7);
  auto serial = [&] {
    char s[16];
    std::snprintf(s, sizeof s, "1161%08d", static_cast<int>(rng() % 25));
    return std::string(s);
  };
  const Timestamp mid =
      smiles::Timestamp{} + std::chrono::days{20089} + std::chrono::minutes{minutes / 2};
  const auto port_h = measure(400, [&](int) {
    model.port_history(serial(), static_cast<int>(rng() % 4) + 1, {100, {}, {}});
  });
  const auto port_h_until = measure(400, [&](int) {
    model.port_history(serial(), static_cast<int>(rng() % 4) + 1, {100, {}, mid});
  });
  const auto inv_h = measure(400, [&](int) { model.inverter_history(serial(), {100, {}, {}}); });
  const auto latest_one = measure(400, [&](int) { model.inverters(serial()); });
  const auto latest_all = measure(100, [&](int) { model.inverters(std::nullopt); });
  const auto stats = measure(50, [&](int) { model.stats(); });
  std::printf("Read-model latency at %lld port_data rows (median / p99, through the pool)\n",
              minutes * 100);
  auto line = [](const char* what, Latency l, bool target) {
    std::printf("  %-38s %7.2f ms / %7.2f ms%s\n", what, l.median_ms, l.p99_ms,
                target ? (l.median_ms < 5 ? "   (target median < 5 ms: met)"
                                          : "   (target median < 5 ms: MISSED)")
                       : "");
  };
  line("port history, limit 100", port_h, true);
  line("port history, limit 100, until mid", port_h_until, true);
  line("inverter history, limit 100", inv_h, true);
  line("latest of one inverter and its ports", latest_one, true);
  line("latest of all 25 inverters, 100 ports", latest_all, true);
  line("stats (estimated counts, size, span)", stats, false);
}

}  // namespace

int main(int argc, char** argv) {
  long long rows = 10'000'000;
  bool load_only = false;
  int history_years = 0;
  int every = 10;
  int polls = 3000;
  int batch = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::atoll(argv[i + 1]);
    if (flag == "--polls") polls = std::atoi(argv[i + 1]);
    if (flag == "--batch") batch = std::atoi(argv[i + 1]);
    if (flag == "--load-only") load_only = std::string(argv[i + 1]) == "yes";
    if (flag == "--history-years") history_years = std::atoi(argv[i + 1]);
    if (flag == "--every") every = std::max(1, std::atoi(argv[i + 1]));
  }
  if (history_years > 0) {  // for bench/history_bench: the dataset only
    std::printf("%s\n", load_history_dataset(history_years, every).c_str());
    return 0;
  }
  if (load_only) {  // for bench/serve_bench: the dataset only
    std::printf("%s\n", load_read_dataset(rows).c_str());
    return 0;
  }
  writer_throughput(polls, batch);
  read_latency(rows);
  return 0;
}
