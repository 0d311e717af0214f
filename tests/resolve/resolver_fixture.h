#pragma once

// The resolver tests' fixture: a real store, the group-commit writer to fill the log, and helpers
// to read derived state back. Shared by resolver_test.cc and audience_maintenance_test.cc.

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
#include "profile_store/timeline_summary.h"
#include "resolve/rebuild.h"
#include "resolve/resolver.h"
#include "rocksdb/db.h"
#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::resolve {
namespace resolver_testing {

using identity::Identifier;
using ingest::testing::FixedTime;
using profile_store::ColumnFamily;
using profile_store::FormatProfileId;
using profile_store::Profile;
using profile_store::ProfileId;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kSpace = "default";
namespace type = identity::identifier_type;

inline Identifier Id(std::string_view identifier_type, std::string value) {
  return Identifier{std::string(identifier_type), std::move(value)};
}

inline ProfileId P(uint64_t value) { return ProfileId{value}; }

inline ResolverOptions InBatchesOf(size_t events) {
  ResolverOptions options;
  options.batch_events = events;
  return options;
}

// A key or value with non-printable bytes shown as \xNN, for failure messages.
inline std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string shown;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      shown.push_back(static_cast<char>(c));
    } else {
      shown.append("\\x").push_back(kHex[c >> 4]);
      shown.push_back(kHex[c & 0xf]);
    }
  }
  return shown;
}

// Keys with `prefix` in one column family, in key order.
inline std::map<std::string, std::string> Rows(profile_store::Store& store, ColumnFamily family,
                                               std::string_view prefix = {}) {
  std::map<std::string, std::string> rows;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db(family)->NewIterator(rocksdb::ReadOptions(), store.handle(family)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())); it->Next()) {
    rows.emplace(it->key().ToString(), it->value().ToString());
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return rows;
}

inline std::vector<std::string> Values(const std::map<std::string, std::string>& rows) {
  std::vector<std::string> values;
  for (const auto& [key, value] : rows) values.push_back(value);
  return values;
}

