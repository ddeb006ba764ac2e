#include "smiles/storage/reading_writer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <tuple>

#include "cache_rows.h"
#include "energy_history.h"
#include "pg_arrays.h"
#include "pg_copy.h"
#include "smiles/core/energy.h"
#include "smiles/core/time.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

namespace {

// Used only when a batch overlaps stored rows (a replay). The fast path touches no
// temporary table, so commits do not pay for truncating them.
constexpr const char* kCreateStaging = R"sql(
CREATE TEMP TABLE IF NOT EXISTS staging_inverter (LIKE inverter_data) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_port (LIKE port_data) ON COMMIT DELETE ROWS;
)sql";

constexpr const char* kMergeStagedInverters =
    "INSERT INTO inverter_data SELECT * FROM staging_inverter ON CONFLICT DO NOTHING";
constexpr const char* kMergeStagedPorts =
    "INSERT INTO port_data SELECT * FROM staging_port ON CONFLICT DO NOTHING";

// One row per inverter of the batch, as arrays: $1 serials, $2 DTU names, $3 types,
// $4 port counts, $5 first seen, $6 last seen.
constexpr const char* kUpsertInverters = R"sql(
INSERT INTO inverters AS i (serial_number, dtu_name, inverter_type, port_count, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[],
                     $6::timestamptz[])
ON CONFLICT (serial_number) DO UPDATE SET
    dtu_name      = CASE WHEN EXCLUDED.last_seen >= i.last_seen THEN EXCLUDED.dtu_name ELSE i.dtu_name END,
    inverter_type = EXCLUDED.inverter_type,
    port_count    = GREATEST(i.port_count, EXCLUDED.port_count),
    first_seen    = LEAST(i.first_seen, EXCLUDED.first_seen),
    last_seen     = GREATEST(i.last_seen, EXCLUDED.last_seen);
)sql";

// One row per DTU of the batch (its latest reading): $1 names, $2 serials,
// $3 transports, $4 addresses, $5 last seen.
constexpr const char* kUpsertDtus = R"sql(
INSERT INTO dtus AS d (dtu_name, serial_number, transport, address, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
ON CONFLICT (dtu_name) DO UPDATE SET
    serial_number = CASE WHEN EXCLUDED.last_seen >= d.last_seen OR d.last_seen IS NULL
                         THEN EXCLUDED.serial_number ELSE d.serial_number END,
    transport     = COALESCE(EXCLUDED.transport, d.transport),
    address       = COALESCE(EXCLUDED.address, d.address),
    last_seen     = GREATEST(d.last_seen, EXCLUDED.last_seen);
)sql";

// Production day of each timestamp: the local date (time zone $1) of the moment
// $2 hours earlier, so that a day starts at RESET_HOUR. $3: timestamps, in order.
const std::string kProductionDays = "SELECT " + production_day_sql("t", "$1", "$2") +
                                    "::text FROM unnest($3::timestamptz[]) WITH ORDINALITY "
                                    "AS u(t, n) ORDER BY n";

// The energy state of the batch's ports ($1 serials, $2 ports), locked until commit.
constexpr const char* kCacheState = R"sql(
SELECT c.serial_number, c.port_number, c.today_production, c.total_production,
       c.production_day::text, (extract(epoch FROM c.last_updated) * 1000000)::bigint,
       coalesce(c.raw_total, c.total_production), c.offset_wh, c.held,
       (extract(epoch FROM coalesce(c.latest, c.last_updated)) * 1000000)::bigint,
       c.suspect_first, c.suspect_last, c.suspect_count, c.suspect_low
FROM production_cache c
JOIN unnest($1::text[], $2::smallint[]) AS k(serial_number, port_number)
  ON c.serial_number = k.serial_number AND c.port_number = k.port_number
FOR UPDATE OF c
)sql";

