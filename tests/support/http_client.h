// Test support: a blocking HTTP/1.1 client on Boost.Beast.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace smiles::test {

struct HttpResult {
  int status = 0;  // 0 when the connection failed or closed without an answer
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

HttpResult http_get(std::uint16_t port, const std::string& target,
                    const std::map<std::string, std::string>& headers = {},
                    const std::string& method = "GET", const std::string& body = "");

}  // namespace smiles::test
