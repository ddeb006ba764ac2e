#include "smiles/api/json_views.h"

#include <charconv>
#include <cstdio>

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

void JsonWriter::value(std::string_view text) {
  separator();
  out_ += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out_ += buf;
        } else {
          out_ += ch;
        }
    }
  }
  out_ += '"';
}

void JsonWriter::value(double v) {
  separator();
  if (!std::isfinite(v)) {
    out_ += "null";  // as nlohmann::json
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out_ += text;
  if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";
}

void JsonWriter::value(bool v) {
  separator();
  out_ += v ? "true" : "false";
}

void JsonWriter::value(std::nullptr_t) {
  separator();
  out_ += "null";
}

void JsonWriter::append_integer(long long v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, end);
}

}  // namespace smiles::api
