// The S-Miles v1 SQLite file as the importer reads it: its shape (refused when it
// is not a v1 bridge database) and the conversions of its values.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "smiles/core/time.h"
#include "sqlite_file.h"

namespace smiles::storage::sqlite_v1 {

// Which of the v1 tables the file has; throws SourceRefused for a file that is not
// a v1 bridge database (a required table or column missing).
std::map<std::string, bool> check_source_shape(const SqliteFile& file);

// Python's sqlite3 adapter: "YYYY-MM-DD HH:MM:SS[.ffffff]" (a 'T' is accepted too),
// no zone; checked by core/time.h's parser. Returns the text PostgreSQL reads in the
// session time zone, or nullopt.
std::optional<std::string> naive_timestamp(std::string_view s);
// The same check, giving the parsed fields.
std::optional<Iso8601Fields> naive_timestamp_fields(std::string_view s);

// Validates JSON without building a document and notes a top-level serial_number
// and port (the tags of per-port metrics).
struct JsonProbe : nlohmann::json::json_sax_t {
  int depth = 0;
  bool at_serial = false, at_port = false;
  std::string serial;
  long port = 0;
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t v) override {
    if (at_port) port = static_cast<long>(v);
    return value();
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (at_port) port = static_cast<long>(v);
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& v) override {
    if (at_serial) serial = v;
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    at_serial = depth == 1 && k == "serial_number";
    at_port = depth == 1 && k == "port";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
    return false;
  }

 private:
  bool value() {
    at_serial = at_port = false;
    return true;
  }
  bool open() {
    value();
    ++depth;
    return true;
  }
  bool close() {
    --depth;
    return true;
  }
};

bool probe_json(std::string_view text, JsonProbe& probe);
// JSON text for a jsonb column: valid JSON as it is, anything else as a JSON string.
std::string as_json(std::string_view text, JsonProbe& probe);

// A source value for a reject file: its text, "NULL" or "<blob>".
std::string display(const SqliteStatement& s, int column);

// What the importer learns about an inverter from the rows it reads.
struct SeenInverter {
  std::string first, last;  // naive local timestamps (text sorts chronologically)
  long max_port = 0;
};
using SeenInverters = std::map<std::string, SeenInverter>;
void see(SeenInverters& seen, const std::string& serial, std::string_view ts, long port);
void see(SeenInverter& s, std::string_view ts, long port);

}  // namespace smiles::storage::sqlite_v1
