#include "profile_store/profile_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "tests/support/temp_dir.h"

namespace tessera::profile_store {
namespace {

constexpr std::string_view kSpace = "acme";

Timestamp At(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

struct Event {
  ProfileId profile;
  int64_t time;
  uint64_t sequence;
  std::string type = "track";
  std::string event = "Clicked";
  std::string channel = "web";
};

TimelineSummary Summary(const Event& e) {
  return TimelineSummary{
      .sequence = e.sequence, .type = e.type, .event = e.event, .channel = e.channel, .warnings = {}};
}

// The stored form, as the resolver writes it.
std::string EncodedSummary(const Event& e) {
  std::string bytes;
  EncodeTimelineSummary(Summary(e), bytes);
  return bytes;
}

class ProfileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.path() + "/db", .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    reader_ = std::make_unique<ProfileReader>(*store_);
  }

  void Write(rocksdb::WriteBatch& batch) { ASSERT_TRUE(store_->Write(batch).ok()); }

  void PutProfile(const Profile& profile) {
    std::string record;
    EncodeProfile(profile, record);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kProfiles), ProfileKey(kSpace, profile.id), record);
    Write(batch);
  }
  void PutRedirect(uint64_t from, uint64_t into) {
    Profile redirect;
    redirect.id = ProfileId{from};
    redirect.merged_into = ProfileId{into};
    PutProfile(redirect);
  }
  void PutIdentifier(std::string_view type, std::string_view value, uint64_t id) {
    std::string encoded;
    AppendBigEndian64(encoded, id);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kIdentifiers), IdentifierKey(kSpace, type, value), encoded);
    Write(batch);
  }
  void PutEvents(const std::vector<Event>& events) {
    rocksdb::WriteBatch batch;
    for (const Event& e : events) {
      batch.Put(store_->handle(ColumnFamily::kTimeline),
                TimelineKey(kSpace, e.profile, At(e.time), e.sequence), EncodedSummary(e));
    }
    Write(batch);
  }

  // Pages through the whole timeline, checking every page's size and order.
  std::vector<std::pair<int64_t, uint64_t>> ReadAll(const Profile& profile, const TimelineFilter& filter,
                                                    size_t limit) {
    std::vector<std::pair<int64_t, uint64_t>> seen;
    std::optional<TimelineCursor> cursor;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = reader_->Timeline(kSpace, profile, filter, limit, cursor);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->entries.size(), limit);
      for (const TimelineEntry& entry : page->entries) {
        seen.emplace_back(entry.time.time_since_epoch().count(), entry.sequence);
      }
      if (!page->next) break;
      EXPECT_EQ(page->entries.size(), limit) << "a page with a next cursor should be full";
      cursor = DecodeCursor(EncodeCursor(*page->next));
      EXPECT_TRUE(cursor.has_value());
    }
    return seen;
  }

  // A profile 1 that absorbed profile 2 (which now redirects to 1).
  Profile MergedPair() {
    Profile winner;
    winner.id = ProfileId{1};
    winner.merged_from = {ProfileId{2}};
    PutProfile(winner);
    PutRedirect(2, 1);
    return winner;
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ProfileReader> reader_;
};

std::vector<std::pair<int64_t, uint64_t>> NewestFirst(const std::vector<Event>& events) {
  std::vector<std::pair<int64_t, uint64_t>> expected;
  for (const Event& e : events) expected.emplace_back(e.time, e.sequence);
  std::sort(expected.begin(), expected.end(), std::greater<>());
  return expected;
}

TEST_F(ProfileReaderTest, IdentifierResolvesThroughRedirectChain) {
  Profile canonical;
  canonical.id = ProfileId{3};
  canonical.event_count = 7;
  PutProfile(canonical);
  PutRedirect(1, 2);
  PutRedirect(2, 3);
  PutIdentifier("email", "ann@example.com", 1);

  auto found = reader_->FindByIdentifier(kSpace, "email", "ann@example.com");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value()) << "a known identifier must resolve";
  EXPECT_EQ((*found)->id, ProfileId{3}) << "the redirect chain 1 -> 2 -> 3 must be followed to the end";
  EXPECT_FALSE((*found)->merged_into.has_value()) << "the canonical profile, not a redirect record";
  EXPECT_EQ((*found)->event_count, 7u);

  auto loaded = reader_->Load(kSpace, ProfileId{1});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->id, ProfileId{3}) << "Load returns the canonical profile, not the redirect";
  EXPECT_FALSE((*loaded)->merged_into.has_value());
  EXPECT_EQ((*loaded)->event_count, 7u);
}

