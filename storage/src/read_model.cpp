#include "smiles/storage/pg_read_model.h"

#include <algorithm>
#include <charconv>
#include <pqxx/pqxx>

#include "read_queries.h"
#include "smiles/core/time.h"
#include "smiles/storage/errors.h"
#include "smiles/storage/schema.h"

namespace smiles::storage {

namespace {

// Numeric fields parsed with from_chars: libpqxx 6.4 converts doubles through a
// stringstream, which dominated the cost of a 100-row history answer.
template <typename T>
T num(const pqxx::field& f, T fallback = T{}) {
  if (f.is_null()) return fallback;
  T v{};
  const char* text = f.c_str();
  const auto [ptr, ec] = std::from_chars(text, text + f.size(), v);
  if (ec != std::errc())
    throw StorageError("unexpected value '" + std::string(text) + "' from the database");
  return v;
}

Timestamp from_us(const pqxx::field& f) {
  return Timestamp{std::chrono::duration_cast<Timestamp::duration>(
      std::chrono::microseconds{num<std::int64_t>(f)})};
}

std::optional<std::string> param(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return format_iso8601_utc(*t);
}

void check(const HistoryQuery& q) {
  if (q.limit < 1 || q.limit > kMaxHistoryLimit) {
    throw ConfigError("limit must be 1.." + std::to_string(kMaxHistoryLimit));
  }
}

// Each read is one statement (or a few independent ones): no transaction block, so
// one round trip per query.
template <typename T>
T with_connection(ConnectionPool& pool, const std::function<T(pqxx::nontransaction&)>& query) {
  T out{};
  try {
    pool.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      out = query(tx);
    });
  } catch (const pqxx::sql_error& e) {
    throw StorageError(std::string("query failed: ") + e.what());
  }
  return out;
}

InverterReading inverter_values(const pqxx::row& row, int first) {
  InverterReading v;
  v.grid_voltage_v = num<double>(row[first]);
  v.grid_frequency_hz = num<double>(row[first + 1]);
  v.temperature_c = num<double>(row[first + 2]);
  v.operating_status = static_cast<std::uint16_t>(num<int>(row[first + 3]));
  v.alarm_code = static_cast<std::uint16_t>(num<int>(row[first + 4]));
  v.alarm_count = static_cast<std::uint16_t>(num<int>(row[first + 5]));
  v.link_status = static_cast<std::uint8_t>(num<int>(row[first + 6]));
  return v;
}

PortReading port_values(const pqxx::row& row, int first) {
  PortReading p;
  p.pv_voltage_v = num<double>(row[first]);
  p.pv_current_a = num<double>(row[first + 1]);
  p.pv_power_w = num<double>(row[first + 2]);
  p.today_production_wh = static_cast<std::uint32_t>(num<std::int64_t>(row[first + 3]));
  p.total_production_wh = static_cast<std::uint64_t>(num<std::int64_t>(row[first + 4]));
  return p;
}

}  // namespace

PgReadModel::PgReadModel(ConnectionPool& pool, ProductionRules rules)
    : pool_(pool), rules_(std::move(rules)) {}

std::vector<StoredInverter> PgReadModel::inverters(const std::optional<std::string>& serial) {
  using Result = std::vector<StoredInverter>;
  return with_connection<Result>(pool_, [&](pqxx::nontransaction& tx) {
    // Latest row per inverter / port: one backward primary-key probe each (LATERAL).
    const auto rows = tx.exec_params(queries::latest_inverters(), serial);
    const auto ports = tx.exec_params(queries::latest_ports(), serial);
    Result out;
    for (const auto& row : rows) {
      StoredInverter inv;
      inv.dtu_name = row[1].as<std::string>();
      inv.first_seen = from_us(row[3]);
      inv.last_seen = from_us(row[4]);
      if (!row[5].is_null()) {
        InverterSample s{from_us(row[5]), inverter_values(row, 6)};
        s.values.serial_number = row[0].as<std::string>();
        s.values.inverter_type = row[2].as<std::string>();
        for (const auto& p : ports) {
          if (p[0].as<std::string>() != s.values.serial_number) continue;
          PortReading port = port_values(p, 3);
          port.serial_number = s.values.serial_number;
          port.port_number = p[1].as<int>();
          s.values.ports.push_back(port);
        }
        inv.latest = std::move(s);
      }
      out.push_back(std::move(inv));
    }
    return out;
  });
}

