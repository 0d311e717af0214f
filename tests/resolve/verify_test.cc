// VerifyDerivedState: a store whose resolver lags behind the log still verifies (the lag is caught
// up on a copy, never in the store), and damaged derived rows are reported by family and key.

#include "resolve/verify.h"

#include "tests/resolve/resolver_fixture.h"

namespace tessera::resolve {
namespace resolver_testing {
namespace {

class VerifyTest : public ResolverTest {
 protected:
  // Three people across web and app; two anonymous visits linked to their users later.
  std::vector<ingest::CanonicalEvent> People() {
    std::vector<ingest::CanonicalEvent> events;
    for (int person = 0; person < 3; ++person) {
      ingest::CanonicalEvent visit = Event(ingest::EventType::kPage, "web", 10 * person);
      visit.anonymous_id = "anon-" + std::to_string(person);
      ingest::CanonicalEvent login = Event(ingest::EventType::kIdentify, "app", 10 * person + 1);
      login.anonymous_id = visit.anonymous_id;
      login.user_id = "user-" + std::to_string(person);
      login.traits = R"({"email":"person)" + std::to_string(person) + R"(@example.com"})";
      ingest::CanonicalEvent order = Event(ingest::EventType::kTrack, "web", 10 * person + 2);
      order.user_id = login.user_id;
      events.push_back(visit);
      events.push_back(order);  // Before the login: its own profile, merged by the login.
      events.push_back(login);
    }
    return events;
  }
};

TEST_F(VerifyTest, ALaggingResolverIsCaughtUpOnACopyAndAgreesWithTheRebuild) {
  Append(People());
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  const uint64_t position = resolver->position();
  Append({Event(ingest::EventType::kTrack, "web", 100)});  // Logged but not yet applied.
  std::vector<ingest::CanonicalEvent> more = People();     // Same people, new message ids.
  Append(more);
  const std::map<std::string, std::string> before = Rows(*store_, ColumnFamily::kProfiles);

  absl::StatusOr<VerifyReport> report = VerifyDerivedState(*store_, pipeline::PipelineOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->identical()) << report->differences.size() << " differences, the first in "
                                   << (report->differences.empty() ? "" : report->differences[0].family);
  EXPECT_EQ(report->caught_up_events, 1 + more.size());
  EXPECT_EQ(report->replayed_events, 2 * more.size() + 1);
  EXPECT_GT(report->rows_compared, 0u);
  EXPECT_EQ(report->spaces, std::vector<std::string>{"default"});

  // The store itself is untouched: the resolver's position and the profiles are as they were.
  auto stored_position = store_->Get(ColumnFamily::kMeta, ResolverPositionKey(kSpace));
  ASSERT_TRUE(stored_position.ok());
  EXPECT_EQ(profile_store::ReadBigEndian64(*stored_position), position);
  EXPECT_EQ(Rows(*store_, ColumnFamily::kProfiles), before);
}

TEST_F(VerifyTest, DamagedDerivedRowsAreReportedByFamilyAndKey) {
  Append(People());
  std::unique_ptr<Resolver> resolver = NewResolver();
  CatchUp(*resolver);
  // Damage: one identifier forgotten, one profile's event count off by one.
  const auto identifiers = Rows(*store_, ColumnFamily::kIdentifiers);
  const auto profiles = Rows(*store_, ColumnFamily::kProfiles);
  ASSERT_FALSE(identifiers.empty());
  ASSERT_FALSE(profiles.empty());
  std::optional<std::string> damaged_profile;
  for (const auto& [key, value] : profiles) {
    auto profile = profile_store::DecodeProfile(value);
    ASSERT_TRUE(profile.ok()) << profile.status();
    if (profile->merged_into) continue;
    ++profile->event_count;
    std::string encoded;
    profile_store::EncodeProfile(*profile, encoded);
    rocksdb::WriteBatch batch;
    batch.Put(store_->handle(ColumnFamily::kProfiles), key, encoded);
    batch.Delete(store_->handle(ColumnFamily::kIdentifiers), identifiers.begin()->first);
    ASSERT_TRUE(store_->Write(batch).ok());
    damaged_profile = key;
    break;
  }
  ASSERT_TRUE(damaged_profile.has_value());

  absl::StatusOr<VerifyReport> report =
      VerifyDerivedState(*store_, pipeline::PipelineOptions{}, {.max_differences = 1});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->identical());
  EXPECT_EQ(report->differing_rows, 2u);
  ASSERT_EQ(report->differences.size(), 1u) << "only max_differences are kept";
  const DerivedDifference& first = report->differences[0];
  EXPECT_EQ(first.family, "identifiers");
  EXPECT_EQ(first.key.substr(0, 11), "default\\x00")
      << "bytes that are not printable are escaped: " << first.key;
  EXPECT_FALSE(first.live.has_value()) << "the identifier is missing from the live state";
  EXPECT_TRUE(first.rebuilt.has_value());
}

}  // namespace
}  // namespace resolver_testing
}  // namespace tessera::resolve
