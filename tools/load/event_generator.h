#pragma once

// EventGenerator makes realistic Segment tracking events for load tests and benchmarks: a mix of
// 70% track, 15% page/screen, 10% identify and 5% alias calls about people drawn from a power law
// (Zipf, exponent 0.8: a few people are very active, most are seen rarely), each event with a unique messageId and
// padded to about `target_event_bytes` of JSON.
//
// Every person has a home channel (web 45%, app 30%, pos 15%, email 10%); a share of people
// (`multi_channel_share`, default 0.45) also use a second channel, for about a third of their events.
// Each event belongs to one channel (channel()), which decides its shape and identifiers: web and
// app events carry a per-channel anonymousId (cookie, app install; app events also context.device.id),
// identified or not; pos and email events always carry the userId. So one person's identifiers are
// stitched only through events that carry several of them, as in real traffic.
//
// Deterministic: the same seed gives the same events (timestamps are relative to a fixed epoch,
// so two runs produce byte-identical bodies). Different seeds give disjoint messageIds.
// Thread-safety: none; use one generator per thread.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace tessera::tools {

// 128 random bits as a version-4-shaped UUID ("xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx"), the way
// client SDKs write anonymous ids.
std::string UuidFromBits(uint64_t high, uint64_t low);

class EventGenerator {
 public:
  // Size of the population people ids are drawn from.
  static constexpr uint64_t kPeople = 1'000'000;

  EventGenerator(uint64_t seed, size_t target_event_bytes, uint64_t people = kPeople,
                 double multi_channel_share = 0.45);

  // One event as a JSON object with a "type" member, usable on /v1/<type> or inside a batch.
  std::string NextEvent();
  // A /v1/batch body: {"batch":[...],"sentAt":"..."} with `events` events.
  std::string NextBatch(size_t events);

  uint64_t events_generated() const { return counter_; }
  // The channel (web, app, pos, email) of the last event generated: the source to send it as.
  std::string_view channel() const { return channel_; }
  // The person the last event is about, in [1, people].
  uint64_t person() const { return person_; }

 private:
  void AppendEvent(std::string& out);
  uint64_t NextPerson();
  std::string_view ChannelFor(uint64_t person);
  std::string_view Pick(const std::string_view* choices, size_t count);

  std::mt19937_64 rng_;
  uint64_t seed_;
  size_t target_event_bytes_;
  uint64_t people_;
  double multi_channel_share_;
  std::string_view channel_;
  uint64_t person_ = 0;
  uint64_t counter_ = 0;
  int64_t clock_ms_;  // Event time of the next event, ms since the Unix epoch.
};

}  // namespace tessera::tools
