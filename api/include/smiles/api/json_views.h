// JSON views of readings. Field names here are the compatibility contract with
// existing Home Assistant setups (README, "HTTP API"): add, never rename.
//
// Each view's fields are listed once, in a visitor (`*_fields`), and rendered
// either into an nlohmann::json document or, for answers with many rows (history),
// written straight to text by JsonWriter without building a document.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "smiles/core/reading.h"
#include "smiles/core/time.h"
#include "smiles/storage/read_model.h"

namespace smiles::api {

// Values come from fixed-point registers; trim binary noise (0.30000000000000004).
inline double tidy(double v) { return std::round(v * 1000.0) / 1000.0; }

// Port fields: serial_number, port_number, timestamp, pv_voltage, pv_current,
// pv_power, today_production, total_production (V, A, W, Wh, Wh).
template <class Field>
void port_fields(const PortReading& port, Timestamp timestamp, Field&& field) {
  field("serial_number", port.serial_number);
  field("port_number", port.port_number);
  field("timestamp", format_iso8601_utc(timestamp));
  field("pv_voltage", tidy(port.pv_voltage_v));
  field("pv_current", tidy(port.pv_current_a));
  field("pv_power", tidy(port.pv_power_w));
  field("today_production", port.today_production_wh);
  field("total_production", port.total_production_wh);
}

// The values of one inverter reading (an /history entry): serial_number, timestamp,
// grid_voltage, grid_frequency, temperature, operating_status, alarm_code,
// alarm_count, link_status.
template <class Field>
void inverter_value_fields(const InverterReading& inverter, Timestamp timestamp, Field&& field) {
  field("serial_number", inverter.serial_number);
  field("timestamp", format_iso8601_utc(timestamp));
  field("grid_voltage", tidy(inverter.grid_voltage_v));
  field("grid_frequency", tidy(inverter.grid_frequency_hz));
  field("temperature", tidy(inverter.temperature_c));
  field("operating_status", inverter.operating_status);
  field("alarm_code", inverter.alarm_code);
  field("alarm_count", inverter.alarm_count);
  field("link_status", inverter.link_status);
}

// Port object.
nlohmann::json port_json(const PortReading& port, Timestamp timestamp);

// Inverter object with the latest values, dtu_name, inverter_type and `ports`.
nlohmann::json inverter_json(const InverterReading& inverter, const std::string& dtu_name,
                             Timestamp timestamp);

// A whole poll: {dtu_name, dtu_serial, timestamp, inverters: [...], totals: {...}}.
nlohmann::json dtu_reading_json(const DtuReading& reading);

// History answers as JSON text: arrays of inverter_value_fields / port_fields objects.
std::string inverter_history_json(const std::vector<storage::InverterSample>& samples);
std::string port_history_json(const std::vector<storage::PortSample>& samples);

// Appends JSON to a string without building a document: nlohmann::json encodes
// each scalar, the writer adds the brackets, commas and colons between them.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out)
      : out_(out), scalars_(nlohmann::detail::output_adapter<char>(out), ' ') {}
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void key(std::string_view name);
  void value(std::string_view text);
  void value(const std::string& text) { value(std::string_view(text)); }
  void value(const char* text) { value(std::string_view(text)); }
  void value(double v);
  void value(bool v);
  void value(std::nullptr_t);
  template <class T>
  requires std::is_integral_v<T>
  void value(T v) {
    separator();
    append_integer(static_cast<long long>(v));
  }
  // key + value
  template <class T>
  void operator()(std::string_view name, const T& v) {
    key(name);
    value(v);
  }

 private:
  void open(char c);
  void close(char c);
  void separator();
  void append_integer(long long v);
  template <class T>
  void scalar(T&& v) {
    scalars_.dump(nlohmann::json(std::forward<T>(v)), false, false, 0);
  }
  std::string& out_;
  // The serializer json::dump() uses, kept for the whole answer: building one per
  // value (it reads the locale) cost more than the values.
  nlohmann::detail::serializer<nlohmann::json> scalars_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace smiles::api
