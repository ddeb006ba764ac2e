#include "url_parts.h"

#include <cctype>
#include <charconv>

namespace smiles::api {

std::optional<UrlParts> parse_url_parts(std::string_view url, std::string_view plain_scheme,
                                        std::string_view tls_scheme, std::string_view plain_port,
                                        std::string_view tls_port) {
  if (url.size() > 2048) return std::nullopt;
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  // "scheme://" in any case.
  auto strip = [&](std::string_view scheme) -> std::optional<std::string_view> {
    if (url.size() < scheme.size() + 3 || url.substr(scheme.size(), 3) != "://") {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return std::nullopt;
    }
    return url.substr(scheme.size() + 3);
  };
  UrlParts out;
  std::string_view rest;
  if (auto r = strip(tls_scheme)) {
    out.tls = true;
    rest = *r;
  } else if (auto p = strip(plain_scheme)) {
    rest = *p;
  } else {
    return std::nullopt;
  }
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  out.rest = std::string(end == std::string_view::npos ? "" : rest.substr(end));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (port.empty()) {
    out.port = std::string(out.tls ? tls_port : plain_port);
  } else {
    unsigned n = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
      return std::nullopt;
    }
    out.port = std::string(port);
  }
  out.authority = std::string(authority);
  return out;
}

}  // namespace smiles::api