TEST_F(ProfileReaderTest, UnknownIdentifierAndProfileAreNullopt) {
  auto found = reader_->FindByIdentifier(kSpace, "email", "nobody@example.com");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());
  PutIdentifier("email", "ann@example.com", 1);
  auto other_type = reader_->FindByIdentifier(kSpace, "phone", "ann@example.com");
  ASSERT_TRUE(other_type.ok());
  EXPECT_FALSE(other_type->has_value()) << "the identifier type is part of the key";
  auto canonical = reader_->Canonical(kSpace, ProfileId{42});
  ASSERT_TRUE(canonical.ok());
  EXPECT_FALSE(canonical->has_value());
  auto loaded = reader_->Load(kSpace, ProfileId{42});
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(ProfileReaderTest, RedirectLoopIsDataLoss) {
  PutRedirect(1, 2);
  PutRedirect(2, 1);
  auto canonical = reader_->Canonical(kSpace, ProfileId{1});
  EXPECT_TRUE(absl::IsDataLoss(canonical.status())) << canonical.status();
}

TEST_F(ProfileReaderTest, TimelinePagesMergedProfilesNewestFirstExactlyOnce) {
  const Profile winner = MergedPair();
  std::vector<Event> events = {
      {ProfileId{1}, 100, 1}, {ProfileId{2}, 150, 2}, {ProfileId{1}, 150, 3}, {ProfileId{2}, 200, 4},
      {ProfileId{2}, 50, 5},  {ProfileId{1}, 300, 6}, {ProfileId{2}, 300, 7}, {ProfileId{1}, 10, 8},
  };
  // A profile not merged into the winner must not show up.
  PutEvents(events);
  PutEvents({{ProfileId{9}, 250, 9}});

  EXPECT_EQ(ReadAll(winner, {}, 3), NewestFirst(events));
  EXPECT_EQ(ReadAll(winner, {}, 1), NewestFirst(events));
  EXPECT_EQ(ReadAll(winner, {}, 8), NewestFirst(events));
  EXPECT_EQ(ReadAll(winner, {}, 100), NewestFirst(events));

  auto page = reader_->Timeline(kSpace, winner, {}, 8, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->next.has_value()) << "no cursor when the page holds the last entry";
  EXPECT_EQ(page->entries[0].profile, ProfileId{2}) << "(300, 7) is profile 2's";
  EXPECT_EQ(page->entries[0].summary, Summary(events[6]));
}

TEST_F(ProfileReaderTest, CursorIsAPositionWhileEventsArrive) {
  const Profile winner = MergedPair();
  std::vector<Event> events = {
      {ProfileId{1}, 100, 1}, {ProfileId{2}, 200, 2}, {ProfileId{1}, 300, 3},
      {ProfileId{2}, 400, 4}, {ProfileId{1}, 500, 5}, {ProfileId{2}, 600, 6},
  };
  PutEvents(events);

  auto first = reader_->Timeline(kSpace, winner, {}, 3, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->entries.size(), 3u);
  ASSERT_TRUE(first->next.has_value());
  EXPECT_EQ(first->next->time, At(400));
  EXPECT_EQ(first->next->sequence, 4u);

  // Between pages: one event newer than the cursor, some older (one at the cursor's own time).
  PutEvents({{ProfileId{1}, 700, 7}, {ProfileId{2}, 250, 8}, {ProfileId{1}, 400, 3}, {ProfileId{2}, 50, 9}});

  std::vector<std::pair<int64_t, uint64_t>> rest;
  std::optional<TimelineCursor> cursor = DecodeCursor(EncodeCursor(*first->next));
  while (cursor) {
    auto page = reader_->Timeline(kSpace, winner, {}, 3, cursor);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const TimelineEntry& entry : page->entries)
      rest.emplace_back(entry.time.time_since_epoch().count(), entry.sequence);
    cursor = page->next;
  }
  const std::vector<std::pair<int64_t, uint64_t>> expected = {{400, 3}, {300, 3}, {250, 8},
                                                              {200, 2}, {100, 1}, {50, 9}};
  EXPECT_EQ(rest, expected) << "older arrivals appear, the newer one (700) does not, nothing repeats";
}

