// The duplicate index (resolve/duplicate_index.h): its rows follow trait changes and merges,
// lookups see the unit, auto-merge merges at the threshold and obeys the identity rules and
// separations, is off by default, and the rows are the same however the events are batched.
// Events are applied as the resolver applies them: graph, then traits, then AfterEvent.

#include "resolve/duplicate_index.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "identity/identity_graph.h"
#include "identity/normalizer.h"
#include "ingest/identifier_extractor.h"
#include "matching/model_json.h"
#include "privacy/erasure.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::resolve {
namespace {

using identity::Identifier;
using identity::Resolution;
using profile_store::ColumnFamily;
using profile_store::ProfileId;

constexpr std::string_view kSpace = "default";

// Every key of the space starts with this (an empty prefix would have no end to scan to).
std::string SpacePrefix() { return std::string(kSpace) + '\0'; }

struct TestEvent {
  std::vector<Identifier> identifiers;
  std::vector<std::pair<std::string, std::string>> traits;  // name -> JSON
};

Identifier Email(std::string value) { return Identifier{"email", std::move(value)}; }
Identifier UserId(std::string value) { return Identifier{"user_id", std::move(value)}; }

TestEvent Person(std::string email, std::string name, std::string birthday, std::string city = "") {
  TestEvent event{{Email(std::move(email))}, {{"name", "\"" + name + "\""}, {"birthday", "\"" + birthday + "\""}}};
  if (!city.empty()) event.traits.emplace_back("city", "\"" + city + "\"");
  return event;
}

// A resolver in miniature: one graph and one index over a store, written in units.
class Applier {
 public:
  Applier(profile_store::Store& store, DuplicateOptions options, identity::IdentityRules rules = identity::IdentityRules())
      : store_(store), graph_(store, std::string(kSpace), std::move(rules)) {
    EXPECT_TRUE(graph_.Recover().ok());
    auto index = DuplicateIndex::Create(store, std::string(kSpace), std::move(options));
    EXPECT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
  }

  // Applies one event into the unit; returns its resolution.
  Resolution Apply(const TestEvent& test_event) {
    const uint64_t sequence = ++sequence_;
    message_ids_.push_back("m-" + std::to_string(sequence));
    identity::GraphEvent event;
    event.message_id = message_ids_.back();
    event.sequence = sequence;
    event.event_time = base::Timestamp(std::chrono::seconds(1'700'000'000 + sequence));
    event.received_at = event.event_time;
    event.source = "web";
    event.identifiers = test_event.identifiers;
    absl::StatusOr<Resolution> resolution = graph_.Apply(event);
    EXPECT_TRUE(resolution.ok()) << resolution.status();
    if (!resolution.ok()) return {};
    absl::StatusOr<profile_store::Profile*> profile = graph_.MutableProfile(resolution->profile);
    EXPECT_TRUE(profile.ok()) << profile.status();
    std::vector<TraitWrite> writes;
    for (const auto& [name, json] : test_event.traits) {
      (*profile)->SetTrait(name, json, event.event_time, sequence, false);
      writes.push_back({.name = name, .json = json});
    }
    absl::Status after = index_->AfterEvent(*resolution, graph_, event, writes, batch_, auto_merges_);
    EXPECT_TRUE(after.ok()) << after;
    return *resolution;
  }

  void Commit() {
    graph_.Flush(batch_);
    absl::Status written = store_.Write(batch_);
    ASSERT_TRUE(written.ok()) << written;
    batch_.Clear();
    graph_.Commit();
    index_->Commit();
  }
  void Abort() {
    batch_.Clear();
    graph_.Abort();
    index_->Abort();
  }

  std::vector<DuplicateCandidate> Candidates(ProfileId id) {
    auto candidates = index_->Candidates(id, graph_);
    EXPECT_TRUE(candidates.ok()) << candidates.status();
    return candidates.ok() ? *candidates : std::vector<DuplicateCandidate>();
  }

  identity::IdentityGraph& graph() { return graph_; }
  DuplicateIndex& index() { return *index_; }
  const std::vector<Resolution>& auto_merges() const { return auto_merges_; }

 private:
  profile_store::Store& store_;
  identity::IdentityGraph graph_;
  std::unique_ptr<DuplicateIndex> index_;
  rocksdb::WriteBatch batch_;
  std::vector<Resolution> auto_merges_;
  std::vector<std::string> message_ids_;  // GraphEvent holds views into these.
  uint64_t sequence_ = 0;
};

class DuplicateIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open(dir_); }

