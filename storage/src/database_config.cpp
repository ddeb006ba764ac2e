#include "smiles/storage/database_config.h"

#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "smiles/core/error.h"

namespace smiles::storage {

namespace {

// The connection string as libpq reads it (keyword -> value), or nullopt and libpq's
// complaint.
std::optional<std::map<std::string, std::string>> parse_conninfo(const std::string& text,
                                                                 std::string& error) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &message);
  if (options == nullptr) {
    error = message != nullptr ? message : "out of memory";
    if (message != nullptr) PQfreemem(message);
    return std::nullopt;
  }
  std::map<std::string, std::string> values;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return values;
}

bool is_keyword(const std::string& word) {
  PQconninfoOption* defaults = PQconndefaults();
  bool found = false;
  for (const PQconninfoOption* o = defaults; o != nullptr && o->keyword != nullptr; ++o) {
    found = found || word == o->keyword;
  }
  PQconninfoFree(defaults);
  return found;
}

// libpq quotes what it stumbled on, which may be (part of) the password: every quoted
// fragment but a keyword, a single character or one of `shown` is hidden.
std::string scrub(const std::string& message, const std::vector<std::string>& shown = {}) {
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto open = message.find('"', pos);
    const auto close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) {
      // An unclosed quote: nothing after it is safe to show.
      out += message.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
      if (open != std::string::npos) out += "\"...\"";
      break;
    }
    const auto fragment = message.substr(open + 1, close - open - 1);
    out += message.substr(pos, open - pos);
    const bool safe = fragment.size() <= 1 || is_keyword(fragment) ||
                      std::find(shown.begin(), shown.end(), fragment) != shown.end();
    out += safe ? "\"" + fragment + "\"" : "\"...\"";
    pos = close + 1;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}
// libpq conninfo values go in single quotes with \ and ' escaped.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}
}  // namespace

std::string conninfo(const DatabaseConfig& config) {
  const std::string timeout = std::to_string(config.connect_timeout.count());
  if (!config.url.empty()) {
    // Both URIs and key=value strings accept connect_timeout; URIs as a parameter.
    const bool uri =
        config.url.starts_with("postgres://") || config.url.starts_with("postgresql://");
    if (uri) {
      if (config.url.find("connect_timeout=") != std::string::npos) return config.url;
      return config.url + (config.url.find('?') == std::string::npos ? "?" : "&") +
             "connect_timeout=" + timeout;
    }
    return config.url + " connect_timeout=" + timeout;
  }
  std::string out = "host=" + quoted(config.host) + " port=" + std::to_string(config.port) +
                    " dbname=" + quoted(config.name) + " user=" + quoted(config.user) +
                    " connect_timeout=" + timeout + " application_name='hoymiles-smiles'";
  if (!config.password.empty()) out += " password=" + quoted(config.password);
  return out;
}

void validate_conninfo(const DatabaseConfig& config) {
  std::string error;
  if (!parse_conninfo(conninfo(config), error)) {
    throw ConfigError(std::string(config.url.empty() ? "the DB_* settings" : "DATABASE_URL") +
                      " cannot be read as a PostgreSQL connection string "
                      "(postgresql://user:password@host:port/database or key=value pairs): " +
                      scrub(error));
  }
}

std::string safe_libpq_message(const DatabaseConfig& config, const std::string& message) {
  std::vector<std::string> shown;
  std::string error;
  if (const auto values = parse_conninfo(conninfo(config), error)) {
    for (const char* key : {"host", "hostaddr", "port", "user", "dbname"}) {
      if (const auto it = values->find(key); it != values->end() && it->second.size() > 1) {
        shown.push_back(it->second);
      }
    }
  }
  return scrub(message, shown);
}

std::string describe(const DatabaseConfig& config) {
  if (!config.url.empty()) {
    // Rebuilt from what libpq reads, never echoed: a password cannot slip through
    // however the string is written.
    std::string error;
    const auto values = parse_conninfo(config.url, error);
    if (!values) return "(a DATABASE_URL that cannot be read)";
    auto get = [&](const char* key) {
      const auto it = values->find(key);
      return it == values->end() ? std::string() : it->second;
    };
    std::string out = "postgresql://";
    if (!get("user").empty()) out += get("user") + "@";
    out += get("host").empty() ? (get("hostaddr").empty() ? "localhost" : get("hostaddr"))
                               : get("host");
    if (!get("port").empty()) out += ":" + get("port");
    if (!get("dbname").empty()) out += "/" + get("dbname");
    return out;
  }
  return "postgresql://" + config.user + "@" + config.host + ":" + std::to_string(config.port) +
         "/" + config.name;
}

}  // namespace smiles::storage
