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
      fold_energy(
          energy_[{port.serial_number, port.port_number}],
          {reading.timestamp, inv.link_status, port.total_production_wh, port.today_production_wh},
          day);
    }
  }
}

void LiveState::record_failure(const std::string& dtu, const std::string& message, Timestamp when,
                               std::string_view status, bool same_cause) {
  std::lock_guard lock(mutex_);
  auto& h = health_[dtu];
  h.name = dtu;
  h.status = std::string(status);
  ++h.query_count;
  ++h.error_count;
  if (same_cause && !h.last_error.empty()) return;
  h.last_error = message;
  h.last_error_time = when;
}

void LiveState::seed(const ServedState& state) {
  std::lock_guard lock(mutex_);
  ++version_;
  for (const auto& r : state.ports) {
    if (!r.energy.known()) continue;
    auto& e = energy_[{r.serial_number, r.port_number}];
    if (!e.known() || r.energy.latest > e.latest) e = r.energy;
  }
  for (const auto& inv : state.inverters) {
    if (!inv.latest) continue;
    const auto& serial = inv.latest->values.serial_number;
    auto [it, fresh] = inverters_.try_emplace(serial);
    InverterView& view = it->second;
    if (!fresh && view.timestamp >= inv.latest->timestamp) continue;
    view.dtu_name = inv.dtu_name;
    view.first_seen = fresh ? inv.first_seen : std::min(view.first_seen, inv.first_seen);
    view.last_seen = std::max(view.last_seen, inv.last_seen);
    view.timestamp = inv.latest->timestamp;
    view.latest = inv.latest->values;
  }
}

ServedState LiveState::snapshot() const {
  std::lock_guard lock(mutex_);
  ServedState s;
  for (const auto& [key, e] : energy_) {
    if (e.known()) s.ports.push_back({key.first, key.second, e});
  }
  for (const auto& [serial, v] : inverters_) {
    s.inverters.push_back(
        {v.dtu_name, v.first_seen, v.last_seen, storage::InverterSample{v.timestamp, v.latest}});
  }
  return s;
}

std::vector<DtuHealth> LiveState::health() const {
  std::lock_guard lock(mutex_);
  std::vector<DtuHealth> out;
  for (const auto& [name, h] : health_) out.push_back(h);
  return out;
}

std::optional<InverterView> LiveState::served(const InverterView& v,
                                              const std::string& today) const {
  InverterView out = v;
  out.energy_held.assign(out.latest.ports.size(), false);
  bool any_known = false;
  for (std::size_t i = 0; i < out.latest.ports.size(); ++i) {
    auto& port = out.latest.ports[i];
    const auto it = energy_.find({port.serial_number, port.port_number});
    if (it == energy_.end() || !it->second.known()) {
      // No good reading yet: an unused input whose counter is 0 while its inverter's
      // other ports count.
      port.total_production_wh = 0;
      port.today_production_wh = 0;
      continue;
    }
    any_known = true;
    port.total_production_wh = it->second.total;
    port.today_production_wh = it->second.today_wh(today);
    out.energy_held[i] = it->second.held;
  }
  // An inverter first seen in a zero block (the upload, the night) shows once its
  // energy is known, never with a total of 0 it will leave again.
  if (!any_known) return std::nullopt;
  return out;
}

std::vector<InverterView> LiveState::inverters(Timestamp now) const {
  const std::string today = production_day_(now);
  std::lock_guard lock(mutex_);
  std::vector<InverterView> out;
  for (const auto& [serial, v] : inverters_) {
    if (auto view = served(v, today)) out.push_back(std::move(*view));
  }
  return out;
}

std::optional<InverterView> LiveState::inverter(const std::string& serial, Timestamp now) const {
  const std::string today = production_day_(now);
  std::lock_guard lock(mutex_);
  const auto it = inverters_.find(serial);
  if (it == inverters_.end()) return std::nullopt;
  return served(it->second, today);
}

std::vector<ProductionEntry> LiveState::production(Timestamp now) const {
  const std::string today = production_day_(now);
  std::lock_guard lock(mutex_);
  std::vector<ProductionEntry> out;
  for (const auto& [key, e] : energy_) {
    if (!e.known()) continue;
    out.push_back({key.first, key.second, e.today_wh(today), e.total, e.last_updated, e.held});
  }
  return out;
}

ProductionSummary LiveState::summary(Timestamp now) const {
  ProductionSummary s;
  for (const auto& p : production(now)) {
    s.today_wh += p.today_production_wh;
    s.total_wh += p.total_production_wh;
    if (p.held) ++s.ports_held;
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

bool LiveState::energy_known() const {
  std::lock_guard lock(mutex_);
  return std::any_of(energy_.begin(), energy_.end(),
                     [](const auto& kv) { return kv.second.known(); });
}

std::optional<Timestamp> LiveState::last_success() const {
  std::lock_guard lock(mutex_);
  std::optional<Timestamp> newest;
  for (const auto& [name, h] : health_) {
    if (h.last_success && (!newest || *h.last_success > *newest)) newest = h.last_success;
  }
  return newest;
}

std::uint64_t LiveState::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

}  // namespace smiles::api
