// WebSocket push registrations as the Home Assistant component sends them (POST
// /api/websocket/register): the JSON body and the receiver's URL.
#include <nlohmann/json.hpp>

#include "smiles/api/push_hub.h"
#include "smiles/api/router.h"
#include "url_parts.h"

namespace smiles::api {

std::optional<PushUrl> parse_push_url(std::string_view url) {
  auto parts = parse_url_parts(url, "ws", "wss", "80", "443");
  if (!parts) return std::nullopt;
  PushUrl out;
  out.tls = parts->tls;
  out.host = std::move(parts->host);
  out.port = std::move(parts->port);
  std::string target = std::move(parts->rest);
  if (target.empty() || target.front() == '?') target = "/" + target;
  out.without_query = std::string(out.tls ? "wss://" : "ws://") + parts->authority +
                      target.substr(0, target.find('?'));
  out.target = std::move(target);
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
