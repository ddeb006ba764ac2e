// What the router's two files share: the state of one call and JSON answers.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "smiles/api/router.h"

namespace smiles::api {

struct Router::Call {
  std::vector<std::string> params;  // the {name} segments, in order
  std::map<std::string, std::string> query;
  const Request* request = nullptr;
  Timestamp now{};
};

// A JSON answer; bytes that are not UTF-8 (paths and parameters are echoed in error
// messages) become U+FFFD instead of failing the answer.
Response json_response(const nlohmann::json& body, int status = 200);

}  // namespace smiles::api
