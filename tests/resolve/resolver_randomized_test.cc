// The resolver on a randomized population: thousands of people, their identifiers spread over
// channels and events, the log shuffled; the graph must find exactly those people again, live and
// on rebuild. (The resolver's rules one story at a time are in resolver_test.cc.)

#include "resolve/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "identity/identifier.h"
#include "identity/identity_graph.h"
#include "identity/normalizer.h"
#include "ingest/accepted_log.h"
#include "ingest/group_commit_writer.h"
#include "ingest/identifier_extractor.h"
#include "pipeline/ingest_pipeline.h"
#include "profile_store/profile.h"
#include "profile_store/store.h"
#include "resolve/rebuild.h"
#include "rocksdb/db.h"
#include "tests/ingest/test_events.h"
#include "tests/resolve/resolver_fixture.h"
#include "tests/support/temp_dir.h"

namespace tessera::resolve {
namespace {

using namespace resolver_testing;  // NOLINT: the fixture and its helpers

struct Person {
  std::vector<Identifier> identifiers;  // [0] is the user id
  uint64_t events = 0;                  // events that carry one of this person's identifiers
};

struct SharedDevice {
  Identifier device;
  int first_person = 0;  // the person whose event with the device comes first in the log
  int second_person = 0;
};

struct Population {
  std::vector<Person> people;
  std::vector<SharedDevice> shared_devices;
  std::vector<ingest::CanonicalEvent> log;  // in log order
  uint64_t dead_letters = 0;                // events without any usable identifier
};

// An event carrying `identifiers` in the Segment fields they come from.
ingest::CanonicalEvent Carrying(const std::vector<Identifier>& identifiers, std::mt19937_64& random) {
  ingest::CanonicalEvent event;
  event.space = std::string(kSpace);
  std::vector<std::string> emails;
  std::string phone;
  std::string device;
  for (const Identifier& identifier : identifiers) {
    if (identifier.type == type::kUserId) {
      event.user_id = identifier.value;
    } else if (identifier.type == type::kAnonymousId) {
      (event.anonymous_id.empty() ? event.anonymous_id : event.previous_id) = identifier.value;
    } else if (identifier.type == type::kEmail) {
      emails.push_back(identifier.value);
    } else if (identifier.type == type::kPhone) {
      phone = identifier.value;
    } else if (identifier.type == type::kDeviceId) {
      device = identifier.value;
    }
  }
  if (!event.previous_id.empty()) {
    event.type = ingest::EventType::kAlias;
  } else if (emails.size() == 2 || (!event.user_id.empty() && random() % 2 == 0)) {
    event.type = ingest::EventType::kIdentify;
  } else {
    event.type = random() % 2 == 0 ? ingest::EventType::kTrack : ingest::EventType::kPage;
  }
  if (event.type == ingest::EventType::kTrack) event.event = "Product Viewed";
  if (event.type == ingest::EventType::kIdentify) {
    event.traits = "{";
    if (emails.size() == 2) event.traits += R"("email":")" + emails[1] + R"(",)";
    event.traits += R"("visits":)" + std::to_string(random() % 100) + "}";
  }
  std::string context_traits;
  if (!emails.empty()) context_traits += R"("email":")" + emails[0] + "\"";
  if (!phone.empty())
    context_traits += std::string(context_traits.empty() ? "" : ",") + R"("phone":")" + phone + "\"";
  std::vector<std::string> members;
  if (!context_traits.empty()) members.push_back(R"("traits":{)" + context_traits + "}");
  if (!device.empty()) members.push_back(R"("device":{"id":")" + device + R"("})");
  if (event.type == ingest::EventType::kIdentify && random() % 3 == 0) {
    members.push_back(R"("$set_once":{"first_seen_visits":)" + std::to_string(random() % 100) + "}");
  }
  if (!members.empty()) {
    event.context = "{";
    for (size_t i = 0; i < members.size(); ++i) event.context += (i ? "," : "") + members[i];
    event.context += "}";
  }
  if (!device.empty()) {
    event.channel = "app";
  } else if (!event.anonymous_id.empty()) {
    event.channel = random() % 3 == 0 ? "app" : "web";
  } else if (!phone.empty()) {
    event.channel = "pos";
  } else if (!emails.empty()) {
    event.channel = random() % 2 == 0 ? "email" : "pos";
  } else {
    event.channel = "web";
  }
  event.source = event.channel + "-source";
  return event;
}

