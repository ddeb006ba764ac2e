#include "smiles/api/influx_lines.h"

#include <charconv>
#include <cmath>
#include <map>
#include <utility>

namespace smiles::api {
namespace {

// One point: "measurement,tags fields timestamp\n". Tags must come sorted by key.
class Point {
 public:
  Point(std::string& out, std::string_view measurement) : out_(out) { out_ += measurement; }
  Point& tag(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;  // line protocol has no empty tag values
    out_ += ',';
    out_ += key;
    out_ += '=';
    out_ += influx_escape(value);
    return *this;
  }
  Point& field(std::string_view key, double value) {
    if (!std::isfinite(value)) return *this;  // NaN and infinities cannot be written
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    return raw_field(key, std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
  Point& integer(std::string_view key, std::uint64_t value) {
    char buf[24];
    auto* end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    *end++ = 'i';
    return raw_field(key, std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
  Point& boolean(std::string_view key, bool value) {
    return raw_field(key, value ? "true" : "false");
  }
  // Ends the point; a point without fields is taken back (line protocol needs one).
  std::size_t end(Timestamp at) {
    if (fields_ == 0) return 0;
    out_ += ' ';
    out_ += std::to_string(
        std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count());
    out_ += '\n';
    return 1;
  }

 private:
  Point& raw_field(std::string_view key, std::string_view value) {
    out_ += fields_++ == 0 ? ' ' : ',';
    out_ += key;
    out_ += '=';
    out_ += value;
    return *this;
  }
  std::string& out_;
  int fields_ = 0;
};

}  // namespace

std::string influx_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == ',' || c == '=' || c == ' ') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '_';
    } else {
      out += c;
    }
  }
  // A trailing backslash would escape the separator after it.
  if (!out.empty() && out.back() == '\\') out.back() = '_';
  return out;
}

InfluxBatch influx_lines(const DtuReading& reading, const std::vector<ProductionEntry>& served) {
  std::map<std::pair<std::string_view, int>, const ProductionEntry*> energy;
  for (const auto& e : served) energy[{e.serial_number, e.port_number}] = &e;

  InfluxBatch batch;
  std::string& out = batch.lines;
  const Timestamp at = reading.timestamp;
  double plant_power_w = 0;
  std::uint64_t plant_today_wh = 0, plant_total_wh = 0;
  bool alarms = false;
  for (const auto& inv : reading.inverters) {
    Point point(out, "inverter");
    point.tag("dtu_name", reading.dtu_name).tag("serial_number", inv.serial_number);
    const bool linked = inv.link_status != 0;
    if (linked) {
      point.field("grid_voltage", inv.grid_voltage_v)
          .field("grid_frequency", inv.grid_frequency_hz)
          .field("temperature", inv.temperature_c)
          .integer("operating_status", inv.operating_status)
          .integer("alarm_code", inv.alarm_code)
          .integer("alarm_count", inv.alarm_count);
      alarms = alarms || inv.alarm_count > 0;
    }
    point.integer("link_status", inv.link_status);
    batch.points += point.end(at);

    for (const auto& port : inv.ports) {
      const auto it = energy.find({inv.serial_number, port.port_number});
      const ProductionEntry* e = it == energy.end() ? nullptr : it->second;
      if (e != nullptr) {
        plant_today_wh += e->today_production_wh;
        plant_total_wh += e->total_production_wh;
      }
      if (!linked) continue;
      plant_power_w += port.pv_power_w;
      Point p(out, "port");
      p.tag("dtu_name", reading.dtu_name)
          .tag("port_number", std::to_string(port.port_number))
          .tag("serial_number", inv.serial_number)
          .field("pv_voltage", port.pv_voltage_v)
          .field("pv_current", port.pv_current_a)
          .field("pv_power", port.pv_power_w);
      if (e != nullptr) {
        p.integer("today_production", e->today_production_wh)
            .integer("total_production", e->total_production_wh);
      }
      batch.points += p.end(at);
    }
  }
  if (!reading.inverters.empty()) {
    Point point(out, "dtu");
    // The Python bridge wrote "unknown" when the DTU's serial was not known.
    point.tag("dtu_name", reading.dtu_name)
        .tag("dtu_serial", reading.dtu_serial.empty() ? "unknown" : reading.dtu_serial)
        .field("pv_power", plant_power_w)
        .integer("today_production", plant_today_wh)
        .integer("total_production", plant_total_wh)
        .boolean("alarm_flag", alarms);
    batch.points += point.end(at);
  }
  return batch;
}

}  // namespace smiles::api
