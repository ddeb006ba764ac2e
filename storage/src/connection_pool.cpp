#include "smiles/storage/connection_pool.h"

#include <sys/socket.h>

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

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

// Shuts down the socket of a call that passed its deadline. One thread per pool,
// started with the pool; a call registers its socket for its duration.
struct ConnectionPool::Watchdog {
  struct Call {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::uint64_t, Call> calls;
  std::uint64_t next_id = 0;
  bool stopping = false;
  std::thread thread{[this] { loop(); }};

  ~Watchdog() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_one();
    thread.join();
  }

  std::uint64_t arm(int fd, std::chrono::steady_clock::time_point deadline) {
    std::lock_guard lock(mutex);
    const auto id = next_id++;
    calls.emplace(id, Call{fd, deadline});
    changed.notify_one();
    return id;
  }

  // Ends the watch; true when the call was cut off. Once this returns the socket is
  // no longer touched.
  bool disarm(std::uint64_t id) {
    std::lock_guard lock(mutex);
    const auto it = calls.find(id);
    const bool fired = it != calls.end() && it->second.fired;
    if (it != calls.end()) calls.erase(it);
    return fired;
  }

  void loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      auto next = std::chrono::steady_clock::time_point::max();
      const auto now = std::chrono::steady_clock::now();
      for (auto& [id, call] : calls) {
        if (call.fired) continue;
        if (call.deadline <= now) {
          call.fired = true;
          ::shutdown(call.fd, SHUT_RDWR);  // the waiting recv/send returns at once
        } else {
          next = std::min(next, call.deadline);
        }
      }
      if (next == std::chrono::steady_clock::time_point::max()) {
        changed.wait(lock);
      } else {
        changed.wait_until(lock, next);
      }
    }
  }
};

ConnectionPool::ConnectionPool(DatabaseConfig config)
    : config_(std::move(config)), conninfo_(conninfo(config_)) {
  if (config_.pool_size < 1) throw ConfigError("DB_POOL_SIZE must be at least 1");
  if (config_.max_overflow < 0) throw ConfigError("DB_MAX_OVERFLOW must be at least 0");
  validate_conninfo(config_);
  if (config_.call_timeout.count() > 0) watchdog_ = std::make_unique<Watchdog>();
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
    throw DatabaseUnavailable("cannot connect to " + describe(config_) + ": " +
                              safe_libpq_message(config_, e.what()));
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
    std::optional<std::uint64_t> watch;
    if (watchdog_ && conn->sock() >= 0) {
      watch = watchdog_->arm(conn->sock(), std::chrono::steady_clock::now() + config_.call_timeout);
    }
    // True when the watchdog cut the call off (the connection is then unusable).
    auto cut_off = [&] {
      if (!watch) return false;
      const bool fired = watchdog_->disarm(*watch);
      watch.reset();
      if (fired) {
        conn.mark_broken();
        std::lock_guard lock(mutex_);
        ++stats_.cut_off;
      }
      return fired;
    };
    try {
      work(*conn);
      cut_off();  // cut just as the work ended: the work is done, the connection gone
      return;
    } catch (...) {
      if (cut_off()) {
        throw DatabaseUnavailable("the database did not answer within " +
                                  std::to_string(config_.call_timeout.count()) +
                                  " ms (DB_TIMEOUT): the call was cut off");
      }
      try {
        throw;
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
}

PoolStats ConnectionPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = stats_;
  s.idle = static_cast<int>(idle_.size());
  return s;
}

}  // namespace smiles::storage
