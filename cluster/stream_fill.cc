#include "cluster/stream_fill.h"

#include <pthread.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "cluster/event_stream.h"

namespace tessera::cluster {

StreamFill::StreamFill(NatsConnection& nats, double shed_at, std::chrono::milliseconds interval)
    : nats_(nats), shed_at_(shed_at), interval_(interval) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "stream-fill");
    Run();
  });
}

StreamFill::~StreamFill() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

// What JetStream's file store counts for a message beyond its payload: its record framing (about
// 40 bytes), the subject, and the headers a gateway sends (Nats-Msg-Id with 32 hex digits and
// Nats-Expected-Stream with the stream's name, about 85 bytes besides the name). A little over,
// rather than under: shedding a little early is the safe side.
double MessageOverheadBytes(std::string_view space) {
  return 48.0 + static_cast<double>(StreamSubject(space).size() + StreamName(space).size()) + 90.0;
}

double StreamFill::Usage::Fill() const {
  if (!read) return 0;
  double fill = 0;
  if (max_bytes > 0) fill = std::max(fill, bytes / max_bytes);
  if (max_messages > 0) fill = std::max(fill, messages / max_messages);
  return fill;
}

bool StreamFill::Shedding(std::string_view space) {
  std::lock_guard lock(mutex_);
  auto [it, added] = usage_.try_emplace(std::string(space));
  if (added) wake_.notify_all();  // Read it now rather than a second from now.
  return it->second.Fill() >= shed_at_;
}

void StreamFill::Published(std::string_view space, uint64_t bytes, uint64_t messages) {
  std::lock_guard lock(mutex_);
  auto it = usage_.find(std::string(space));
  if (it == usage_.end()) return;
  const double added = static_cast<double>(bytes) + MessageOverheadBytes(space) * static_cast<double>(messages);
  it->second.bytes += added;
  it->second.messages += static_cast<double>(messages);
  it->second.published_bytes += added;
  it->second.published_messages += static_cast<double>(messages);
}

absl::flat_hash_map<std::string, double> StreamFill::Fills() const {
  std::lock_guard lock(mutex_);
  absl::flat_hash_map<std::string, double> fills;
  for (const auto& [space, usage] : usage_) fills[space] = usage.Fill();
  return fills;
}

void StreamFill::Run() {
  EventStream streams(nats_, {});
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::vector<std::pair<std::string, std::pair<double, double>>> spaces;  // Published as each read begins.
    for (const auto& [space, usage] : usage_) {
      spaces.push_back({space, {usage.published_bytes, usage.published_messages}});
    }
    lock.unlock();
    std::vector<std::pair<std::string, StreamState>> read;
    if (nats_.connected()) {
      for (const auto& [space, published] : spaces) {
        absl::StatusOr<StreamState> state = streams.State(space);
        if (state.ok()) read.emplace_back(space, *state);  // Otherwise kept as it was.
      }
    }
    lock.lock();
    for (const auto& [space, state] : read) {
      Usage& usage = usage_[space];
      usage.read = true;
      usage.bytes = static_cast<double>(state.bytes) + (usage.published_bytes - usage.previous_bytes);
      usage.messages = static_cast<double>(state.messages) + (usage.published_messages - usage.previous_messages);
      usage.max_bytes = static_cast<double>(state.max_bytes);
      usage.max_messages = static_cast<double>(state.max_messages);
      for (const auto& [name, published] : spaces) {
        if (name == space) std::tie(usage.previous_bytes, usage.previous_messages) = published;
      }
    }
    const size_t known = usage_.size();
    wake_.wait_for(lock, interval_, [&] { return stopping_ || usage_.size() != known; });
  }
}

}  // namespace tessera::cluster
