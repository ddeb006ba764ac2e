// PostgreSQL array literals for unnest($1::text[], ...): one round trip for many rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace smiles::storage {

// Every element quoted and escaped; nullopt is NULL.
inline std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    if (!item) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : *item) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

inline std::string text_array(const std::vector<std::string>& items) {
  return text_array(std::vector<std::optional<std::string>>(items.begin(), items.end()));
}

}  // namespace smiles::storage