  static std::unique_ptr<profile_store::Store> Open(const tessera::testing::ScopedTempDir& dir) {
    auto store = profile_store::Store::Open({.path = dir.path(), .sync_writes = false});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Every row of the family: key bytes -> value bytes.
  static std::map<std::string, std::string> Rows(profile_store::Store& store) {
    std::map<std::string, std::string> rows;
    EXPECT_TRUE(store
                    .ScanPrefix(ColumnFamily::kCandidates, SpacePrefix(),
                                [&](std::string_view key, std::string_view value) { rows.emplace(key, value); })
                    .ok());
    return rows;
  }

  // The blocks a profile is filed in, from the block rows (space, key, 0x00, id).
  static std::set<std::string> BlocksOf(profile_store::Store& store, ProfileId id) {
    std::set<std::string> blocks;
    const std::string space_prefix = std::string(kSpace) + '\0';
    for (const auto& [key, value] : Rows(store)) {
      if (key.size() < space_prefix.size() + 10 || key[space_prefix.size()] == '\x01') continue;
      if (profile_store::ReadBigEndian64(std::string_view(key).substr(key.size() - 8)) != id.value) continue;
      blocks.insert(key.substr(space_prefix.size(), key.size() - space_prefix.size() - 9));
    }
    return blocks;
  }

  std::set<std::string> ExpectedBlocks(std::string_view name, std::string_view birthday) {
    auto normalizer = matching::Normalizer::Create();
    EXPECT_TRUE(normalizer.ok());
    const matching::ProfileMatcher matcher = matching::ProfileMatcher::Default();
    matching::PersonRecord record;
    record.name = std::string(name);
    record.birth_date = std::string(birthday);
    const std::vector<std::string> keys = matcher.BlockingKeys(matcher.Normalize(record, **normalizer));
    return std::set<std::string>(keys.begin(), keys.end());
  }

  // The merge records (JSON) of a profile.
  std::vector<std::string> MergeRecords(ProfileId id) {
    std::vector<std::string> records;
    EXPECT_TRUE(store_
                    ->ScanPrefix(ColumnFamily::kMerges, profile_store::MergePrefix(kSpace, id),
                                 [&](std::string_view, std::string_view value) { records.emplace_back(value); })
                    .ok());
    return records;
  }

  static DuplicateOptions AutoMerge(double probability) {
    DuplicateOptions options;
    options.auto_merge_probability = probability;
    return options;
  }

  tessera::testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
};

TEST_F(DuplicateIndexTest, RowsFollowTraitChanges) {
  Applier applier(*store_, DuplicateOptions());
  const Resolution first = applier.Apply(Person("ada@example.com", "Ada Lovelace", "1815-12-10"));
  applier.Commit();
  EXPECT_EQ(BlocksOf(*store_, first.profile), ExpectedBlocks("Ada Lovelace", "1815-12-10"));

  applier.Apply({{Email("ada@example.com")}, {{"name", R"("Ada King")"}}});
  applier.Commit();
  EXPECT_EQ(BlocksOf(*store_, first.profile), ExpectedBlocks("Ada King", "1815-12-10"))
      << "the old name's blocks must be gone, the new one's there";

  const size_t rows = Rows(*store_).size();
  applier.Apply({{Email("ada@example.com")}, {{"plan", R"("pro")"}}});
  applier.Apply({{Email("ada@example.com")}, {{"name", R"("ADA KING")"}}});
  applier.Commit();
  EXPECT_EQ(Rows(*store_).size(), rows) << "no person trait changed: nothing rewritten";

  // What a stewardship recompute does: remove, then file again from the graph's view.
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(applier.index().Remove(first.profile, batch).ok());
  ASSERT_TRUE(store_->Write(batch).ok());
  applier.index().Commit();
  EXPECT_TRUE(Rows(*store_).empty());
  batch.Clear();
  ASSERT_TRUE(applier.index().Refresh(first.profile, applier.graph(), batch).ok());
  ASSERT_TRUE(store_->Write(batch).ok());
  applier.index().Commit();
  EXPECT_EQ(BlocksOf(*store_, first.profile), ExpectedBlocks("Ada King", "1815-12-10"));
  EXPECT_EQ(Rows(*store_).size(), rows);
}

TEST_F(DuplicateIndexTest, MergedAwayProfilesLeaveTheIndex) {
  Applier applier(*store_, DuplicateOptions());
  const Resolution a = applier.Apply(Person("a@example.com", "Ada Lovelace", "1815-12-10"));
  const Resolution b = applier.Apply(Person("b@example.com", "Grace Hopper", "1906-12-09"));
  applier.Commit();
  ASSERT_FALSE(BlocksOf(*store_, b.profile).empty());

  const Resolution merge = applier.Apply({{Email("a@example.com"), Email("b@example.com")}, {}});
  applier.Commit();
  ASSERT_EQ(merge.merged, std::vector<ProfileId>{b.profile}) << "the event joins both e-mails";
  EXPECT_TRUE(BlocksOf(*store_, b.profile).empty()) << "the loser's rows must go";
  // The winner's traits are the newer of each: Grace's name and birthday (written later).
  EXPECT_EQ(BlocksOf(*store_, a.profile), ExpectedBlocks("Grace Hopper", "1906-12-09"));
  const std::string loser_prefix = profile_store::CandidateProfilePrefix(kSpace, b.profile.value);
  for (const auto& [key, value] : Rows(*store_)) {
    EXPECT_FALSE(key.starts_with(loser_prefix)) << "the loser's own rows must go too";
  }
}

TEST_F(DuplicateIndexTest, LookupsSeeTheUnitAndAbortForgetsIt) {
  Applier applier(*store_, DuplicateOptions());
  const Resolution a = applier.Apply(Person("a@example.com", "Kim Min-jun", "1992-07-14"));
  const Resolution b = applier.Apply(Person("b@example.com", "Kim Minjun", "1992-07-14"));
  // Nothing written yet: only the overlay knows a.
  std::vector<DuplicateCandidate> candidates = applier.Candidates(b.profile);
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].profile, a.profile);
  EXPECT_GT(candidates[0].explanation.match_probability, 0.9);
  EXPECT_EQ(candidates[0].person.name, "Kim Min-jun");

