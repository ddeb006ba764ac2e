// ReadModel over PostgreSQL. Every query is served by an index (see
// storage/migrations and tests/storage/read_model_pgtest.cpp).
#pragma once

#include "smiles/storage/connection_pool.h"
#include "smiles/storage/production_rules.h"
#include "smiles/storage/read_model.h"

namespace smiles::storage {

class PgReadModel final : public ReadModel {
 public:
  PgReadModel(ConnectionPool& pool, ProductionRules rules);
  std::vector<StoredInverter> inverters(const std::optional<std::string>& serial) override;
  std::vector<InverterSample> inverter_history(const std::string& serial,
                                               const HistoryQuery& query) override;
  std::vector<PortSample> port_history(const std::string& serial, int port,
                                       const HistoryQuery& query) override;
  std::vector<PortEnergyRecord> energy_states() override;
  StorageStats stats() override;
  std::vector<EnergyBar> energy(const EnergyQuery& query) override;  // read_energy.cpp
  PowerCurve power(const PowerQuery& query) override;

 private:
  ConnectionPool& pool_;
  ProductionRules rules_;
};

}  // namespace smiles::storage
