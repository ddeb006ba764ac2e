// The storage layer's two checksums, defined once: FNV-1a 64 of bytes (migration
// SQL, archive files) and an order-independent checksum of rows computed by
// PostgreSQL (import verify, archive manifests).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace smiles::storage {

class Fnv1a64 {
 public:
  void update(std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  [[nodiscard]] std::string hex() const {  // 16 hex digits
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// SQL answering the checksum of `row_text` (an expression over the rows of `from`):
// the sum of a 60-bit slice of each row's md5, as hex; "0" for no rows.
inline std::string rows_checksum_sql(const std::string& row_text, const std::string& from) {
  return "SELECT coalesce(to_hex((sum(('x' || left(md5(" + row_text +
         "), 15))::bit(60)::bigint) % 1152921504606846976)::bigint), '0') FROM " + from;
}

}  // namespace smiles::storage