// `people` people, each with one user id, 1-3 anonymous ids, 0-2 emails, 0-1 phone and 0-2 device
// ids (all globally unique), whose events link all of a person's identifiers into one chain; plus
// `shared` devices each seen with the user ids of two different people, and `junk` events that
// are either dead-lettered (only a blocked anonymous id) or carry a blocked email beside a user
// id. The log is shuffled.
Population Generate(int people, int shared, int junk, uint64_t seed) {
  std::mt19937_64 random(seed);
  auto uniform = [&](int low, int high) { return low + static_cast<int>(random() % (high - low + 1)); };
  Population population;
  population.people.resize(people);
  std::vector<ingest::CanonicalEvent> events;
  std::vector<std::vector<int>> owners;  // people each event belongs to
  std::vector<int> shared_of;            // shared device index of each event, or -1
  auto add = [&](ingest::CanonicalEvent event, std::vector<int> event_owners, int shared_index,
                 int64_t seconds) {
    event.timestamp = FixedTime(seconds);
    events.push_back(std::move(event));
    owners.push_back(std::move(event_owners));
    shared_of.push_back(shared_index);
  };

  for (int p = 0; p < people; ++p) {
    const std::string n = std::to_string(p);
    std::vector<Identifier>& ids = population.people[p].identifiers;
    ids.push_back(Id(type::kUserId, "user-" + n));
    for (int k = uniform(1, 3); k > 0; --k)
      ids.push_back(Id(type::kAnonymousId, "anon-" + n + "-" + std::to_string(k)));
    for (int k = uniform(0, 2); k > 0; --k) {
      ids.push_back(Id(type::kEmail, "person" + n + "." + std::to_string(k) + "@example.com"));
    }
    if (uniform(0, 1) == 1) {
      // Korean mobile numbers, +82 10 followed by 8 digits: valid and unique per person.
      char digits[16];
      std::snprintf(digits, sizeof digits, "%08d", 20'000'000 + p);
      ids.push_back(Id(type::kPhone, std::string("+8210") + digits));
    }
    for (int k = uniform(0, 2); k > 0; --k)
      ids.push_back(Id(type::kDeviceId, "device-" + n + "-" + std::to_string(k)));

    // A chain: each identifier, in random order, meets one already placed (the user id first of
    // all) in one event. Pairs that one event cannot carry (two devices, two phones) pick again.
    std::vector<Identifier> rest(ids.begin() + 1, ids.end());
    std::shuffle(rest.begin(), rest.end(), random);
    std::vector<Identifier> placed = {ids[0]};
    int64_t time = uniform(0, 10'000'000);
    for (const Identifier& identifier : rest) {
      std::vector<Identifier> partners;
      for (const Identifier& candidate : placed) {
        if (candidate.type != identifier.type || identifier.type == type::kAnonymousId ||
            identifier.type == type::kEmail) {
          partners.push_back(candidate);
        }
      }
      const Identifier& partner = partners[random() % partners.size()];
      add(Carrying({partner, identifier}, random), {p}, -1, time += uniform(1, 600));
      placed.push_back(identifier);
    }
    // Extra events that carry a single identifier (page views, receipts, app opens).
    for (int k = uniform(0, 3); k > 0; --k) {
      add(Carrying({ids[random() % ids.size()]}, random), {p}, -1, time += uniform(1, 600));
    }
  }

  for (int s = 0; s < shared; ++s) {
    const int first = uniform(0, people - 1);
    int second = uniform(0, people - 2);
    if (second >= first) ++second;
    const Identifier device = Id(type::kDeviceId, "shared-device-" + std::to_string(s));
    population.shared_devices.push_back({device, first, second});
    for (int p : {first, second}) {
      add(Carrying({population.people[p].identifiers[0], device}, random), {p}, s, uniform(0, 10'000'000));
    }
  }

  for (int j = 0; j < junk; ++j) {
    if (j % 2 == 0) {
      ingest::CanonicalEvent event;
      event.space = std::string(kSpace);
      event.type = ingest::EventType::kPage;
      event.channel = "web";
      event.source = "web-source";
      event.anonymous_id = "undefined";
      ++population.dead_letters;
      add(std::move(event), {}, -1, uniform(0, 10'000'000));
    } else {
      const int p = uniform(0, people - 1);
      ingest::CanonicalEvent event = Carrying({population.people[p].identifiers[0]}, random);
      event.type = ingest::EventType::kIdentify;
      event.event.clear();
      event.traits = R"({"email":"test@test.com"})";
      add(std::move(event), {p}, -1, uniform(0, 10'000'000));
    }
  }

  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  std::vector<bool> shared_seen(shared, false);
  for (size_t position = 0; position < order.size(); ++position) {
    const size_t i = order[position];
    ingest::CanonicalEvent& event = events[i];
    event.message_id = "msg-" + std::to_string(position);
    event.received_at = FixedTime(20'000'000 + static_cast<int64_t>(position));
    for (int p : owners[i]) ++population.people[p].events;
    if (const int s = shared_of[i]; s >= 0 && !shared_seen[s]) {
      // The device goes with whichever of its two users' events the log holds first.
      shared_seen[s] = true;
      SharedDevice& device = population.shared_devices[s];
      if (owners[i][0] != device.first_person) std::swap(device.first_person, device.second_person);
    }
    population.log.push_back(std::move(event));
  }
  return population;
}