// The folded states back ($1..$14 arrays: serial, port, today, total, production day,
// last updated, raw total, offset, held, latest, suspect first, last, count, low).
constexpr const char* kProductionCache = R"sql(
INSERT INTO production_cache AS c (serial_number, port_number, today_production,
                                   total_production, production_day, last_updated, raw_total,
                                   offset_wh, held, latest, suspect_first, suspect_last,
                                   suspect_count, suspect_low)
SELECT * FROM unnest($1::text[], $2::smallint[], $3::int[], $4::bigint[], $5::date[],
                     $6::timestamptz[], $7::bigint[], $8::bigint[], $9::boolean[],
                     $10::timestamptz[], $11::bigint[], $12::bigint[], $13::int[],
                     $14::boolean[])
ON CONFLICT (serial_number, port_number) DO UPDATE SET
    today_production = EXCLUDED.today_production,
    total_production = EXCLUDED.total_production,
    production_day = EXCLUDED.production_day,
    last_updated = EXCLUDED.last_updated,
    raw_total = EXCLUDED.raw_total,
    offset_wh = EXCLUDED.offset_wh,
    held = EXCLUDED.held,
    latest = EXCLUDED.latest,
    suspect_first = EXCLUDED.suspect_first,
    suspect_last = EXCLUDED.suspect_last,
    suspect_count = EXCLUDED.suspect_count,
    suspect_low = EXCLUDED.suspect_low;
)sql";

const std::vector<std::string> kInverterColumns =
    schema::copy_columns(schema::kInverterKeyColumns, schema::kInverterValueColumns);
const std::vector<std::string> kPortColumns =
    schema::copy_columns(schema::kPortKeyColumns, schema::kPortValueColumns);

std::string transport_of(const std::string& address) {
  const auto scheme = address.find("://");
  return scheme == std::string::npos ? std::string{} : address.substr(0, scheme);
}

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// The batch's data rows into `inverter_table` / `port_table`, as COPY text.
void copy_rows(pqxx::transaction_base& tx, std::span<const DtuReading> readings,
               const std::vector<std::string>& times, const std::string& inverter_table,
               const std::string& port_table) {
  std::string inverters, ports;
  const auto next_row = [](std::string& text) {
    if (!text.empty()) text += '\n';
  };
  const auto tab = [](std::string& text) { text += '\t'; };
  for (std::size_t k = 0; k < readings.size(); ++k) {
    for (const auto& i : readings[k].inverters) {
      next_row(inverters);
      copy_field(inverters, i.serial_number);
      tab(inverters);
      copy_field(inverters, times[k]);
      for (const double v : {i.grid_voltage_v, i.grid_frequency_hz, i.temperature_c}) {
        tab(inverters);
        copy_double(inverters, v);
      }
      for (const int v :
           {int{i.operating_status}, int{i.alarm_code}, int{i.alarm_count}, int{i.link_status}}) {
        tab(inverters);
        copy_integer(inverters, v);
      }
      for (const auto& p : i.ports) {
        next_row(ports);
        copy_field(ports, p.serial_number);
        tab(ports);
        copy_integer(ports, p.port_number);
        tab(ports);
        copy_field(ports, times[k]);
        for (const double v : {p.pv_voltage_v, p.pv_current_a, p.pv_power_w}) {
          tab(ports);
          copy_double(ports, v);
        }
        tab(ports);
        copy_integer(ports, static_cast<long long>(p.today_production_wh));
        tab(ports);
        copy_integer(ports, static_cast<long long>(p.total_production_wh));
      }
    }
  }
  copy_text(tx, inverter_table, kInverterColumns, inverters);
  copy_text(tx, port_table, kPortColumns, ports);
}

