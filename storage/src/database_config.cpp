#include "smiles/storage/database_config.h"

namespace smiles::storage {

namespace {
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

std::string describe(const DatabaseConfig& config) {
  if (!config.url.empty()) {
    // Hide a password in a URI (user:password@host) or a key=value string.
    std::string url = config.url;
    if (const auto scheme = url.find("://"); scheme != std::string::npos) {
      const auto at = url.find('@', scheme);
      const auto colon = url.find(':', scheme + 3);
      if (at != std::string::npos && colon != std::string::npos && colon < at) {
        url.replace(colon + 1, at - colon - 1, "***");
      }
    }
    if (const auto pw = url.find("password="); pw != std::string::npos) {
      const auto end = url.find_first_of(" &", pw);
      url.replace(pw + 9, (end == std::string::npos ? url.size() : end) - pw - 9, "***");
    }
    return url;
  }
  return "postgresql://" + config.user + "@" + config.host + ":" + std::to_string(config.port) +
         "/" + config.name;
}

}  // namespace smiles::storage
