// A read model for router tests: answers fixed values, or fails as a lost database does.
#pragma once

#include "readings.h"
#include "smiles/core/error.h"
#include "smiles/storage/read_model.h"

namespace smiles::test {

struct FakeHistory : storage::ReadModel {
  bool down = false;
  storage::HistoryQuery last;
  void check() const {
    if (down) throw IoError("database unreachable");
  }
  std::vector<storage::StoredInverter> inverters(const std::optional<std::string>&) override {
    check();
    return {};
  }
  std::vector<storage::InverterSample> inverter_history(const std::string&,
                                                        const storage::HistoryQuery& q) override {
    check();
    last = q;
    return {};
  }
  std::vector<storage::PortSample> port_history(const std::string&, int,
                                                const storage::HistoryQuery& q) override {
    check();
    last = q;
    return {};
  }
  std::vector<PortEnergyRecord> energy_states() override {
    check();
    return {};
  }
  storage::StorageStats stats() override {
    check();
    return {};
  }
  storage::EnergyQuery last_energy;
  storage::PowerQuery last_power;
  std::vector<storage::EnergyBar> energy(const storage::EnergyQuery& q) override {
    check();
    last_energy = q;
    return {{q.from, 1200}};
  }
  storage::PowerCurve power(const storage::PowerQuery& q) override {
    check();
    last_power = q;
    storage::PowerCurve c;
    c.from = utc("2026-06-01T00:00:00Z");
    c.to = utc("2026-06-02T00:00:00Z");
    c.inverters = {
        {"116100000001", {{utc("2026-06-01T10:00:00Z"), 100.04}}},
        {"116100000002", {{utc("2026-06-01T10:00:00Z"), 50}, {utc("2026-06-01T10:05:00Z"), 60}}}};
    return c;
  }
};

}  // namespace smiles::test
