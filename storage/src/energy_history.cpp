#include "energy_history.h"

#include <map>
#include <pqxx/pqxx>

#include "pg_arrays.h"
#include "pg_copy.h"
#include "production_rebuild.h"
#include "smiles/core/time.h"

namespace smiles::storage {

namespace {

const std::string kBucketSeconds = std::to_string(kPowerBucketSeconds);

// Power per inverter and bucket from port_data, as the writer counts it: a reading
// counts when its inverter is linked (or unknown) and a port has a total; the power
// of the ports with a total is summed. `from` joins the rows to look at.
std::string power_from_port_data(const std::string& from, const std::string& bucket_of) {
  return "SELECT " + bucket_of +
         " AS bucket, p.serial_number, coalesce(sum(p.pv_power), 0), count(DISTINCT "
         "p.\"timestamp\")::int FROM " +
         from +
         " LEFT JOIN inverter_data i ON i.serial_number = p.serial_number AND i.\"timestamp\" = "
         "p.\"timestamp\" WHERE coalesce(i.link_status, 1) <> 0 AND "
         "coalesce(p.total_production, 0) <> 0 GROUP BY 1, 2";
}

const std::string kBucketOfReading = "to_timestamp(floor(extract(epoch FROM p.\"timestamp\") / " +
                                     kBucketSeconds + ") * " + kBucketSeconds + ")";

// $1 buckets, $2 serials, $3 sums, $4 samples: readings stored just now.
constexpr const char* kAddPower = R"sql(
INSERT INTO power_5min AS w (bucket, serial_number, sum_w, samples)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::float8[], $4::int[])
ON CONFLICT (bucket, serial_number) DO UPDATE SET
    sum_w = w.sum_w + EXCLUDED.sum_w,
    samples = w.samples + EXCLUDED.samples
)sql";

// The staged port rows of a replay into port_data, and the power of the ones that
// were not stored before added to their buckets (a reading's rows are stored whole or
// not at all, so each reading counts once).
const std::string kMergePortsAddingPower =
    "WITH p AS (INSERT INTO port_data SELECT * FROM staging_port ON CONFLICT DO NOTHING "
    "RETURNING *) INSERT INTO power_5min AS w (bucket, serial_number, sum_w, samples) " +
    power_from_port_data("p", kBucketOfReading) +
    " ON CONFLICT (bucket, serial_number) DO UPDATE SET sum_w = w.sum_w + EXCLUDED.sum_w, "
    "samples = w.samples + EXCLUDED.samples";

// $1 days, $2 serials, $3 Wh (one row per day and inverter): added to the day and
// to its month.
constexpr const char* kAddClosedDays = R"sql(
WITH k AS (SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[]) AS k(day, serial_number, wh)),
days AS (
  INSERT INTO energy_days AS d (production_day, serial_number, wh)
  SELECT day, serial_number, wh FROM k
  ON CONFLICT (production_day, serial_number) DO UPDATE SET wh = d.wh + EXCLUDED.wh
)
INSERT INTO energy_months AS m (month, serial_number, wh)
SELECT date_trunc('month', day)::date, serial_number, sum(wh) FROM k GROUP BY 1, 2
ON CONFLICT (month, serial_number) DO UPDATE SET wh = m.wh + EXCLUDED.wh
)sql";

struct Power {
  double sum_w = 0;
  int samples = 0;
};

// The readings' power per (bucket, inverter).
std::map<std::pair<Timestamp, std::string>, Power> power_of(std::span<const DtuReading> readings) {
  std::map<std::pair<Timestamp, std::string>, Power> out;
  for (const auto& r : readings) {
    const auto bucket = power_bucket(r.timestamp);
    for (const auto& i : r.inverters) {
      double sum = 0;
      bool counted = false;
      for (const auto& p : i.ports) {
        if (!is_good_energy_reading(i.link_status, p.total_production_wh)) continue;
        sum += p.pv_power_w;
        counted = true;
      }
      if (!counted) continue;
      Power& w = out[{bucket, i.serial_number}];
      w.sum_w += sum;
      ++w.samples;
    }
  }
  return out;
}

}  // namespace

Timestamp power_bucket(Timestamp at) {
  const auto s = std::chrono::floor<std::chrono::seconds>(at).time_since_epoch().count();
  const auto start = s - ((s % kPowerBucketSeconds) + kPowerBucketSeconds) % kPowerBucketSeconds;
  return Timestamp{std::chrono::seconds{start}};
}

ClosedDay closed_day(const std::string& serial, const PortEnergy& e) {
  return {serial, e.day, e.total - std::min(e.total, e.baseline)};
}

void prepare_energy_history(pqxx::connection& c) { c.prepare("smiles_add_power", kAddPower); }

void write_closed_days(pqxx::transaction_base& tx, const std::vector<ClosedDay>& days) {
  std::map<std::pair<std::string, std::string>, std::uint64_t> sums;  // (day, serial) -> Wh
  for (const auto& d : days) sums[{d.day, d.serial_number}] += d.wh;
  if (sums.empty()) return;
  std::vector<std::string> day, serial, wh;
  for (const auto& [key, sum] : sums) {
    day.push_back(key.first);
    serial.push_back(key.second);
    wh.push_back(std::to_string(sum));
  }
  tx.exec_params(kAddClosedDays, text_array(day), text_array(serial), text_array(wh));
}

void add_power(pqxx::transaction_base& tx, std::span<const DtuReading> readings) {
  const auto power = power_of(readings);
  if (power.empty()) return;
  std::vector<std::string> bucket, serial, sum, samples;
  for (const auto& [key, w] : power) {
    bucket.push_back(format_iso8601_utc(key.first));
    serial.push_back(key.second);
    std::string text;
    copy_double(text, w.sum_w);
    sum.push_back(std::move(text));
    samples.push_back(std::to_string(w.samples));
  }
  tx.exec_prepared("smiles_add_power", text_array(bucket), text_array(serial), text_array(sum),
                   text_array(samples));
}

void merge_staged_ports(pqxx::transaction_base& tx) { tx.exec(kMergePortsAddingPower); }

std::int64_t rebuild_energy_history(pqxx::transaction_base& tx, const ProductionRules& rules) {
  tx.exec("DELETE FROM energy_days");
  tx.exec("DELETE FROM energy_months");
  // The day each port is in now is production_cache's: not closed yet.
  std::map<PortKey, std::string> open;
  for (const auto& row : tx.exec("SELECT serial_number, port_number, production_day::text FROM "
                                 "production_cache WHERE production_day IS NOT NULL")) {
    open[{row[0].as<std::string>(), row[1].as<int>()}] = row[2].as<std::string>();
  }
  std::int64_t counted = 0;
  std::vector<ClosedDay> days;
  fold_stored_readings(tx, rules, [&](const PortKey& key, const PortEnergy& e) {
    const auto it = open.find(key);
    if (it != open.end() && e.day >= it->second) return;
    days.push_back(closed_day(key.first, e));
    ++counted;
    if (days.size() >= 20000) {
      write_closed_days(tx, days);
      days.clear();
    }
  });
  write_closed_days(tx, days);
  tx.exec("DELETE FROM power_5min");
  tx.exec("INSERT INTO power_5min (bucket, serial_number, sum_w, samples) " +
          power_from_port_data("port_data p", kBucketOfReading));
  return counted;
}

}  // namespace smiles::storage