  applier.Abort();
  EXPECT_TRUE(Rows(*store_).empty());
  Applier fresh(*store_, DuplicateOptions());
  const Resolution c = fresh.Apply(Person("c@example.com", "Kim Minjun", "1992-07-14"));
  EXPECT_TRUE(fresh.Candidates(c.profile).empty()) << "the aborted unit's rows must not be seen";
}

TEST_F(DuplicateIndexTest, AnEventRepeatingTheFiledRecordAfterAnAbortFilesItAgain) {
  // The index remembers the record it filed each profile with, to skip events that repeat it; an
  // aborted unit's filing was never written, so the repeat must file it after all.
  Applier applier(*store_, DuplicateOptions());
  const Resolution first = applier.Apply(Person("ada@example.com", "Ada Lovelace", "1815-12-10"));
  applier.Abort();
  ASSERT_TRUE(Rows(*store_).empty());
  const Resolution again = applier.Apply(Person("ada@example.com", "Ada Lovelace", "1815-12-10"));
  applier.Commit();
  ASSERT_EQ(again.profile, first.profile) << "the aborted unit's profile id is handed out again";
  EXPECT_EQ(BlocksOf(*store_, again.profile), ExpectedBlocks("Ada Lovelace", "1815-12-10"));
  // And a repeat of a committed filing changes nothing.
  const std::map<std::string, std::string> rows = Rows(*store_);
  applier.Apply(Person("ada@example.com", "Ada Lovelace", "1815-12-10"));
  applier.Commit();
  EXPECT_EQ(Rows(*store_), rows);
}

TEST_F(DuplicateIndexTest, AutoMergeIsOffByDefault) {
  Applier applier(*store_, DuplicateOptions());
  const Resolution a = applier.Apply(Person("a@example.com", "Kim Min-jun", "1992-07-14", "Seoul"));
  const Resolution b = applier.Apply(Person("b@example.com", "Kim Minjun", "1992-07-14", "Seoul"));
  applier.Commit();
  EXPECT_TRUE(applier.auto_merges().empty());
  EXPECT_NE(a.profile, b.profile);
  ASSERT_EQ(applier.Candidates(a.profile).size(), 1u);
  EXPECT_GT(applier.Candidates(a.profile)[0].explanation.match_probability, 0.99) << "a pair it would merge";
}

