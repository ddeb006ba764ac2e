#include "smiles/storage/connection_pool.h"

#include <pqxx/pqxx>

#include "smiles/storage/errors.h"

namespace smiles::storage {

PooledConnection::PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
    other.pool_ = nullptr;
  }
  return *this;
}

PooledConnection::~PooledConnection() { release(); }

void PooledConnection::release() noexcept {
  if (pool_ != nullptr && conn_) pool_->give_back(std::move(conn_), broken_);
  pool_ = nullptr;
}

ConnectionPool::ConnectionPool(DatabaseConfig config)
    : config_(std::move(config)), conninfo_(conninfo(config_)) {
  if (config_.pool_size < 1) throw ConfigError("DB_POOL_SIZE must be at least 1");
  if (config_.max_overflow < 0) throw ConfigError("DB_MAX_OVERFLOW must be at least 0");
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<pqxx::connection> ConnectionPool::open() {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    // A broken connection must surface as broken, not reconnect silently and lose
    // its session state (temporary staging tables).
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    return conn;
  } catch (const pqxx::broken_connection& e) {
    throw DatabaseUnavailable("cannot connect to " + describe(config_) + ": " + e.what());
  }
}

PooledConnection ConnectionPool::acquire() {
  return acquire(std::chrono::steady_clock::now() + config_.acquire_timeout);
}

PooledConnection ConnectionPool::acquire(std::chrono::steady_clock::time_point deadline) {
  std::vector<std::unique_ptr<pqxx::connection>> expired;  // closed after the lock is released
  std::unique_lock lock(mutex_);
  expired = take_expired_overflow(std::chrono::steady_clock::now());
  const int cap = config_.pool_size + config_.max_overflow;
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back().conn);
      idle_.pop_back();
      if (conn->is_open()) {
        ++stats_.in_use;
        return PooledConnection(this, std::move(conn));
      }
      --open_;
      ++stats_.broken;
    }
    if (open_ < cap) {
      ++open_;
      lock.unlock();
      try {
        auto conn = open();
        lock.lock();
        ++stats_.created;
        ++stats_.in_use;
        return PooledConnection(this, std::move(conn));
      } catch (...) {
        lock.lock();
        --open_;
        ++stats_.failed;
        available_.notify_one();
        throw;
      }
    }
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= cap) {
      ++stats_.timeouts;
      throw PoolTimeout("no database connection free within the acquire timeout (" +
                        std::to_string(cap) + " in use; raise DB_POOL_SIZE/DB_MAX_OVERFLOW)");
    }
  }
}

std::vector<std::unique_ptr<pqxx::connection>> ConnectionPool::take_expired_overflow(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::unique_ptr<pqxx::connection>> expired;
  while (!idle_.empty() && open_ > config_.pool_size &&
         now - idle_.front().since >= config_.overflow_idle_timeout) {
    expired.push_back(std::move(idle_.front().conn));
    idle_.erase(idle_.begin());
    --open_;
  }
  return expired;
}

void ConnectionPool::give_back(std::unique_ptr<pqxx::connection> conn, bool broken) noexcept {
  std::vector<std::unique_ptr<pqxx::connection>> closing;
  {
    std::lock_guard lock(mutex_);
    --stats_.in_use;
    const auto now = std::chrono::steady_clock::now();
    if (!broken && conn->is_open()) {
      idle_.push_back({std::move(conn), now});
    } else {
      if (broken) ++stats_.broken;
      --open_;
      closing.push_back(std::move(conn));
    }
    auto expired = take_expired_overflow(now);
    for (auto& c : expired) closing.push_back(std::move(c));
    available_.notify_one();
  }
  // Connections close (a network round trip) outside the lock.
}

void ConnectionPool::run(const std::function<void(pqxx::connection&)>& work) {
  for (int attempt = 0;; ++attempt) {
    auto conn = acquire();
    try {
      work(*conn);
      return;
    } catch (const pqxx::broken_connection& e) {
      conn.mark_broken();
      if (attempt >= 1)
        throw DatabaseUnavailable(std::string("database connection lost: ") + e.what());
    } catch (const pqxx::in_doubt_error& e) {
      conn.mark_broken();
      throw DatabaseUnavailable(std::string("connection lost during commit: ") + e.what());
    }
  }
}

PoolStats ConnectionPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = stats_;
  s.idle = static_cast<int>(idle_.size());
  return s;
}

}  // namespace smiles::storage
