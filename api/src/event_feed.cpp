#include "smiles/api/event_feed.h"

#include <algorithm>

namespace smiles::api {

std::vector<std::string> EventSubscription::take() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(std::make_move_iterator(pending_.begin()),
                               std::make_move_iterator(pending_.end()));
  pending_.clear();
  return out;
}

void EventSubscription::on_message(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

bool EventSubscription::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

std::function<void()> EventSubscription::push(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (pending_.size() >= max_pending_) {
    overflowed_ = true;
    pending_.clear();
  } else {
    pending_.push_back(message);
  }
  return wake_;
}

std::size_t EventFeed::prune() {
  std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
  return subscribers_.size();
}

std::shared_ptr<EventSubscription> EventFeed::subscribe() {
  std::lock_guard lock(mutex_);
  if (prune() >= max_subscribers_) return nullptr;
  auto sub = std::make_shared<EventSubscription>(max_pending_);
  if (!latest_.empty()) sub->push(latest_);
  subscribers_.push_back(sub);
  return sub;
}

void EventFeed::publish(const std::string& message) {
  std::vector<std::shared_ptr<EventSubscription>> live;
  {
    std::lock_guard lock(mutex_);
    latest_ = message;
    prune();
    for (const auto& w : subscribers_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& s : live) {
    if (const auto wake = s->push(message)) wake();
  }
}

std::size_t EventFeed::subscribers() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                                [](const auto& w) { return !w.expired(); }));
}

}  // namespace smiles::api