TEST_F(DuplicateIndexTest, AutoMergeMergesAtTheThreshold) {
  Applier applier(*store_, AutoMerge(0.99));
  const Resolution a = applier.Apply(Person("a@example.com", "Kim Min-jun", "1992-07-14", "Seoul"));
  const Resolution below = applier.Apply(Person("c@example.com", "Kim Minjun", "1992-07-14"));
  EXPECT_TRUE(applier.auto_merges().empty()) << "name and birth date alone (p ~0.95) stay below 0.99";
  const Resolution b = applier.Apply(Person("b@example.com", "Kim Minjun", "1992-07-14", "seoul"));
  applier.Commit();

  ASSERT_EQ(applier.auto_merges().size(), 1u);
  const Resolution& merged = applier.auto_merges()[0];
  EXPECT_EQ(merged.profile, a.profile) << "the smaller id wins";
  EXPECT_EQ(merged.merged, std::vector<ProfileId>{b.profile});
  EXPECT_EQ(applier.index().auto_merges(), 1u);
  const std::vector<std::string> records = MergeRecords(a.profile);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].find("\"reason\":\"probabilistic p=0.99"), std::string::npos) << records[0];
  EXPECT_TRUE(BlocksOf(*store_, b.profile).empty()) << "the merged-away profile leaves the index";
  EXPECT_FALSE(BlocksOf(*store_, a.profile).empty());
  (void)below;
}

TEST_F(DuplicateIndexTest, AutoMergeObeysLimits) {
  Applier applier(*store_, AutoMerge(0.99), identity::IdentityRules({{"user_id", 100, 1}}));
  TestEvent first = Person("a@example.com", "Kim Min-jun", "1992-07-14", "Seoul");
  first.identifiers.push_back(UserId("u1"));
  TestEvent second = Person("b@example.com", "Kim Minjun", "1992-07-14", "Seoul");
  second.identifiers.push_back(UserId("u2"));
  const Resolution a = applier.Apply(first);
  const Resolution b = applier.Apply(second);
  applier.Commit();
  EXPECT_TRUE(applier.auto_merges().empty()) << "two user ids with a limit of one";
  EXPECT_EQ(applier.index().refused_auto_merges(), 1u);
  auto canonical = applier.graph().Canonical(b.profile);
  ASSERT_TRUE(canonical.ok() && canonical->has_value());
  EXPECT_EQ(**canonical, b.profile) << "refused: both profiles stay";
  ASSERT_FALSE(MergeRecords(a.profile).empty());
  EXPECT_NE(MergeRecords(a.profile)[0].find("refused_merge"), std::string::npos) << "the graph records why";
}

TEST_F(DuplicateIndexTest, AutoMergeObeysSeparations) {
  Applier applier(*store_, AutoMerge(0.99));
  applier.graph().Separate(Email("a@example.com"), Email("b@example.com"));
  const Resolution a = applier.Apply(Person("a@example.com", "Kim Min-jun", "1992-07-14", "Seoul"));
  const Resolution b = applier.Apply(Person("b@example.com", "Kim Minjun", "1992-07-14", "Seoul"));
  applier.Commit();
  EXPECT_TRUE(applier.auto_merges().empty()) << "an admin said they are different people";
  EXPECT_TRUE(applier.Candidates(b.profile).empty()) << "separated profiles are no candidates";
  EXPECT_NE(a.profile, b.profile);
}