TEST_F(ProfileReaderTest, SameEventInTwoMergedTimelinesIsReturnedOnce) {
  const Profile winner = MergedPair();
  PutEvents({{ProfileId{1}, 100, 1}, {ProfileId{2}, 100, 1}, {ProfileId{2}, 90, 2}, {ProfileId{1}, 80, 3}});
  const std::vector<std::pair<int64_t, uint64_t>> expected = {{100, 1}, {90, 2}, {80, 3}};
  EXPECT_EQ(ReadAll(winner, {}, 1), expected);
  EXPECT_EQ(ReadAll(winner, {}, 10), expected);
}

TEST_F(ProfileReaderTest, TimelineFilters) {
  const Profile winner = MergedPair();
  std::vector<Event> events = {
      {ProfileId{1}, 100, 1, "identify", "", "server"},     {ProfileId{2}, 200, 2, "track", "Clicked", "web"},
      {ProfileId{1}, 300, 3, "track", "Bought", "mobile"},  {ProfileId{2}, 400, 4, "page", "", "web"},
      {ProfileId{1}, 500, 5, "track", "Clicked", "mobile"}, {ProfileId{2}, 600, 6, "track", "Bought", "web"},
  };
  PutEvents(events);
  using Seen = std::vector<std::pair<int64_t, uint64_t>>;

  TimelineFilter by_type;
  by_type.types = {"track"};
  EXPECT_EQ(ReadAll(winner, by_type, 2), (Seen{{600, 6}, {500, 5}, {300, 3}, {200, 2}}));

  TimelineFilter by_two_types;
  by_two_types.types = {"identify", "page"};
  EXPECT_EQ(ReadAll(winner, by_two_types, 1), (Seen{{400, 4}, {100, 1}}));

  TimelineFilter by_event;
  by_event.events = {"Bought"};
  EXPECT_EQ(ReadAll(winner, by_event, 1), (Seen{{600, 6}, {300, 3}}))
      << "entries without an event never match";

  TimelineFilter by_channel;
  by_channel.channels = {"mobile", "server"};
  EXPECT_EQ(ReadAll(winner, by_channel, 2), (Seen{{500, 5}, {300, 3}, {100, 1}}));

  TimelineFilter since;
  since.since = At(300);
  EXPECT_EQ(ReadAll(winner, since, 2), (Seen{{600, 6}, {500, 5}, {400, 4}, {300, 3}}))
      << "since is inclusive";

  TimelineFilter until;
  until.until = At(300);
  EXPECT_EQ(ReadAll(winner, until, 1), (Seen{{200, 2}, {100, 1}})) << "until is exclusive";

  TimelineFilter window;
  window.since = At(200);
  window.until = At(600);
  window.channels = {"web"};
  EXPECT_EQ(ReadAll(winner, window, 1), (Seen{{400, 4}, {200, 2}}));

  TimelineFilter empty_window;
  empty_window.since = At(500);
  empty_window.until = At(500);
  EXPECT_TRUE(ReadAll(winner, empty_window, 3).empty());

  TimelineFilter nothing;
  nothing.events = {"Refunded"};
  auto page = reader_->Timeline(kSpace, winner, nothing, 3, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->entries.empty());
  EXPECT_FALSE(page->next.has_value());
}

TEST_F(ProfileReaderTest, DamagedSummaryIsDataLoss) {
  const Profile winner = MergedPair();
  rocksdb::WriteBatch batch;
  batch.Put(store_->handle(ColumnFamily::kTimeline), TimelineKey(kSpace, ProfileId{1}, At(5), 1),
            "{not json");
  Write(batch);
  TimelineFilter by_type;
  by_type.types = {"track"};
  auto page = reader_->Timeline(kSpace, winner, by_type, 3, std::nullopt);
  EXPECT_TRUE(absl::IsDataLoss(page.status())) << page.status();
}

TEST_F(ProfileReaderTest, ZeroLimitIsInvalid) {
  const Profile winner = MergedPair();
  auto page = reader_->Timeline(kSpace, winner, {}, 0, std::nullopt);
  EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
}

