// A bounded pool of libpqxx connections. Thread-safe.
//
// Up to pool_size connections stay open; up to max_overflow more are opened under
// load and closed once they have been idle for overflow_idle_timeout (checked
// whenever the pool is used). A connection whose use hit a broken connection
// is marked broken by its user and replaced.
//
// With DatabaseConfig::call_timeout set, run() gives every call a deadline: a call
// still waiting on the server then has its socket shut down, which ends libpq's wait
// (statement_timeout and TCP keepalives cannot: a stopped server process keeps its
// kernel answering TCP), and run() throws DatabaseUnavailable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <pqxx/connection>

#include "smiles/storage/database_config.h"

namespace smiles::storage {

struct PoolStats {
  int idle = 0;
  int in_use = 0;
  std::uint64_t created = 0;   // connections opened since start
  std::uint64_t failed = 0;    // connection attempts that failed
  std::uint64_t broken = 0;    // connections dropped after breaking
  std::uint64_t timeouts = 0;  // acquires that hit their deadline
  std::uint64_t cut_off = 0;   // calls cut off at call_timeout
};

class ConnectionPool;

// RAII handle: the connection goes back to the pool when the handle dies.
class PooledConnection {
 public:
  PooledConnection() = default;
  PooledConnection(PooledConnection&&) noexcept;
  PooledConnection& operator=(PooledConnection&&) noexcept;
  ~PooledConnection();

  pqxx::connection& operator*() const { return *conn_; }
  pqxx::connection* operator->() const { return conn_.get(); }
  // The connection is unusable; it will be closed instead of reused.
  void mark_broken() { broken_ = true; }

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);
  void release() noexcept;

  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(DatabaseConfig config);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits up to the configured acquire timeout. Throws PoolTimeout, or
  // DatabaseUnavailable when a new connection cannot be opened.
  PooledConnection acquire();
  PooledConnection acquire(std::chrono::steady_clock::time_point deadline);

  // Runs `work` on a pooled connection. A broken connection (e.g. after a server
  // restart) is replaced and `work` tried once more; if that fails too, or on any
  // other connectivity failure, throws DatabaseUnavailable.
  void run(const std::function<void(pqxx::connection&)>& work);

  [[nodiscard]] PoolStats stats() const;
  [[nodiscard]] const DatabaseConfig& config() const { return config_; }

 private:
  friend class PooledConnection;
  void give_back(std::unique_ptr<pqxx::connection> conn, bool broken) noexcept;
  std::unique_ptr<pqxx::connection> open();

  DatabaseConfig config_;
  std::string conninfo_;
  struct Watchdog;
  std::unique_ptr<Watchdog> watchdog_;  // when call_timeout is set
  mutable std::mutex mutex_;
  std::condition_variable available_;
  struct Idle {
    std::unique_ptr<pqxx::connection> conn;
    std::chrono::steady_clock::time_point since;
  };
  // Closes overflow connections idle for too long; returns them for closing
  // outside the lock.
  std::vector<std::unique_ptr<pqxx::connection>> take_expired_overflow(
      std::chrono::steady_clock::time_point now);
  std::vector<Idle> idle_;  // oldest first; acquire takes the most recent
  int open_ = 0;            // idle + in use + being opened
  PoolStats stats_;
};

}  // namespace smiles::storage