// One row per inverter and per DTU of the batch, upserted from arrays.
void upsert_meta(pqxx::transaction_base& tx, std::span<const DtuReading> readings,
                 const std::vector<std::string>& times) {
  struct Meta {
    std::string dtu_name, type;
    int ports = 0;
    std::size_t first = 0, last = 0;  // indexes into readings
  };
  std::map<std::string, Meta> inverters;
  std::map<std::string, std::size_t> dtus;  // name -> latest reading
  for (std::size_t k = 0; k < readings.size(); ++k) {
    const auto& r = readings[k];
    auto [d, new_dtu] = dtus.try_emplace(r.dtu_name, k);
    if (!new_dtu && r.timestamp >= readings[d->second].timestamp) d->second = k;
    for (const auto& i : r.inverters) {
      auto [it, fresh] = inverters.try_emplace(i.serial_number);
      Meta& m = it->second;
      if (fresh || r.timestamp >= readings[m.last].timestamp) {
        m.dtu_name = r.dtu_name;
        m.type = i.inverter_type;
        m.last = k;
      }
      if (fresh || r.timestamp < readings[m.first].timestamp) m.first = k;
      m.ports = std::max(m.ports, static_cast<int>(i.ports.size()));
    }
  }
  std::vector<std::string> serial, dtu, type, ports, first, last;
  for (const auto& [s, m] : inverters) {
    serial.push_back(s);
    dtu.push_back(m.dtu_name);
    type.push_back(m.type);
    ports.push_back(std::to_string(m.ports));
    first.push_back(times[m.first]);
    last.push_back(times[m.last]);
  }
  tx.exec_prepared("smiles_upsert_inverters", text_array(serial), text_array(dtu), text_array(type),
                   text_array(ports), text_array(first), text_array(last));
  std::vector<std::optional<std::string>> name, dserial, transport, address, seen;
  for (const auto& [n, k] : dtus) {
    const auto& r = readings[k];
    name.emplace_back(n);
    dserial.push_back(opt(r.dtu_serial));
    transport.push_back(opt(transport_of(r.dtu_address)));
    address.push_back(opt(r.dtu_address));
    seen.emplace_back(times[k]);
  }
  tx.exec_prepared("smiles_upsert_dtus", text_array(name), text_array(dserial),
                   text_array(transport), text_array(address), text_array(seen));
}

Timestamp from_us(std::int64_t us) {
  return Timestamp{std::chrono::duration_cast<Timestamp::duration>(std::chrono::microseconds{us})};
}

// The production cache follows the served-energy model (core/energy.h): the stored
// state of each port of the batch, locked, folded with the batch's readings in time
// order, written back. A production day a port leaves goes to energy_days.
void update_production_cache(pqxx::transaction_base& tx, std::span<const DtuReading> readings,
                             const std::vector<std::string>& times, const ProductionRules& rules,
                             bool energy_history) {
  std::vector<std::string> days;
  for (const auto& row : tx.exec_prepared("smiles_production_days", rules.timezone,
                                          rules.reset_hour, text_array(times))) {
    days.push_back(row[0].as<std::string>());
  }
  std::map<std::pair<std::string, int>, PortEnergy> states;
  std::vector<std::string> key_serial, key_port;
  for (const auto& r : readings) {
    for (const auto& i : r.inverters) {
      for (const auto& p : i.ports) {
        if (states.try_emplace({p.serial_number, p.port_number}).second) {
          key_serial.push_back(p.serial_number);
          key_port.push_back(std::to_string(p.port_number));
        }
      }
    }
  }
  for (const auto& row :
       tx.exec_prepared("smiles_cache_state", text_array(key_serial), text_array(key_port))) {
    PortEnergy& e = states[{row[0].as<std::string>(), row[1].as<int>()}];
    e.total = static_cast<std::uint64_t>(row[3].as<std::int64_t>());
    e.baseline = e.total - std::min<std::uint64_t>(e.total, row[2].as<std::int64_t>());
    e.day = row[4].is_null() ? std::string() : row[4].as<std::string>();
    e.last_updated = from_us(row[5].as<std::int64_t>());
    e.raw_total = static_cast<std::uint64_t>(row[6].as<std::int64_t>());
    e.offset = row[7].as<std::int64_t>();
    e.held = row[8].as<bool>();
    e.latest = from_us(row[9].as<std::int64_t>());
    e.suspect_first = static_cast<std::uint64_t>(row[10].as<std::int64_t>());
    e.suspect_last = static_cast<std::uint64_t>(row[11].as<std::int64_t>());
    e.suspect_count = static_cast<std::uint32_t>(row[12].as<int>());
    e.suspect_low = row[13].as<bool>();
  }
  std::vector<std::size_t> order(readings.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return readings[a].timestamp < readings[b].timestamp;
  });
  std::map<std::pair<std::string, int>, bool> changed;
  std::vector<ClosedDay> closed;
  for (const std::size_t k : order) {
    for (const auto& i : readings[k].inverters) {
      for (const auto& p : i.ports) {
        const auto key = std::make_pair(p.serial_number, p.port_number);
        PortEnergy& e = states[key];
        if (closes_day(e, readings[k].timestamp, days[k]))
          closed.push_back(closed_day(key.first, e));
        const auto step = fold_energy(
            e, {readings[k].timestamp, i.link_status, p.total_production_wh, p.today_production_wh},
            days[k]);
        if (step != EnergyStep::kStale) changed[key] = true;
      }
    }
  }
  if (energy_history) write_closed_days(tx, closed);
  CacheRows rows;
  for (const auto& [key, e] : states) {
    if (changed.contains(key) && e.known()) rows.add(key.first, key.second, e);
  }
  if (rows.empty()) return;
  tx.exec_prepared("smiles_production_cache", text_array(rows.serial), text_array(rows.port),
                   text_array(rows.today), text_array(rows.total), text_array(rows.day),
                   text_array(rows.updated), text_array(rows.raw), text_array(rows.offset),
                   text_array(rows.held), text_array(rows.latest), text_array(rows.suspect_first),
                   text_array(rows.suspect_last), text_array(rows.suspect_count),
                   text_array(rows.suspect_low));
}

}  // namespace

