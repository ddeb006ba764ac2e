// Human-readable table of one DTU poll (probe's default output).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "smiles/core/reading.h"

namespace smiles::bridge {

struct ProbeSummary {
  std::string address;
  std::chrono::milliseconds elapsed{0};
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
};

std::string format_probe_table(const DtuReading& reading, const ProbeSummary& summary);

}  // namespace smiles::bridge
