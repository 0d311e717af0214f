// The dedup window's batched lookup answers what one lookup per key answers: seen within the window,
// not seen outside it or when absent, for any mix of keys and times in one batch.

#include "ingest/dedup_window.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/ingest/test_events.h"
#include "tests/support/temp_dir.h"

namespace tessera::ingest {
namespace {

using namespace std::chrono_literals;

TEST(DedupWindowTest, ABatchedLookupAnswersWhatSingleLookupsAnswer) {
  tessera::testing::ScopedTempDir dir;
  auto store = profile_store::Store::Open({.path = dir.path(), .sync_writes = false});
  ASSERT_TRUE(store.ok()) << store.status();
  DedupWindow window(**store, std::chrono::seconds(60));
  const Timestamp t0 = testing::FixedTime();

  // Stored: m0..m9 at t0 (in "default"), m0 also in "other" at t0 + 50 s.
  rocksdb::WriteBatch batch;
  for (int i = 0; i < 10; ++i) window.AddToBatch(DedupWindow::Key("default", "m" + std::to_string(i)), t0, i + 1, batch);
  window.AddToBatch(DedupWindow::Key("other", "m0"), t0 + 50s, 11, batch);
  ASSERT_TRUE((*store)->WriteIntake(batch).ok());
  window.EndBatch();

  std::vector<std::string> keys;
  std::vector<Timestamp> times;
  for (int i = 0; i < 20; ++i) {  // m10..m19 were never stored.
    keys.push_back(DedupWindow::Key(i % 2 ? "default" : "other", "m" + std::to_string(i % 12)));
    times.push_back(t0 + std::chrono::seconds(i * 7));  // Up to 133 s: some inside, some outside.
  }
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  absl::StatusOr<std::vector<bool>> batched = window.SeenInStore(views, times);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_EQ(batched->size(), keys.size());
  int seen = 0;
  int unseen = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<bool> single = window.Seen(keys[i], times[i]);
    ASSERT_TRUE(single.ok()) << single.status();
    EXPECT_EQ((*batched)[i], *single) << "key " << i;
    ++(*single ? seen : unseen);
  }
  EXPECT_GT(seen, 0) << "the batch must hold keys inside the window";
  EXPECT_GT(unseen, 0) << "and keys outside it or never stored";

  absl::StatusOr<std::vector<bool>> empty = window.SeenInStore({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace tessera::ingest