// The value of a trait as stored (minified JSON), or "<absent>".
inline std::string TraitOf(const Profile& profile, const std::string& name) {
  auto it = profile.traits.find(name);
  return it == profile.traits.end() ? "<absent>" : it->second.json;
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto normalizer = identity::Normalizer::Create({});
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    normalizer_ = *std::move(normalizer);
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  // An event of `type` from a source of `channel`, at `seconds` after 2024-01-01 (event time),
  // with a message id unique in the test and a receive time that grows with each event made.
  ingest::CanonicalEvent Event(ingest::EventType event_type, std::string channel, int64_t seconds) {
    ++events_made_;
    ingest::CanonicalEvent event;
    event.message_id = "m-" + std::to_string(events_made_);
    event.type = event_type;
    event.space = std::string(kSpace);
    event.source = channel + "-source";
    event.channel = std::move(channel);
    if (event_type == ingest::EventType::kTrack) event.event = "Viewed";
    event.timestamp = FixedTime(seconds);
    event.received_at = FixedTime(1'000'000 + static_cast<int64_t>(events_made_));
    return event;
  }

  // Appends `events` to the accepted-event log through the group-commit writer; returns the log
  // sequence of the last one.
  uint64_t Append(const std::vector<ingest::CanonicalEvent>& events) {
    std::vector<ingest::LogEntry> entries;
    for (const ingest::CanonicalEvent& event : events) entries.push_back(ingest::MakeLogEntry(event));
    return AppendEntries(std::move(entries));
  }

  // Appends log records as they are (events, commands, damaged records); returns the last one's
  // log sequence.
  uint64_t AppendEntries(std::vector<ingest::LogEntry> entries) {
    if (!writer_) {
      writer_ = std::make_unique<ingest::GroupCommitWriter>(*store_, ingest::GroupCommitOptions{}, metrics_);
      absl::Status started = writer_->Start();
      EXPECT_TRUE(started.ok()) << started;
    }
    std::promise<absl::Status> done;
    absl::Status submitted = writer_->Submit(
        std::move(entries), [&](absl::Status status, std::vector<ingest::EventOutcome> outcomes) {
          for (ingest::EventOutcome outcome : outcomes) {
            if (outcome != ingest::EventOutcome::kAccepted)
              status = absl::InternalError("an event was a duplicate");
          }
          done.set_value(std::move(status));
        });
    EXPECT_TRUE(submitted.ok()) << submitted;
    if (!submitted.ok()) return 0;
    absl::Status written = done.get_future().get();
    EXPECT_TRUE(written.ok()) << written;
    return writer_->log().next_sequence() - 1;
  }

  std::unique_ptr<Resolver> NewResolver(identity::IdentityRules rules = identity::IdentityRules(),
                                        ResolverOptions options = {},
                                        audiences::SpaceAudiences* audiences = nullptr) {
    auto resolver = std::make_unique<Resolver>(*store_, std::string(kSpace), *normalizer_, extractor_,
                                               std::move(rules), options, audiences);
    absl::Status recovered = resolver->Recover();
    EXPECT_TRUE(recovered.ok()) << recovered;
    return resolver;
  }

  static uint64_t CatchUp(Resolver& resolver) {
    absl::StatusOr<uint64_t> applied = resolver.CatchUp();
    EXPECT_TRUE(applied.ok()) << applied.status();
    return applied.ok() ? *applied : 0;
  }

  static std::optional<ProfileId> Lookup(Resolver& resolver, std::string_view identifier_type,
                                         std::string value) {
    auto found = resolver.graph().Lookup(Id(identifier_type, std::move(value)));
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  static std::optional<ProfileId> Canonical(Resolver& resolver, ProfileId id) {
    auto found = resolver.graph().Canonical(id);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::nullopt;
  }

  std::optional<Profile> StoredProfile(ProfileId id) {
    auto record = store_->Get(ColumnFamily::kProfiles, profile_store::ProfileKey(kSpace, id));
    if (absl::IsNotFound(record.status())) return std::nullopt;
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok()) return std::nullopt;
    auto profile = profile_store::DecodeProfile(*record);
    EXPECT_TRUE(profile.ok()) << FormatProfileId(id) << ": " << profile.status();
    return profile.ok() ? std::optional<Profile>(*std::move(profile)) : std::nullopt;
  }

  // Timeline entries of one profile, newest first, as the events API shows their summaries.
  std::vector<std::string> Timeline(ProfileId id) {
    std::vector<std::string> entries;
    for (const std::string& stored :
         Values(Rows(*store_, ColumnFamily::kTimeline, profile_store::TimelinePrefix(kSpace, id)))) {
      absl::StatusOr<profile_store::TimelineSummary> summary = profile_store::DecodeTimelineSummary(stored);
      EXPECT_TRUE(summary.ok()) << summary.status();
      entries.emplace_back();
      if (summary.ok()) profile_store::AppendTimelineSummaryJson(*summary, entries.back());
    }
    return entries;
  }
  // Merge and refused-merge records filed under one profile.
  std::vector<std::string> Records(ProfileId id) {
    return Values(Rows(*store_, ColumnFamily::kMerges, profile_store::MergePrefix(kSpace, id)));
  }
  size_t Count(ColumnFamily family) { return Rows(*store_, family).size(); }

  std::optional<uint64_t> StoredPosition() {
    auto value = store_->Get(ColumnFamily::kMeta, ResolverPositionKey(kSpace));
    if (!value.ok() || value->size() != 8) return std::nullopt;
    return profile_store::ReadBigEndian64(*value);
  }

  // Every derived row: the derived families and the resolver's meta keys.
  std::map<std::string, std::string> DerivedState() {
    std::map<std::string, std::string> state;
    const std::pair<ColumnFamily, const char*> families[] = {{ColumnFamily::kIdentifiers, "identifiers"},
                                                             {ColumnFamily::kProfiles, "profiles"},
                                                             {ColumnFamily::kMerges, "merges"},
                                                             {ColumnFamily::kTimeline, "timeline"},
                                                             {ColumnFamily::kDeadLetter, "dead_letter"}};
    for (const auto& [family, name] : families) {
      for (auto& [key, value] : Rows(*store_, family))
        state.emplace(std::string(name) + "|" + key, std::move(value));
    }
    for (std::string_view prefix : {"resolver/position/", "profiles/next_id/"}) {
      for (auto& [key, value] : Rows(*store_, ColumnFamily::kMeta, prefix))
        state.emplace("meta|" + key, std::move(value));
    }
    return state;
  }

  static void ExpectSameState(const std::map<std::string, std::string>& live,
                              const std::map<std::string, std::string>& rebuilt) {
    EXPECT_EQ(live.size(), rebuilt.size()) << "rows in live vs rebuilt derived state";
    int shown = 0;
    for (const auto& [key, value] : live) {
      auto it = rebuilt.find(key);
      if (it == rebuilt.end()) {
        if (shown++ < 5) ADD_FAILURE() << "only live has " << Printable(key) << " = " << Printable(value);
      } else if (it->second != value) {
        if (shown++ < 5) {
          ADD_FAILURE() << "row " << Printable(key) << " differs:\n  live:    " << Printable(value)
                        << "\n  rebuilt: " << Printable(it->second);
        }
      }
    }
    for (const auto& [key, value] : rebuilt) {
      if (!live.contains(key) && shown++ < 5) ADD_FAILURE() << "only rebuilt has " << Printable(key);
    }
    EXPECT_EQ(shown, 0) << "rows that differ between live ingestion and rebuild";
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
  std::unique_ptr<identity::Normalizer> normalizer_;
  ingest::IdentifierExtractor extractor_;
  ingest::IngestMetrics metrics_;
  std::unique_ptr<ingest::GroupCommitWriter> writer_;
  uint64_t events_made_ = 0;
};

}  // namespace resolver_testing
}  // namespace tessera::resolve
