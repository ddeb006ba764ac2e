#include "smiles/storage/reading_writer.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <pqxx/pqxx>
#include <tuple>

#include "smiles/core/time.h"
#include "smiles/storage/errors.h"

namespace smiles::storage {

namespace {

// Staging tables live for the session; rows vanish at commit.
constexpr const char* kCreateStaging = R"sql(
CREATE TEMP TABLE IF NOT EXISTS staging_inverter (
    serial_number text, "timestamp" timestamptz, dtu_name text, inverter_type text,
    port_count integer, grid_voltage double precision, grid_frequency double precision,
    temperature double precision, operating_status integer, alarm_code integer,
    alarm_count integer, link_status smallint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_port (
    serial_number text, port_number smallint, "timestamp" timestamptz,
    pv_voltage double precision, pv_current double precision, pv_power double precision,
    today_production integer, total_production bigint, link_status smallint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_dtu (
    dtu_name text, serial_number text, transport text, address text, "timestamp" timestamptz
) ON COMMIT DELETE ROWS;
)sql";

constexpr const char* kMerge = R"sql(
INSERT INTO inverter_data (serial_number, "timestamp", grid_voltage, grid_frequency,
                           temperature, operating_status, alarm_code, alarm_count, link_status)
SELECT serial_number, "timestamp", grid_voltage, grid_frequency, temperature,
       operating_status, alarm_code, alarm_count, link_status
FROM staging_inverter
ON CONFLICT DO NOTHING;

INSERT INTO port_data (serial_number, port_number, "timestamp", pv_voltage, pv_current,
                       pv_power, today_production, total_production)
SELECT serial_number, port_number, "timestamp", pv_voltage, pv_current, pv_power,
       today_production, total_production
FROM staging_port
ON CONFLICT DO NOTHING;

INSERT INTO inverters AS i (serial_number, dtu_name, inverter_type, port_count, first_seen, last_seen)
SELECT DISTINCT ON (serial_number) serial_number, dtu_name, inverter_type, port_count,
       min("timestamp") OVER (PARTITION BY serial_number),
       max("timestamp") OVER (PARTITION BY serial_number)
FROM staging_inverter
ORDER BY serial_number, "timestamp" DESC
ON CONFLICT (serial_number) DO UPDATE SET
    dtu_name      = CASE WHEN EXCLUDED.last_seen >= i.last_seen THEN EXCLUDED.dtu_name ELSE i.dtu_name END,
    inverter_type = EXCLUDED.inverter_type,
    port_count    = GREATEST(i.port_count, EXCLUDED.port_count),
    first_seen    = LEAST(i.first_seen, EXCLUDED.first_seen),
    last_seen     = GREATEST(i.last_seen, EXCLUDED.last_seen);

INSERT INTO dtus AS d (dtu_name, serial_number, transport, address, last_seen)
SELECT DISTINCT ON (dtu_name) dtu_name, serial_number, transport, address, "timestamp"
FROM staging_dtu
ORDER BY dtu_name, "timestamp" DESC
ON CONFLICT (dtu_name) DO UPDATE SET
    serial_number = CASE WHEN EXCLUDED.last_seen >= d.last_seen OR d.last_seen IS NULL
                         THEN EXCLUDED.serial_number ELSE d.serial_number END,
    transport     = COALESCE(EXCLUDED.transport, d.transport),
    address       = COALESCE(EXCLUDED.address, d.address),
    last_seen     = GREATEST(d.last_seen, EXCLUDED.last_seen);
)sql";

// $1 = time zone, $2 = reset hour. Good readings only: linked and a non-zero total.
constexpr const char* kProductionCache = R"sql(
WITH good AS (
    SELECT serial_number, port_number, "timestamp", today_production, total_production,
           (("timestamp" AT TIME ZONE $1) - make_interval(hours => $2))::date AS day
    FROM staging_port
    WHERE link_status <> 0 AND total_production > 0
), per_port AS (
    SELECT serial_number, port_number, max(day) AS day, max(total_production) AS total,
           max("timestamp") AS last_updated
    FROM good GROUP BY serial_number, port_number
), today AS (
    SELECT g.serial_number, g.port_number, max(g.today_production) AS today
    FROM good g JOIN per_port p USING (serial_number, port_number)
    WHERE g.day = p.day GROUP BY g.serial_number, g.port_number
)
INSERT INTO production_cache AS c (serial_number, port_number, today_production,
                                   total_production, production_day, last_updated)
SELECT p.serial_number, p.port_number, t.today, p.total, p.day, p.last_updated
FROM per_port p JOIN today t USING (serial_number, port_number)
ON CONFLICT (serial_number, port_number) DO UPDATE SET
    total_production = GREATEST(c.total_production, EXCLUDED.total_production),
    today_production = CASE
        WHEN c.production_day IS NULL OR EXCLUDED.production_day > c.production_day
            THEN EXCLUDED.today_production
        WHEN EXCLUDED.production_day = c.production_day
            THEN GREATEST(c.today_production, EXCLUDED.today_production)
        ELSE c.today_production END,
    production_day = GREATEST(c.production_day, EXCLUDED.production_day),
    last_updated = GREATEST(c.last_updated, EXCLUDED.last_updated);
)sql";

std::string transport_of(const std::string& address) {
  const auto scheme = address.find("://");
  return scheme == std::string::npos ? std::string{} : address.substr(0, scheme);
}

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

void stage(pqxx::work& tx, std::span<const DtuReading> readings, WriterStats& counts) {
  {
    pqxx::stream_to dtus(
        tx, "staging_dtu",
        std::vector<std::string>{"dtu_name", "serial_number", "transport", "address", "timestamp"});
    for (const auto& r : readings) {
      dtus << std::make_tuple(r.dtu_name, opt(r.dtu_serial), opt(transport_of(r.dtu_address)),
                              opt(r.dtu_address), format_iso8601_utc(r.timestamp));
    }
    dtus.complete();
  }
  {
    pqxx::stream_to inv(
        tx, "staging_inverter",
        std::vector<std::string>{"serial_number", "timestamp", "dtu_name", "inverter_type",
                                 "port_count", "grid_voltage", "grid_frequency", "temperature",
                                 "operating_status", "alarm_code", "alarm_count", "link_status"});
    for (const auto& r : readings) {
      const std::string ts = format_iso8601_utc(r.timestamp);
      for (const auto& i : r.inverters) {
        inv << std::make_tuple(i.serial_number, ts, r.dtu_name, i.inverter_type,
                               static_cast<int>(i.ports.size()), i.grid_voltage_v,
                               i.grid_frequency_hz, i.temperature_c, int{i.operating_status},
                               int{i.alarm_code}, int{i.alarm_count}, int{i.link_status});
      }
    }
    inv.complete();
  }
  {
    pqxx::stream_to ports(
        tx, "staging_port",
        std::vector<std::string>{"serial_number", "port_number", "timestamp", "pv_voltage",
                                 "pv_current", "pv_power", "today_production", "total_production",
                                 "link_status"});
    for (const auto& r : readings) {
      const std::string ts = format_iso8601_utc(r.timestamp);
      for (const auto& i : r.inverters) {
        for (const auto& p : i.ports) {
          ports << std::make_tuple(
              p.serial_number, p.port_number, ts, p.pv_voltage_v, p.pv_current_a, p.pv_power_w,
              static_cast<long long>(p.today_production_wh),
              static_cast<long long>(p.total_production_wh), int{i.link_status});
          ++counts.port_rows;
        }
      }
    }
    ports.complete();
  }
}

}  // namespace