class ResolverRandomizedTest : public ResolverTest {
 protected:
  // Checks that the graph partitions identifiers exactly as people do, that each person's profile
  // counted exactly their events, and that each shared device went with its first user.
  void ExpectPeopleFound(Resolver& resolver, const Population& population) {
    std::map<ProfileId, size_t> owner;
    size_t wrong = 0;
    for (size_t p = 0; p < population.people.size() && wrong < 10; ++p) {
      const Person& person = population.people[p];
      const std::optional<ProfileId> profile = Lookup(resolver, type::kUserId, person.identifiers[0].value);
      if (!profile) {
        ADD_FAILURE() << "person " << p << ": " << ToString(person.identifiers[0])
                      << " resolves to no profile";
        ++wrong;
        continue;
      }
      for (const Identifier& identifier : person.identifiers) {
        const std::optional<ProfileId> found = Lookup(resolver, identifier.type, identifier.value);
        if (found != profile) {
          ADD_FAILURE() << "person " << p << ": " << ToString(identifier) << " resolves to "
                        << (found ? FormatProfileId(*found) : "nothing") << ", their user id to "
                        << FormatProfileId(*profile);
          ++wrong;
        }
      }
      if (auto [it, inserted] = owner.emplace(*profile, p); !inserted) {
        ADD_FAILURE() << "people " << it->second << " and " << p << " share profile "
                      << FormatProfileId(*profile);
        ++wrong;
      }
      std::optional<Profile> stored = StoredProfile(*profile);
      if (!stored || stored->event_count != person.events) {
        ADD_FAILURE() << "person " << p << ": profile " << FormatProfileId(*profile) << " counted "
                      << (stored ? stored->event_count : 0) << " events, the person had " << person.events;
        ++wrong;
      }
    }
    ASSERT_EQ(wrong, 0u) << "stopped after the first failures";
    for (const SharedDevice& shared : population.shared_devices) {
      const std::optional<ProfileId> expected =
          Lookup(resolver, type::kUserId, population.people[shared.first_person].identifiers[0].value);
      EXPECT_EQ(Lookup(resolver, shared.device.type, shared.device.value), expected)
          << ToString(shared.device) << " should stay with person " << shared.first_person;
    }

    size_t live = 0;
    for (const auto& [key, record] : Rows(*store_, ColumnFamily::kProfiles)) {
      auto profile = profile_store::DecodeProfile(record);
      ASSERT_TRUE(profile.ok()) << profile.status();
      live += !profile->merged_into.has_value();
    }
    EXPECT_EQ(live, population.people.size()) << "one live profile per person, the rest redirects";
    size_t identifiers = population.shared_devices.size();
    for (const Person& person : population.people) identifiers += person.identifiers.size();
    EXPECT_EQ(Count(ColumnFamily::kIdentifiers), identifiers) << "every identifier linked exactly once";
    EXPECT_EQ(Count(ColumnFamily::kDeadLetter), population.dead_letters);
    EXPECT_EQ(Count(ColumnFamily::kTimeline), population.log.size() - population.dead_letters);
    EXPECT_EQ(Lookup(resolver, type::kEmail, "test@test.com"), std::nullopt);
  }
};

TEST_F(ResolverRandomizedTest, ShuffledLogOfThreeThousandPeopleResolvesToExactlyThem) {
  const Population population = Generate(3000, /*shared=*/0, /*junk=*/0, /*seed=*/0x7e55e7a);
  for (const Person& person : population.people) {
    for (const Identifier& identifier : person.identifiers) {
      ASSERT_EQ(normalizer_->Normalize(identifier.type, identifier.value).value, identifier.value)
          << "the generator must produce normalized identifiers: " << ToString(identifier);
    }
  }

  // Live-like: the log grows while the resolver catches up now and then.
  auto resolver = NewResolver(identity::IdentityRules(), InBatchesOf(500));
  uint64_t applied = 0;
  for (size_t begin = 0; begin < population.log.size(); begin += 2000) {
    const size_t end = std::min(population.log.size(), begin + 2000);
    Append(std::vector<ingest::CanonicalEvent>(population.log.begin() + begin, population.log.begin() + end));
    if ((begin / 2000) % 2 == 1) applied += CatchUp(*resolver);
  }
  applied += CatchUp(*resolver);
  ASSERT_EQ(applied, population.log.size());

  RecordProperty("events", static_cast<int>(population.log.size()));
  RecordProperty("merges", static_cast<int>(resolver->metrics().merges.load()));
  ExpectPeopleFound(*resolver, population);
  EXPECT_EQ(resolver->metrics().refused_merges.load(), 0u) << "no rule conflicts in this population";
  EXPECT_EQ(resolver->metrics().profiles_created.load() - resolver->metrics().merges.load(), 3000u)
      << "every profile created beyond one per person must have been merged away";
}