TEST(TimelineCursorTest, RoundTripsAndRejectsMalformedText) {
  const TimelineCursor cursor{At(1'700'000'000'000'000), 123456789};
  const std::string text = EncodeCursor(cursor);
  for (char c : text) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
        << "not URL-safe: " << text;
  }
  ASSERT_EQ(DecodeCursor(text), cursor);
  EXPECT_EQ(DecodeCursor(EncodeCursor({At(0), 0})), (TimelineCursor{At(0), 0}));

  EXPECT_FALSE(DecodeCursor("").has_value());
  EXPECT_FALSE(DecodeCursor("garbage!").has_value());
  EXPECT_FALSE(DecodeCursor(std::string(23, '*')).has_value()) << "right length, not base64url";
  EXPECT_FALSE(DecodeCursor(text + "A").has_value());
  EXPECT_FALSE(DecodeCursor(text.substr(0, text.size() - 1)).has_value());
  EXPECT_FALSE(DecodeCursor(text + "=").has_value()) << "padding is not the canonical form";

  std::string short_bytes(16, '\0');
  short_bytes[0] = 1;
  EXPECT_FALSE(DecodeCursor(absl::WebSafeBase64Escape(absl::string_view(short_bytes))).has_value());
  std::string long_bytes(18, '\0');
  long_bytes[0] = 1;
  EXPECT_FALSE(DecodeCursor(absl::WebSafeBase64Escape(absl::string_view(long_bytes))).has_value());
  std::string wrong_version(17, '\0');
  wrong_version[0] = 2;
  EXPECT_FALSE(DecodeCursor(absl::WebSafeBase64Escape(absl::string_view(wrong_version))).has_value());
  std::string negative_time(17, '\0');
  negative_time[0] = 1;
  negative_time[1] = static_cast<char>(0x80);
  EXPECT_FALSE(DecodeCursor(absl::WebSafeBase64Escape(absl::string_view(negative_time))).has_value());
}

TEST_F(ProfileReaderTest, MergeRecordsOrderedBySequenceThenOrdinal) {
  const Profile winner = MergedPair();
  rocksdb::WriteBatch batch;
  auto* merges = store_->handle(ColumnFamily::kMerges);
  batch.Put(merges, MergeKey(kSpace, ProfileId{1}, 9, 0), R"({"n":"9/0"})");
  batch.Put(merges, MergeKey(kSpace, ProfileId{1}, 5, 1), R"({"n":"5/1"})");
  batch.Put(merges, MergeKey(kSpace, ProfileId{2}, 5, 0), R"({"n":"5/0"})");
  batch.Put(merges, MergeKey(kSpace, ProfileId{2}, 3, 0), R"({"n":"3/0"})");
  // A refused merge recorded on both profiles involved (different ordinals, same record).
  batch.Put(merges, MergeKey(kSpace, ProfileId{1}, 7, 0), R"({"kind":"refused_merge"})");
  batch.Put(merges, MergeKey(kSpace, ProfileId{2}, 7, 1), R"({"kind":"refused_merge"})");
  // Neighbours: another profile and another space.
  batch.Put(merges, MergeKey(kSpace, ProfileId{3}, 1, 0), R"({"n":"other profile"})");
  batch.Put(merges, MergeKey("acme2", ProfileId{1}, 1, 0), R"({"n":"other space"})");
  Write(batch);

  auto records = reader_->MergeRecords(kSpace, winner);
  ASSERT_TRUE(records.ok()) << records.status();
  const std::vector<std::string> expected = {R"({"n":"3/0"})", R"({"n":"5/0"})", R"({"n":"5/1"})",
                                             R"({"kind":"refused_merge"})", R"({"n":"9/0"})"};
  EXPECT_EQ(*records, expected);
}

TEST_F(ProfileReaderTest, LogRecordReadsTheAcceptedLogKey) {
  // The layout of ingest::AcceptedLog::Key: space, 0x00, sequence u64 BE.
  std::string key(kSpace);
  key.push_back('\0');
  AppendBigEndian64(key, 42);
  rocksdb::WriteBatch batch;
  batch.Put(store_->handle(ColumnFamily::kLog), key, R"({"type":"track"})");
  ASSERT_TRUE(store_->WriteIntake(batch).ok());

  auto record = reader_->LogRecord(kSpace, 42);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(**record, R"({"type":"track"})");
  auto missing = reader_->LogRecord(kSpace, 43);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto other_space = reader_->LogRecord("acme2", 42);
  ASSERT_TRUE(other_space.ok());
  EXPECT_FALSE(other_space->has_value());
}

}  // namespace
}  // namespace tessera::profile_store
