#include "energy_history.h"

#include <map>
#include <pqxx/pqxx>
#include <tuple>

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

// $1 buckets, $2 serials, $3 ports (every port of the inverter, so the primary key
// finds the rows): counted again from port_data.
const std::string kRecountPower =
    "INSERT INTO power_5min AS w (bucket, serial_number, sum_w, samples) " +
    power_from_port_data(
        "unnest($1::timestamptz[], $2::text[], $3::smallint[]) AS k(bucket, serial_number, "
        "port_number) JOIN port_data p ON p.serial_number = k.serial_number AND p.port_number = "
        "k.port_number AND p.\"timestamp\" >= k.bucket AND p.\"timestamp\" < k.bucket + "
        "make_interval(secs => " +
            kBucketSeconds + ")",
        "k.bucket") +
    " ON CONFLICT (bucket, serial_number) DO UPDATE SET sum_w = EXCLUDED.sum_w, samples = "
    "EXCLUDED.samples";

constexpr const char* kWriteClosedDays = R"sql(
INSERT INTO energy_days AS d (production_day, serial_number, port_number, start_wh, end_wh,
                              last_reading)
SELECT * FROM unnest($1::date[], $2::text[], $3::smallint[], $4::bigint[], $5::bigint[],
                     $6::timestamptz[])
ON CONFLICT (production_day, serial_number, port_number) DO UPDATE SET
    start_wh = EXCLUDED.start_wh,
    end_wh = EXCLUDED.end_wh,
    last_reading = EXCLUDED.last_reading
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
      if (i.link_status == 0) continue;
      double sum = 0;
      bool counted = false;
      for (const auto& p : i.ports) {
        if (p.total_production_wh == 0) continue;
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

ClosedDay closed_day(const std::string& serial, int port, const PortEnergy& e) {
  return {serial, port, e.day, e.baseline, e.total, e.last_updated};
}

void prepare_energy_history(pqxx::connection& c) { c.prepare("smiles_add_power", kAddPower); }

void write_closed_days(pqxx::transaction_base& tx, const std::vector<ClosedDay>& days) {
  if (days.empty()) return;
  std::vector<std::string> day, serial, port, start, end, last;
  for (const auto& d : days) {
    day.push_back(d.day);
    serial.push_back(d.serial_number);
    port.push_back(std::to_string(d.port_number));
    start.push_back(std::to_string(d.start_wh));
    end.push_back(std::to_string(d.end_wh));
    last.push_back(format_iso8601_utc(d.last_reading));
  }
  tx.exec_params(kWriteClosedDays, text_array(day), text_array(serial), text_array(port),
                 text_array(start), text_array(end), text_array(last));
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

void recount_power(pqxx::transaction_base& tx, std::span<const DtuReading> readings) {
  std::map<std::tuple<Timestamp, std::string, int>, bool> keys;
  for (const auto& r : readings) {
    for (const auto& i : r.inverters) {
      for (const auto& p : i.ports)
        keys[{power_bucket(r.timestamp), i.serial_number, p.port_number}] = true;
    }
  }
  if (keys.empty()) return;
  std::vector<std::string> bucket, serial, port;
  for (const auto& [key, unused] : keys) {
    bucket.push_back(format_iso8601_utc(std::get<0>(key)));
    serial.push_back(std::get<1>(key));
    port.push_back(std::to_string(std::get<2>(key)));
  }
  tx.exec_params(kRecountPower, text_array(bucket), text_array(serial), text_array(port));
}

std::int64_t rebuild_energy_history(pqxx::transaction_base& tx, const ProductionRules& rules) {
  tx.exec("DELETE FROM energy_days");
  std::int64_t written = 0;
  std::vector<ClosedDay> days;
  const auto flush = [&] {
    write_closed_days(tx, days);
    written += static_cast<std::int64_t>(days.size());
    days.clear();
  };
  fold_stored_readings(tx, rules, [&](const PortKey& key, const PortEnergy& e) {
    days.push_back(closed_day(key.first, key.second, e));
    if (days.size() >= 10000) flush();
  });
  flush();
  // The day a port is in now is production_cache's (and what it has for that day).
  written -= static_cast<std::int64_t>(
      tx.exec("DELETE FROM energy_days e USING production_cache c WHERE e.serial_number = "
              "c.serial_number AND e.port_number = c.port_number AND e.production_day >= "
              "c.production_day")
          .affected_rows());
  tx.exec("DELETE FROM power_5min");
  tx.exec("INSERT INTO power_5min (bucket, serial_number, sum_w, samples) " +
          power_from_port_data("port_data p", kBucketOfReading));
  return written;
}

}  // namespace smiles::storage
