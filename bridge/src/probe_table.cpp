#include "probe_table.h"

#include <cstdio>
#include <string>
#include <vector>

namespace smiles::bridge {

namespace {

std::string fmt(const char* format, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::string format_probe_table(const DtuReading& reading, const ProbeSummary& summary) {
  const std::vector<std::string> headers = {
      "Inverter",  "Type",   "Port",    "PV V",   "PV A",   "PV W",  "Today Wh",
      "Total kWh", "Grid V", "Grid Hz", "Temp C", "Status", "Alarm", "Link"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& inv : reading.inverters) {
    bool first = true;
    for (const auto& port : inv.ports) {
      std::vector<std::string> row = {
          first ? inv.serial_number : "",
          first ? inv.inverter_type : "",
          std::to_string(port.port_number),
          fmt("%.1f", port.pv_voltage_v),
          fmt("%.2f", port.pv_current_a),
          fmt("%.1f", port.pv_power_w),
          std::to_string(port.today_production_wh),
          fmt("%.3f", static_cast<double>(port.total_production_wh) / 1000.0)};
      if (first) {
        row.insert(row.end(),
                   {fmt("%.1f", inv.grid_voltage_v), fmt("%.2f", inv.grid_frequency_hz),
                    fmt("%.1f", inv.temperature_c), std::to_string(inv.operating_status),
                    std::to_string(inv.alarm_code), inv.link_status != 0 ? "up" : "DOWN"});
      } else {
        row.insert(row.end(), 6, "");
      }
      rows.push_back(std::move(row));
      first = false;
    }
  }
  std::vector<std::size_t> width(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool text = c < 2;  // serial and type left-aligned, numbers right-aligned
      const std::string pad(width[c] - cells[c].size(), ' ');
      out += text ? cells[c] + pad : pad + cells[c];
      if (c + 1 < cells.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };

  const PlantTotals totals = plant_totals(reading);
  std::string out = "DTU " + reading.dtu_serial + " at " + summary.address + ": " +
                    std::to_string(reading.inverters.size()) + " inverters, " +
                    std::to_string(totals.port_count) + " ports (read in " +
                    std::to_string(summary.elapsed.count()) + " ms, " +
                    std::to_string(summary.requests) + " requests, " +
                    std::to_string(summary.retries) + " retries)\n\n";
  out += line(headers);
  std::string rule;
  for (std::size_t c = 0; c < headers.size(); ++c) {
    rule += std::string(width[c], '-') + (c + 1 < headers.size() ? "  " : "");
  }
  out += rule + "\n";
  for (const auto& row : rows) out += line(row);
  out += "\nPlant: " + fmt("%.1f", totals.power_w) + " W now, " + std::to_string(totals.today_wh) +
         " Wh today, " + fmt("%.3f", static_cast<double>(totals.total_wh) / 1000.0) +
         " kWh total, " + std::to_string(totals.inverters_producing) + " inverters producing\n";
  return out;
}

}  // namespace smiles::bridge
