#include "smiles/api/json_views.h"

#include <algorithm>

namespace smiles::api {

namespace {

struct DomFields {
  nlohmann::json& doc;
  template <class T>
  void operator()(const char* name, const T& value) {
    doc[name] = value;
  }
};

}  // namespace

nlohmann::json port_json(const PortReading& port, Timestamp timestamp) {
  nlohmann::json doc = nlohmann::json::object();
  port_fields(port, timestamp, DomFields{doc});
  return doc;
}

nlohmann::json inverter_json(const InverterReading& inverter, const std::string& dtu_name,
                             Timestamp timestamp) {
  nlohmann::json doc = nlohmann::json::object();
  inverter_value_fields(inverter, timestamp, DomFields{doc});
  doc["dtu_name"] = dtu_name;
  doc["inverter_type"] = inverter.inverter_type;
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& port : inverter.ports) ports.push_back(port_json(port, timestamp));
  doc["ports"] = std::move(ports);
  return doc;
}

nlohmann::json dtu_reading_json(const DtuReading& reading) {
  nlohmann::json inverters = nlohmann::json::array();
  for (const auto& inverter : reading.inverters) {
    inverters.push_back(inverter_json(inverter, reading.dtu_name, reading.timestamp));
  }
  const PlantTotals totals = plant_totals(reading);
  return {
      {"dtu_name", reading.dtu_name},
      {"dtu_serial", reading.dtu_serial},
      {"timestamp", format_iso8601_utc(reading.timestamp)},
      {"inverters", std::move(inverters)},
      {"totals",
       {{"power_w", tidy(totals.power_w)},
        {"today_wh", totals.today_wh},
        {"total_wh", totals.total_wh},
        {"total_kwh", tidy(static_cast<double>(totals.total_wh) / 1000.0)},
        {"inverters_producing", totals.inverters_producing},
        {"port_count", totals.port_count}}},
  };
}

namespace {

// [{fields of sample 1}, ...] without building a document.
template <class Sample, class Fields>
std::string history_json(const std::vector<Sample>& samples, Fields fields) {
  std::string out;
  out.reserve(256 * samples.size() + 2);
  JsonWriter w(out);
  w.begin_array();
  for (const auto& s : samples) {
    w.begin_object();
    fields(s.values, s.timestamp, w);
    w.end_object();
  }
  w.end_array();
  return out;
}

}  // namespace

std::string inverter_history_json(const std::vector<storage::InverterSample>& samples) {
  return history_json(
      samples, [](const auto& v, Timestamp t, JsonWriter& w) { inverter_value_fields(v, t, w); });
}

std::string port_history_json(const std::vector<storage::PortSample>& samples) {
  return history_json(samples,
                      [](const auto& v, Timestamp t, JsonWriter& w) { port_fields(v, t, w); });
}

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_) out_ += ',';
  first_ = false;
}

void JsonWriter::open(char c) {
  separator();
  out_ += c;
  first_ = true;
}

void JsonWriter::close(char c) {
  out_ += c;
  first_ = false;
}

void JsonWriter::key(std::string_view name) {
  value(name);
  out_ += ':';
  after_key_ = true;
}

// Scalars are encoded by nlohmann::json (escaping, number format); the writer only
// places the punctuation between them.
void JsonWriter::value(std::string_view text) {
  separator();
  // Printable ASCII without quote or backslash encodes as itself (serial numbers,
  // timestamps, names): skip the encoder's per-character UTF-8 walk for those.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out_ += '"';
    out_ += text;
    out_ += '"';
  } else {
    scalar(text);
  }
}

void JsonWriter::value(double v) {
  separator();
  scalar(v);
}

void JsonWriter::value(bool v) {
  separator();
  out_ += v ? "true" : "false";
}

void JsonWriter::value(std::nullptr_t) {
  separator();
  out_ += "null";
}

void JsonWriter::append_integer(long long v) { scalar(v); }

}  // namespace smiles::api
