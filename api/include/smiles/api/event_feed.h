// Server-Sent Events for the dashboard (GET /api/events): the bridge publishes one
// message per poll cycle; each subscriber (an open /api/events answer) gets every
// message, starting with the latest one. Bounded: at most max_subscribers at once,
// and a subscriber that falls max_pending messages behind (a stalled client) is
// marked overflowed and dropped by the server.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace smiles::api {

class EventSubscription {
 public:
  explicit EventSubscription(std::size_t max_pending) : max_pending_(max_pending) {}
  // The messages not taken yet, oldest first.
  std::vector<std::string> take();
  // Called on the publishing thread after each message; keep it short (post work).
  void on_message(std::function<void()> wake);
  [[nodiscard]] bool overflowed() const;

 private:
  friend class EventFeed;
  // Returns the wake function to call (outside the lock), or nothing.
  std::function<void()> push(const std::string& message);

  mutable std::mutex mutex_;
  std::deque<std::string> pending_;
  std::function<void()> wake_;
  std::size_t max_pending_;
  bool overflowed_ = false;
};

class EventFeed {
 public:
  explicit EventFeed(std::size_t max_subscribers = 32, std::size_t max_pending = 16)
      : max_subscribers_(max_subscribers), max_pending_(max_pending) {}

  // A new subscription holding the latest message, or nullptr when max_subscribers
  // are open. It leaves the feed when the last reference to it goes.
  std::shared_ptr<EventSubscription> subscribe();
  void publish(const std::string& message);
  [[nodiscard]] std::size_t subscribers() const;
  [[nodiscard]] std::size_t max_subscribers() const { return max_subscribers_; }

 private:
  std::size_t prune();  // drops expired subscriptions (mutex_ held); returns the live count

  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<EventSubscription>> subscribers_;
  std::string latest_;
  std::size_t max_subscribers_;
  std::size_t max_pending_;
};

}  // namespace smiles::api
