#include "smiles/api/live_state.h"

#include <algorithm>

namespace smiles::api {

LiveState::LiveState(DayFunction production_day) : production_day_(std::move(production_day)) {}

void LiveState::register_dtu(const std::string& name, const std::string& address) {
  std::lock_guard lock(mutex_);
  auto& h = health_[name];
  h.name = name;
  h.address = address;
}

void LiveState::record_success(const DtuReading& reading) {
  const std::string day = production_day_(reading.timestamp);
  std::lock_guard lock(mutex_);
  ++version_;
  auto& h = health_[reading.dtu_name];
  h.name = reading.dtu_name;
  h.status = "ok";
  ++h.query_count;
  if (!h.last_success || reading.timestamp > *h.last_success) h.last_success = reading.timestamp;
  for (const auto& inv : reading.inverters) {
    auto [it, fresh] = inverters_.try_emplace(inv.serial_number);
    InverterView& view = it->second;
    if (fresh) view.first_seen = reading.timestamp;
    if (fresh || reading.timestamp >= view.timestamp) {
      view.dtu_name = reading.dtu_name;
      view.timestamp = reading.timestamp;
      view.last_seen = reading.timestamp;
      view.latest = inv;
    }
    for (const auto& port : inv.ports) {
      if (!is_good_energy_reading(inv.link_status, port.total_production_wh)) continue;
      merge_energy(energy_[{port.serial_number, port.port_number}], day, port.today_production_wh,
                   port.total_production_wh, reading.timestamp);
    }
  }
}

void LiveState::record_failure(const std::string& dtu, std::string_view kind,
                               const std::string& message, Timestamp when,
                               std::string_view status) {
  std::lock_guard lock(mutex_);
  auto& h = health_[dtu];
  h.name = dtu;
  h.status = std::string(status);
  ++h.query_count;
  ++h.error_count;
  h.last_error = message;
  h.last_error_kind = std::string(kind);
  h.last_error_time = when;
}

void LiveState::seed_production(const std::vector<ProductionEntry>& entries) {
  std::lock_guard lock(mutex_);
  for (const auto& p : entries) {
    merge_energy(energy_[{p.serial_number, p.port_number}], production_day_(p.last_updated),
                 p.today_production_wh, p.total_production_wh, p.last_updated);
  }
}

void LiveState::seed_inverter(const InverterView& view) {
  std::lock_guard lock(mutex_);
  ++version_;
  inverters_.try_emplace(view.latest.serial_number, view);
}

std::vector<DtuHealth> LiveState::health() const {
  std::lock_guard lock(mutex_);
  std::vector<DtuHealth> out;
  for (const auto& [name, h] : health_) out.push_back(h);
  return out;
}

std::vector<InverterView> LiveState::inverters() const {
  std::lock_guard lock(mutex_);
  std::vector<InverterView> out;
  for (const auto& [serial, v] : inverters_) out.push_back(v);
  return out;
}

std::optional<InverterView> LiveState::inverter(const std::string& serial) const {
  std::lock_guard lock(mutex_);
  const auto it = inverters_.find(serial);
  if (it == inverters_.end()) return std::nullopt;
  return it->second;
}

std::vector<ProductionEntry> LiveState::production(Timestamp now) const {
  const std::string today = production_day_(now);
  std::lock_guard lock(mutex_);
  std::vector<ProductionEntry> out;
  for (const auto& [key, e] : energy_) {
    out.push_back({key.first, key.second, e.day == today ? e.today : 0U, e.total, e.last_updated});
  }
  return out;
}

ProductionSummary LiveState::summary(Timestamp now) const {
  ProductionSummary s;
  for (const auto& p : production(now)) {
    s.today_wh += p.today_production_wh;
    s.total_wh += p.total_production_wh;
    if (!s.updated_at || p.last_updated > *s.updated_at) s.updated_at = p.last_updated;
  }
  std::lock_guard lock(mutex_);
  for (const auto& [serial, v] : inverters_) {
    if (v.latest.link_status == 0) continue;
    double power = 0;
    for (const auto& port : v.latest.ports) power += port.pv_power_w;
    s.power_w += power;
    if (power > 0) ++s.inverters_producing;
  }
  return s;
}

std::optional<Timestamp> LiveState::last_success() const {
  std::lock_guard lock(mutex_);
  std::optional<Timestamp> newest;
  for (const auto& [name, h] : health_) {
    if (h.last_success && (!newest || *h.last_success > *newest)) newest = h.last_success;
  }
  return newest;
}

}  // namespace smiles::api

namespace smiles::api {
std::uint64_t LiveState::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}
}  // namespace smiles::api
