// WebSocket push registrations as the Home Assistant component sends them (POST
// /api/websocket/register): the JSON body and the receiver's URL.
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "smiles/api/push_hub.h"
#include "smiles/api/router.h"

namespace smiles::api {

std::optional<PushUrl> parse_push_url(std::string_view url) {
  if (url.size() > 2048) return std::nullopt;
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  auto starts = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  PushUrl out;
  std::string_view rest;
  if (starts("wss://")) {
    out.tls = true;
    rest = url.substr(6);
  } else if (starts("ws://")) {
    rest = url.substr(5);
  } else {
    return std::nullopt;
  }
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  std::string target(end == std::string_view::npos ? "" : rest.substr(end));
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
    out.port = out.tls ? "443" : "80";
  } else {
    unsigned n = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
      return std::nullopt;
    }
    out.port = std::string(port);
  }
  if (target.empty() || target.front() == '?') target = "/" + target;
  out.target = target;
  out.without_query = std::string(out.tls ? "wss://" : "ws://") + std::string(authority) +
                      target.substr(0, target.find('?'));
  return out;
}

std::variant<PushReceiver, Response> parse_push_registration(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return error_response(400, "invalid_json",
                          "the body must be a JSON object: {\"websocket_url\": \"ws://...\", "
                          "\"name\": \"...\"}");
  }
  const auto url = j.find("websocket_url");
  if (url == j.end() || !url->is_string() || url->get_ref<const std::string&>().empty()) {
    return error_response(400, "missing_websocket_url", "websocket_url (a string) is required");
  }
  PushReceiver r;
  r.url = url->get<std::string>();
  if (!parse_push_url(r.url)) {
    return error_response(400, "invalid_websocket_url",
                          "websocket_url must be a ws:// or wss:// URL with a host (and no "
                          "credentials or spaces)");
  }
  r.name = "Unknown";  // the Python bridge's default
  if (const auto name = j.find("name"); name != j.end() && !name->is_null()) {
    if (!name->is_string() || name->get_ref<const std::string&>().size() > 100) {
      return error_response(400, "invalid_name", "name must be a string of at most 100 bytes");
    }
    r.name = name->get<std::string>();
  }
  return r;
}

}  // namespace smiles::api
