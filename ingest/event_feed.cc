#include "ingest/event_feed.h"

#include <algorithm>
#include <utility>

namespace tessera::ingest {

EventSummary SummarizeEvent(const CanonicalEvent& event) {
  EventSummary summary;
  summary.time = event.timestamp;
  summary.received_at = event.received_at;
  summary.space = event.space;
  summary.source = event.source;
  summary.channel = event.channel;
  summary.type = std::string(EventTypeName(event.type));
  summary.event = !event.event.empty() ? event.event : event.name;
  summary.message_id = event.message_id;
  summary.user_id = event.user_id;
  summary.anonymous_id = event.anonymous_id;
  return summary;
}

void EventFeed::Subscribe(std::shared_ptr<EventFeedSubscriber> subscriber) {
  std::lock_guard lock(mutex_);
  list_.push_back(std::move(subscriber));
  subscribers_.store(list_.size(), std::memory_order_release);
}

void EventFeed::Unsubscribe(const EventFeedSubscriber* subscriber) {
  std::lock_guard lock(mutex_);
  std::erase_if(list_, [subscriber](const auto& entry) { return entry.get() == subscriber; });
  subscribers_.store(list_.size(), std::memory_order_release);
}

void EventFeed::Publish(const std::vector<EventSummary>& events) const {
  if (events.empty() || !has_subscribers()) return;
  // A copy, so that callbacks run without the lock (a subscriber may unsubscribe from one).
  std::vector<std::shared_ptr<EventFeedSubscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    subscribers = list_;
  }
  for (const auto& subscriber : subscribers) subscriber->OnEvents(events);
}

}  // namespace tessera::ingest
