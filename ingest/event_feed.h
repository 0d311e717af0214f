#pragma once

// EventFeed tells live observers (the console's live tail, GET /v1/tail) about events as they
// become durable. The pipeline builds a small summary of each event only while someone is
// subscribed, and publishes the summaries of the events the log accepted (not duplicates) right
// after their synced write, on the writer thread.
//
// Guarantees: Publish never blocks on a subscriber's I/O: a subscriber must only queue what it is
// given (bounded, see api/tail_handler.h) and hand off to its own thread. Summaries carry no
// traits, properties or contact identifiers (emails, phones): only what a screen showing
// arrivals needs.
//
// Thread-safety: every method may be called from any thread. Subscribers are called outside the
// feed's lock, so one may unsubscribe (itself or another) from its callback.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/event.h"

namespace tessera::ingest {

// What the live tail shows of one accepted event.
struct EventSummary {
  Timestamp time{};         // Event time (clock skew corrected).
  Timestamp received_at{};  // When Tessera received it.
  std::string space = {};
  std::string source = {};   // The write key's source name.
  std::string channel = {};  // web, app, pos, email, social, server.
  std::string type = {};     // track, identify, page, screen, group, alias.
  std::string event = {};    // The track event's name, or the page/screen name.
  std::string message_id = {};
  std::string user_id = {};
  std::string anonymous_id = {};
};

// Builds the summary of an event whose space, source and channel are set.
EventSummary SummarizeEvent(const CanonicalEvent& event);

class EventFeedSubscriber {
 public:
  virtual ~EventFeedSubscriber() = default;
  // Called on the log writer's thread with events in log order; must not block.
  virtual void OnEvents(const std::vector<EventSummary>& events) = 0;
};

class EventFeed {
 public:
  void Subscribe(std::shared_ptr<EventFeedSubscriber> subscriber);
  // After this returns, `subscriber` is not called again except by a Publish already under way,
  // which holds its own reference.
  void Unsubscribe(const EventFeedSubscriber* subscriber);

  // Cheap enough for every request: when false, the pipeline builds no summaries.
  bool has_subscribers() const { return subscribers_.load(std::memory_order_acquire) > 0; }
  size_t subscriber_count() const { return subscribers_.load(std::memory_order_acquire); }

  void Publish(const std::vector<EventSummary>& events) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<EventFeedSubscriber>> list_;
  std::atomic<size_t> subscribers_{0};
};

}  // namespace tessera::ingest