std::vector<InverterSample> PgReadModel::inverter_history(const std::string& serial,
                                                          const HistoryQuery& q) {
  check(q);
  using Result = std::vector<InverterSample>;
  return with_connection<Result>(pool_, [&](pqxx::nontransaction& tx) {
    tx.conn().prepare("smiles_inverter_history", queries::inverter_history());
    const auto rows = tx.exec_prepared("smiles_inverter_history", serial, param(q.since),
                                       param(q.until), q.limit);
    Result out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      InverterSample s{from_us(row[0]), inverter_values(row, 1)};
      s.values.serial_number = serial;
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::vector<PortSample> PgReadModel::port_history(const std::string& serial, int port,
                                                  const HistoryQuery& q) {
  check(q);
  using Result = std::vector<PortSample>;
  return with_connection<Result>(pool_, [&](pqxx::nontransaction& tx) {
    tx.conn().prepare("smiles_port_history", queries::port_history());
    const auto rows = tx.exec_prepared("smiles_port_history", serial, port, param(q.since),
                                       param(q.until), q.limit);
    Result out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      PortSample s{from_us(row[0]), port_values(row, 1)};
      s.values.serial_number = serial;
      s.values.port_number = port;
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::vector<PortEnergyRecord> PgReadModel::energy_states() {
  using Result = std::vector<PortEnergyRecord>;
  return with_connection<Result>(pool_, [&](pqxx::nontransaction& tx) {
    Result out;
    for (const auto& row : tx.exec(queries::energy_states())) {
      PortEnergyRecord r{row[0].as<std::string>(), row[1].as<int>(), {}};
      PortEnergy& e = r.energy;
      e.total = num<std::uint64_t>(row[3]);
      e.baseline = e.total - std::min<std::uint64_t>(e.total, num<std::uint64_t>(row[2]));
      e.day = row[4].as<std::string>();
      e.last_updated = from_us(row[5]);
      e.raw_total = num<std::uint64_t>(row[6]);
      e.offset = num<std::int64_t>(row[7]);
      e.held = row[8].as<bool>();
      e.latest = from_us(row[9]);
      e.suspect_first = num<std::uint64_t>(row[10]);
      e.suspect_last = num<std::uint64_t>(row[11]);
      e.suspect_count = num<std::uint32_t>(row[12]);
      e.suspect_low = row[13].as<bool>();
      out.push_back(std::move(r));
    }
    return out;
  });
}

StorageStats PgReadModel::stats() {
  return with_connection<StorageStats>(pool_, [&](pqxx::nontransaction& tx) {
    StorageStats s;
    // Planner estimates for big tables (exact counts would scan millions of rows);
    // exact counts where the estimate is small or missing.
    for (auto table : schema::kTables) {
      const std::string name(table);
      auto estimate =
          tx.exec_params1("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                          "public." + name)[0]
              .as<std::int64_t>();
      // A table held exclusively (a bulk import rebuilding its indexes) would make
      // count(*) wait for minutes: its estimate has to do.
      const bool locked = tx.exec_params1(
                                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = "
                                "$1::regclass AND mode = 'AccessExclusiveLock' AND granted)",
                                "public." + name)[0]
                              .as<bool>();
      if (estimate < 100000 && !locked) {
        estimate = tx.exec1("SELECT count(*) FROM " + tx.quote_name(name))[0].as<std::int64_t>();
      } else {
        estimate = std::max<std::int64_t>(estimate, 0);
        s.rows_estimated = true;
      }
      s.table_rows[name] = estimate;
      s.total_records += estimate;
    }
    s.database_size_bytes =
        tx.exec1("SELECT pg_database_size(current_database())")[0].as<std::int64_t>();
    const auto span = tx.exec1(queries::reading_span());
    if (!span[0].is_null()) s.oldest_reading = from_us(span[0]);
    if (!span[1].is_null()) s.newest_reading = from_us(span[1]);
    return s;
  });
}

std::vector<EnergyBar> PgReadModel::energy(const EnergyQuery& query) {
  const char* period = query.period == EnergyPeriod::kDay     ? "day"
                       : query.period == EnergyPeriod::kMonth ? "month"
                                                              : "year";
  return with_connection<std::vector<EnergyBar>>(pool_, [&](pqxx::nontransaction& tx) {
    std::vector<EnergyBar> out;
    const auto rows =
        tx.exec_params(queries::energy(), query.from, query.to, query.serial, std::string(period));
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back({row[0].as<std::string>(), num<std::int64_t>(row[1])});
    return out;
  });
}

PowerCurve PgReadModel::power(const PowerQuery& query) {
  if (query.step_seconds < 300 || query.step_seconds % 300 != 0) {
    throw ConfigError("step must be a multiple of 300 seconds");
  }
  return with_connection<PowerCurve>(pool_, [&](pqxx::nontransaction& tx) {
    PowerCurve curve;
    const auto bounds = tx.exec_params1(queries::day_bounds(), query.date, rules_.timezone);
    curve.from = from_us(bounds[0]);
    curve.to = from_us(bounds[1]);
    const auto rows =
        tx.exec_params(queries::power(), format_iso8601_utc(curve.from),
                       format_iso8601_utc(curve.to), query.step_seconds, query.serial);
    for (const auto& row : rows) {
      const auto serial = row[0].as<std::string>();
      if (curve.inverters.empty() || curve.inverters.back().serial_number != serial) {
        curve.inverters.push_back({serial, {}});
      }
      curve.inverters.back().points.push_back({from_us(row[1]), num<double>(row[2])});
    }
    return curve;
  });
}

}  // namespace smiles::storage
