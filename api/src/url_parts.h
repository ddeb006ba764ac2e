// What the push receivers' URLs (ws://, wss://) and the InfluxDB URL (http://,
// https://) share: scheme, authority and the rest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smiles::api {

struct UrlParts {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;  // the scheme's default when not given
  std::string authority;
  std::string rest;  // path, query (a fragment is cut off); may be empty
};

// nullopt unless `url` starts with `plain_scheme`:// or `tls_scheme`:// (any case) and
// has a host and an optional port 1-65535, no user info, no spaces or control
// characters, at most 2048 bytes.
std::optional<UrlParts> parse_url_parts(std::string_view url, std::string_view plain_scheme,
                                        std::string_view tls_scheme, std::string_view plain_port,
                                        std::string_view tls_port);

}  // namespace smiles::api