TEST_F(DuplicateIndexTest, SameRowsWhateverTheBatching) {
  const std::vector<TestEvent> events = {
      Person("a@example.com", "Kim Min-jun", "1992-07-14", "Seoul"),
      Person("b@example.com", "Jonathan Smith", "1990-03-05"),
      Person("c@example.com", "Kim Minjun", "1992-07-14", "Seoul"),  // auto-merged into a
      Person("d@example.com", "Jonathon Smith", "1990-05-03"),
      {{Email("b@example.com"), Email("d@example.com")}, {}},  // merged by the graph
      {{Email("b@example.com")}, {{"name", R"("John Smith")"}}},
      Person("e@example.com", "Grace Hopper", "1906-12-09", "Arlington"),
      {{Email("e@example.com")}, {{"city", R"("New York")"}}},
  };
  std::map<std::string, std::string> rows[2];
  std::map<std::string, std::string> merges[2];
  for (int run = 0; run < 2; ++run) {
    tessera::testing::ScopedTempDir dir;
    std::unique_ptr<profile_store::Store> store = Open(dir);
    Applier applier(*store, AutoMerge(0.99));
    for (const TestEvent& event : events) {
      applier.Apply(event);
      if (run == 1) applier.Commit();  // One unit per event.
    }
    if (run == 0) applier.Commit();  // All in one unit.
    EXPECT_EQ(applier.auto_merges().size(), 1u);
    rows[run] = Rows(*store);
    EXPECT_TRUE(store->ScanPrefix(ColumnFamily::kMerges, SpacePrefix(), [&](std::string_view key, std::string_view value) {
                       merges[run].emplace(key, value);
                     }).ok());
  }
  EXPECT_FALSE(rows[0].empty());
  EXPECT_EQ(rows[0], rows[1]) << "the index must not depend on how events are batched";
  EXPECT_EQ(merges[0], merges[1]) << "nor the merges";
}

TEST_F(DuplicateIndexTest, ErasureDeletesThePersonsRows) {
  Applier applier(*store_, DuplicateOptions());
  const Resolution a = applier.Apply(Person("a@example.com", "Ada Lovelace", "1815-12-10"));
  const Resolution b = applier.Apply(Person("b@example.com", "Grace Hopper", "1906-12-09"));
  applier.Commit();
  const std::set<std::string> kept = BlocksOf(*store_, b.profile);

  auto profile = applier.graph().ReadProfile(a.profile);
  ASSERT_TRUE(profile.ok() && *profile != nullptr);
  auto normalizer = identity::Normalizer::Create({});
  ASSERT_TRUE(normalizer.ok()) << normalizer.status();
  const ingest::IdentifierExtractor extractor;
  rocksdb::WriteBatch batch, intake_batch;
  auto erased = privacy::CollectErasure(*store_, kSpace, **profile, extractor, **normalizer, batch, intake_batch);
  ASSERT_TRUE(erased.ok()) << erased.status();
  ASSERT_TRUE(store_->Write(batch).ok());

  EXPECT_TRUE(BlocksOf(*store_, a.profile).empty()) << "the erased person's blocks name them";
  const std::string own = profile_store::CandidateProfilePrefix(kSpace, a.profile.value);
  for (const auto& [key, value] : Rows(*store_)) EXPECT_FALSE(key.starts_with(own));
  EXPECT_EQ(BlocksOf(*store_, b.profile), kept) << "everyone else's rows stay";
}

}  // namespace
}  // namespace tessera::resolve

namespace tessera::resolve {
namespace {

TEST(MakeDuplicateOptionsTest, FromTheConfigsValues) {
  const std::string model = matching::ModelToJson(matching::DefaultProfileModel());
  auto options = MakeDuplicateOptions(true, 0.99, model, 50, {{"birth_date", {"dob"}}, {"name", {"fullName"}}});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_DOUBLE_EQ(options->auto_merge_probability, 0.99);
  EXPECT_EQ(options->max_block, 50u);
  ASSERT_TRUE(options->model != nullptr) << "a model given is a model used";
  EXPECT_EQ(options->traits.birth_date, std::vector<std::string>{"dob"});
  EXPECT_EQ(options->traits.name, std::vector<std::string>{"fullName"});
  EXPECT_EQ(options->traits.email, matching::PersonTraitNames().email) << "fields not named keep their defaults";

  EXPECT_FALSE(MakeDuplicateOptions(true, 0.4, "", 200, {}).ok());
  EXPECT_FALSE(MakeDuplicateOptions(true, 0, R"({"lambda":0.1,"comparisons":[]})", 200, {}).ok())
      << "a model of nothing profile matching compares";
  EXPECT_FALSE(MakeDuplicateOptions(true, 0, "not json", 200, {}).ok());
  EXPECT_FALSE(MakeDuplicateOptions(true, 0, "", 200, {{"shoe_size", {"size"}}}).ok());
  EXPECT_FALSE(MakeDuplicateOptions(true, 0, "", 200, {}).value().model != nullptr) << "built in by default";
}

}  // namespace
}  // namespace tessera::resolve