ReadingWriter::ReadingWriter(ConnectionPool& pool, ProductionRules rules)
    : pool_(pool), rules_(std::move(rules)) {
  if (rules_.reset_hour < 0 || rules_.reset_hour > 23)
    throw ConfigError("RESET_HOUR must be 0..23");
}

void ReadingWriter::write(std::span<const DtuReading> readings) {
  if (readings.empty()) return;
  WriterStats counts;
  try {
    pool_.run([&](pqxx::connection& c) {
      counts = {};
      pqxx::work tx(c);
      tx.exec(kCreateStaging);
      stage(tx, readings, counts);
      tx.exec(kMerge);
      tx.exec_params(kProductionCache, rules_.timezone, rules_.reset_hour);
      tx.commit();
    });
  } catch (const pqxx::sql_error& e) {
    std::lock_guard lock(mutex_);
    ++stats_.failures;
    throw StorageError(std::string("storing readings failed: ") + e.what());
  } catch (const Error&) {
    std::lock_guard lock(mutex_);
    ++stats_.failures;
    throw;
  }
  std::lock_guard lock(mutex_);
  ++stats_.batches;
  stats_.readings += readings.size();
  stats_.port_rows += counts.port_rows;
}

WriterStats ReadingWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void validate_production_rules(ConnectionPool& pool, const ProductionRules& rules) {
  if (rules.reset_hour < 0 || rules.reset_hour > 23) throw ConfigError("RESET_HOUR must be 0..23");
  bool known = false;
  pool.run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    known = tx.exec_params1("SELECT count(*) > 0 FROM pg_timezone_names WHERE name = $1",
                            rules.timezone)[0]
                .as<bool>();
  });
  if (!known) {
    throw ConfigError("TIMEZONE '" + rules.timezone +
                      "' is not a time zone PostgreSQL knows (use an IANA name such as "
                      "Europe/Berlin or UTC)");
  }
}

}  // namespace smiles::storage
