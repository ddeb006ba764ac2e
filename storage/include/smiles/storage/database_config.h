// Where the database is and how many connections to keep. Filled once at the edge
// (bridge/ reads DATABASE_URL or DB_HOST/DB_PORT/... and flags) and passed in.
#pragma once

#include <chrono>
#include <string>

namespace smiles::storage {

struct DatabaseConfig {
  std::string url;  // libpq URI or key=value conninfo; when set, the fields below are ignored
  std::string host = "localhost";
  int port = 5432;
  std::string name = "hoymiles";
  std::string user = "hoymiles";
  std::string password;
  int pool_size = 5;      // connections kept open
  int max_overflow = 10;  // extra connections allowed under load
  // An overflow connection stays open for reuse until it has been idle this long:
  // closing it on every return would cost a server process per request under load.
  std::chrono::milliseconds overflow_idle_timeout{30000};
  std::chrono::seconds connect_timeout{5};
  // Longest a call through ConnectionPool::run() may take before its connection is
  // cut (the server may be hung: stopped, swapping, behind a dead link). 0: no limit.
  std::chrono::milliseconds call_timeout{0};
  std::chrono::milliseconds acquire_timeout{5000};
};

// libpq conninfo for the config (values quoted as libpq requires).
std::string conninfo(const DatabaseConfig& config);
// Throws ConfigError when libpq cannot read the connection string; the message
// shows no part of it that could be the password.
void validate_conninfo(const DatabaseConfig& config);
// libpq's message about a connection attempt, with every quoted fragment hidden but
// keywords and the host, port, user and database (values may echo the password).
std::string safe_libpq_message(const DatabaseConfig& config, const std::string& message);
// user@host:port/database, rebuilt from the parsed string (never the password), for
// logs and error messages.
std::string describe(const DatabaseConfig& config);

}  // namespace smiles::storage
