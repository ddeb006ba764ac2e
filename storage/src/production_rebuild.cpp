#include "production_rebuild.h"

#include <charconv>
#include <map>
#include <pqxx/pqxx>

#include "cache_rows.h"
#include "smiles/core/energy.h"
#include "smiles/core/time.h"

namespace smiles::storage {

namespace {

template <typename T>
T num(const pqxx::field& f) {
  T v{};
  std::from_chars(f.c_str(), f.c_str() + f.size(), v);
  return v;
}

}  // namespace

std::map<PortKey, PortEnergy> fold_stored_readings(
    pqxx::transaction_base& tx, const ProductionRules& rules,
    const std::function<void(const PortKey&, const PortEnergy&)>& closing) {
  // A cursor keeps memory flat however long the history. (DECLARE takes no
  // parameters: the zone is quoted, the hour is a number.)
  tx.exec(
      "DECLARE smiles_rebuild NO SCROLL CURSOR FOR SELECT p.serial_number, p.port_number, "
      "(extract(epoch FROM p.\"timestamp\") * 1000000)::bigint, coalesce(i.link_status, 1), "
      "coalesce(p.total_production, 0), coalesce(p.today_production, 0), " +
      production_day_sql("p.\"timestamp\"", tx.quote(rules.timezone),
                         std::to_string(rules.reset_hour)) +
      "::text FROM port_data p LEFT JOIN inverter_data i ON i.serial_number = p.serial_number "
      "AND i.\"timestamp\" = p.\"timestamp\" ORDER BY p.serial_number, p.port_number, "
      "p.\"timestamp\"");
  std::map<PortKey, PortEnergy> states;
  for (;;) {
    const auto rows = tx.exec("FETCH 20000 FROM smiles_rebuild");
    if (rows.empty()) break;
    for (const auto& row : rows) {
      PortKey key{row[0].as<std::string>(), num<int>(row[1])};
      PortEnergy& e = states[key];
      const EnergySample s{Timestamp{std::chrono::duration_cast<Timestamp::duration>(
                               std::chrono::microseconds{num<std::int64_t>(row[2])})},
                           static_cast<std::uint8_t>(num<int>(row[3]) != 0 ? 1 : 0),
                           num<std::uint64_t>(row[4]),
                           static_cast<std::uint32_t>(num<std::int64_t>(row[5]))};
      const auto day = row[6].as<std::string>();
      if (closing && closes_day(e, s.at, day)) closing(key, e);
      fold_energy(e, s, day);
    }
  }
  tx.exec("CLOSE smiles_rebuild");
  return states;
}

std::int64_t rebuild_production_cache(pqxx::transaction_base& tx, const ProductionRules& rules) {
  const auto states = fold_stored_readings(tx, rules, {});
  tx.exec("DELETE FROM production_cache");
  CacheRows rows;
  for (const auto& [key, e] : states) {
    if (e.known()) rows.add(key.first, key.second, e);
  }
  if (rows.empty()) return 0;
  tx.exec_params(
      "INSERT INTO production_cache (serial_number, port_number, today_production, "
      "total_production, production_day, last_updated) SELECT * FROM unnest($1::text[], "
      "$2::smallint[], $3::int[], $4::bigint[], $5::date[], $6::timestamptz[])",
      text_array(rows.serial), text_array(rows.port), text_array(rows.today),
      text_array(rows.total), text_array(rows.day), text_array(rows.updated));
  return static_cast<std::int64_t>(rows.serial.size());
}

}  // namespace smiles::storage

namespace smiles::storage {

std::int64_t fill_production_cache(pqxx::transaction_base& tx, const ProductionRules& rules) {
  const auto states = fold_stored_readings(tx, rules, {});
  CacheRows rows;
  for (const auto& [key, e] : states) {
    if (e.known()) rows.add(key.first, key.second, e);
  }
  if (rows.empty()) return 0;
  const auto r = tx.exec_params1(
      "WITH ins AS (INSERT INTO production_cache (serial_number, port_number, "
      "today_production, total_production, production_day, last_updated, raw_total, offset_wh, "
      "held, latest, suspect_first, suspect_last, suspect_count, suspect_low) SELECT * FROM "
      "unnest($1::text[], $2::smallint[], $3::int[], $4::bigint[], $5::date[], "
      "$6::timestamptz[], $7::bigint[], $8::bigint[], $9::boolean[], $10::timestamptz[], "
      "$11::bigint[], $12::bigint[], $13::int[], $14::boolean[]) ON CONFLICT DO NOTHING "
      "RETURNING 1) SELECT count(*) FROM ins",
      text_array(rows.serial), text_array(rows.port), text_array(rows.today),
      text_array(rows.total), text_array(rows.day), text_array(rows.updated), text_array(rows.raw),
      text_array(rows.offset), text_array(rows.held), text_array(rows.latest),
      text_array(rows.suspect_first), text_array(rows.suspect_last), text_array(rows.suspect_count),
      text_array(rows.suspect_low));
  return r[0].as<std::int64_t>();
}

}  // namespace smiles::storage