TEST_F(ResolverRandomizedTest, LiveIngestionAndRebuildGiveIdenticalGraphs) {
  const Population population = Generate(3000, /*shared=*/150, /*junk=*/60, /*seed=*/0xdecaf);

  // Live: the pipeline with its background resolver, small caches and small batches, restarted
  // once in the middle of the log.
  pipeline::PipelineOptions live_options;
  live_options.spaces = {std::string(kSpace)};
  live_options.resolver.batch_events = 97;
  live_options.resolver.graph = {.identifier_cache_entries = 500, .profile_cache_entries = 100};
  live_options.resolver.prefetch = true;  // Records prepared ahead on a second thread.
  uint64_t applied = 0;
  uint64_t live_profiles = 0;
  uint64_t live_merges = 0;
  uint64_t live_refused = 0;
  auto ingest = [&](size_t from, size_t to) {
    ingest::IngestMetrics metrics;
    pipeline::IngestPipeline pipeline(*store_, live_options, metrics);
    ASSERT_TRUE(pipeline.Start().ok());
    // Requests of up to 100 consecutive events from the same channel, so that log order is kept.
    for (size_t begin = from; begin < to;) {
      size_t end = begin + 1;
      while (end < to && end - begin < 100 && population.log[end].channel == population.log[begin].channel)
        ++end;
      ingest::ParsedRequest request;
      request.events.assign(population.log.begin() + begin, population.log.begin() + end);
      for (size_t i = 0; i < request.events.size(); ++i) request.index_of.push_back(i);
      request.event_count = request.events.size();
      const std::string channel = population.log[begin].channel;
      std::promise<pipeline::IngestResult> accepted;
      pipeline.Accept(ingest::SourceRef{channel + "-source", std::string(kSpace), channel},
                      std::move(request), false,
                      [&](pipeline::IngestResult result) { accepted.set_value(std::move(result)); });
      pipeline::IngestResult result = accepted.get_future().get();
      ASSERT_TRUE(result.status.ok()) << result.status;
      ASSERT_EQ(result.accepted.size(), end - begin);
      begin = end;
    }
    pipeline.Stop();  // drains the resolver
    Resolver* resolver = pipeline.resolver(kSpace);
    ASSERT_NE(resolver, nullptr);
    applied += resolver->metrics().events_applied.load();
    live_profiles += resolver->metrics().profiles_created.load();
    live_merges += resolver->metrics().merges.load();
    live_refused += resolver->metrics().refused_merges.load();
  };
  const size_t middle = population.log.size() * 2 / 5;
  ingest(0, middle);
  if (HasFatalFailure()) return;
  ingest(middle, population.log.size());
  if (HasFatalFailure()) return;
  ASSERT_EQ(applied, population.log.size()) << "every event applied once across the restart";
  EXPECT_EQ(live_refused, population.shared_devices.size())
      << "each shared device is refused exactly once, for its second user";
  {
    auto reader = NewResolver();
    EXPECT_EQ(CatchUp(*reader), 0u) << "the live resolver left nothing behind";
    ExpectPeopleFound(*reader, population);
  }
  RecordProperty("events", static_cast<int>(population.log.size()));
  RecordProperty("merges", static_cast<int>(live_merges));
  const std::map<std::string, std::string> live = DerivedState();

  // Rebuild: fresh derived state from the same log, under the same rules but other tuning, and
  // with every record prepared inline instead of ahead on a second thread.
  pipeline::PipelineOptions rebuild_options;
  ASSERT_FALSE(rebuild_options.resolver.prefetch);
  absl::StatusOr<RebuildReport> report = Rebuild(*store_, rebuild_options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->spaces, ElementsAre(std::string(kSpace)));
  EXPECT_EQ(report->events, population.log.size());
  EXPECT_EQ(report->dead_letters, population.dead_letters);
  EXPECT_EQ(report->profiles, live_profiles);
  EXPECT_EQ(report->merges, live_merges);
  const std::map<std::string, std::string> rebuilt = DerivedState();

  ExpectSameState(live, rebuilt);
  EXPECT_GT(live_merges, 0u) << "the population was meant to cause merges";
}

}  // namespace
}  // namespace tessera::resolve
