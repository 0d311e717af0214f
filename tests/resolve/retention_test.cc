// Retention at the resolver level: which log records and timeline entries leave, and what stays.

#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace resolver_testing {
namespace {

class RetentionTest : public ResolverTest {
 protected:
  // Ada's four events, timed at 10, 20, 30 and 40 s, received (by the fixture) at 1e6 + 1..4 s.
  void SeedAda() {
    std::vector<ingest::CanonicalEvent> events;
    for (int64_t seconds : {10, 20, 30, 40}) {
      ingest::CanonicalEvent event = Event(ingest::EventType::kTrack, "web", seconds);
      event.user_id = "u-ada";
      events.push_back(std::move(event));
    }
    Append(events);
  }

  RetentionReport Retain(Resolver& resolver, base::Timestamp cutoff) {
    absl::StatusOr<RetentionReport> report = resolver.ApplyRetention(cutoff);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : RetentionReport{};
  }
};

TEST_F(RetentionTest, TimelineEntriesOlderThanTheCutoffLeaveAndTheProfileKeepsItsFigures) {
  SeedAda();
  auto resolver = NewResolver();
  CatchUp(*resolver);
  const std::optional<ProfileId> ada = Lookup(*resolver, type::kUserId, "u-ada");
  ASSERT_TRUE(ada.has_value());

  const RetentionReport report = Retain(*resolver, FixedTime(25));
  EXPECT_EQ(report.timeline_entries, 2u) << "the events at 10 s and 20 s";
  EXPECT_EQ(report.log_records, 0u) << "every record was received after the cutoff";
  EXPECT_EQ(Timeline(*ada).size(), 2u);
  EXPECT_EQ(Count(ColumnFamily::kLog), 4u);
  EXPECT_EQ(StoredProfile(*ada)->event_count, 4u) << "profiles keep what they learned";
  EXPECT_EQ(StoredProfile(*ada)->first_seen, FixedTime(10));

  EXPECT_EQ(Retain(*resolver, FixedTime(25)).timeline_entries, 0u) << "a second pass finds nothing more";
}

TEST_F(RetentionTest, LogRecordsReceivedBeforeTheCutoffLeaveButOnlyOnceApplied) {
  SeedAda();
  auto resolver = NewResolver();
  CatchUp(*resolver);
  ingest::CanonicalEvent late =
      Event(ingest::EventType::kTrack, "web", 50);  // received at 1e6 + 5 s, not applied yet
  late.user_id = "u-ada";
  Append({late});

  RetentionReport report = Retain(*resolver, FixedTime(1'000'000 + 3));
  EXPECT_EQ(report.log_records, 2u) << "received at 1e6 + 1 and + 2 s";
  EXPECT_EQ(report.first_kept_sequence, 3u);
  EXPECT_EQ(Count(ColumnFamily::kLog), 3u);

  report = Retain(*resolver, FixedTime(2'000'000));
  EXPECT_EQ(Count(ColumnFamily::kLog), 1u) << "the unapplied record stays until the resolver applied it";
  EXPECT_EQ(report.first_kept_sequence, 5u);

  EXPECT_EQ(CatchUp(*resolver), 1u) << "the resolver still applies what retention left";
  EXPECT_EQ(StoredProfile(*Lookup(*resolver, type::kUserId, "u-ada"))->event_count, 5u);
}

TEST_F(RetentionTest, OtherSpacesAreUntouched) {
  SeedAda();
  ingest::CanonicalEvent elsewhere = Event(ingest::EventType::kTrack, "web", 5);
  elsewhere.space = "other";
  elsewhere.user_id = "u-ada";
  Append({elsewhere});
  auto resolver = NewResolver();
  CatchUp(*resolver);
  Retain(*resolver, FixedTime(2'000'000));
  EXPECT_EQ(Count(ColumnFamily::kLog), 1u) << "the other space's record is kept";
  EXPECT_EQ(Rows(*store_, ColumnFamily::kLog, "other").size(), 1u);
}

}  // namespace
}  // namespace resolver_testing
}  // namespace tessera::resolve