ReadingWriter::ReadingWriter(ConnectionPool& pool, ProductionRules rules, bool energy_history)
    : pool_(pool), rules_(std::move(rules)), energy_history_(energy_history) {
  if (rules_.reset_hour < 0 || rules_.reset_hour > 23)
    throw ConfigError("RESET_HOUR must be 0..23");
}

void ReadingWriter::write(std::span<const DtuReading> readings) {
  if (readings.empty()) return;
  std::vector<std::string> times;
  times.reserve(readings.size());
  for (const auto& r : readings) times.push_back(format_iso8601_utc(r.timestamp));
  try {
    pool_.run([&](pqxx::connection& c) {
      // Planned once per connection (libpqxx prepares lazily and ignores repeats).
      c.prepare("smiles_upsert_inverters", kUpsertInverters);
      c.prepare("smiles_upsert_dtus", kUpsertDtus);
      c.prepare("smiles_production_days", kProductionDays);
      c.prepare("smiles_production_cache", kProductionCache);
      c.prepare("smiles_cache_state", kCacheState);
      prepare_energy_history(c);
      pqxx::work tx(c);
      // Fresh readings go straight in: as fast as plain COPY. A batch that overlaps
      // stored rows (a replay) fails on the key, rolls back to the savepoint and
      // goes through staging with ON CONFLICT DO NOTHING instead.
      bool replayed = false;
      try {
        pqxx::subtransaction fast(tx, "fast_copy");
        copy_rows(fast, readings, times, "inverter_data", "port_data");
        if (energy_history_) add_power(fast, readings);
        fast.commit();
      } catch (const pqxx::unique_violation&) {
        replayed = true;
      }
      if (replayed) {
        tx.exec(kCreateStaging);
        copy_rows(tx, readings, times, "staging_inverter", "staging_port");
        tx.exec(kMergeStagedInverters);
        if (energy_history_) {
          merge_staged_ports(tx);  // adding the new readings' power
        } else {
          tx.exec(kMergeStagedPorts);
        }
      }
      upsert_meta(tx, readings, times);
      update_production_cache(tx, readings, times, rules_, energy_history_);
      tx.commit();
    });
  } catch (const pqxx::sql_error& e) {
    throw StorageError(std::string("storing readings failed: ") + e.what());
  }
}

}  // namespace smiles::storage
