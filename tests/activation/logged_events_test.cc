// LoggedEvents: the events a space's deliveries send, read from the log once and shared: in any
// order, gone ones reported, and what is kept bounded in count and age (an event removed from the
// log is not served once its kept copy is older than the limit).

#include "activation/logged_events.h"

#include <gtest/gtest.h>

#include <thread>

#include "ingest/accepted_log.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"
#include "tests/support/temp_dir.h"

namespace tessera::activation {
namespace {

using profile_store::ColumnFamily;
using namespace std::chrono_literals;

constexpr std::string_view kSpace = "default";

class LoggedEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = profile_store::Store::Open({.path = dir_.path(), .sync_writes = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Logs events first..last with message ids "m-<n>", in `space`.
  void Log(uint64_t first, uint64_t last, std::string_view space = kSpace) {
    rocksdb::WriteBatch batch;
    for (uint64_t n = first; n <= last; ++n) {
      ingest::CanonicalEvent event;
      event.message_id = "m-" + std::to_string(n);
      event.space = std::string(space);
      event.event = "Viewed";
      event.timestamp = event.received_at = base::Timestamp{} + std::chrono::seconds(1'700'000'000 + n);
      std::string record;
      ingest::EncodeEvent(event, record);
      batch.Put(store_->handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(space, n), record);
    }
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
  }

  void Unlog(uint64_t n) {
    rocksdb::WriteBatch batch;
    batch.Delete(store_->handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(kSpace, n));
    ASSERT_TRUE(store_->WriteIntake(batch).ok());
  }

  static std::string IdOf(const std::optional<std::string>& json) {
    if (!json) return "gone";
    const size_t at = json->find("\"messageId\":\"");
    if (at == std::string::npos) return "?";
    const size_t begin = at + 13;
    return json->substr(begin, json->find('"', begin) - begin);
  }

  static std::vector<std::string> Ids(const std::vector<std::optional<std::string>>& events) {
    std::vector<std::string> ids;
    for (const auto& event : events) ids.push_back(IdOf(event));
    return ids;
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<profile_store::Store> store_;
};

TEST_F(LoggedEventsTest, ReadsPositionsInAnyOrderAndSaysWhichAreGone) {
  Log(1, 40);
  Log(1, 5, "other");  // Another space's events at the same positions are not this space's.
  Unlog(7);
  LoggedEvents events(*store_, std::string(kSpace));
  auto read = events.Read({3, 7, 4, 40, 41, 1, 30, 3});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Ids(*read), (std::vector<std::string>{"m-3", "gone", "m-4", "m-40", "gone", "m-1", "m-30", "m-3"}));

  LoggedEvents other(*store_, "other");
  auto theirs = other.Read({5, 6});
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(Ids(*theirs), (std::vector<std::string>{"m-5", "gone"}));
}

TEST_F(LoggedEventsTest, ASecondReaderOfTheSamePositionsIsAnsweredFromMemory) {
  Log(1, 100);
  LoggedEvents events(*store_, std::string(kSpace));
  std::vector<uint64_t> positions;
  for (uint64_t n = 1; n <= 100; ++n) positions.push_back(n);
  auto first = events.Read(positions);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(events.misses(), 100u);
  EXPECT_EQ(events.hits(), 0u);
  auto second = events.Read(positions);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(events.hits(), 100u) << "the second delivery of the space decodes nothing again";
  EXPECT_EQ(*first, *second);
}

TEST_F(LoggedEventsTest, KeepsAtMostTheLimitDroppingTheLowestPositionsFirst) {
  Log(1, 30);
  LoggedEvents events(*store_, std::string(kSpace), {.max_events = 10, .max_age = 60s});
  std::vector<uint64_t> positions;
  for (uint64_t n = 1; n <= 30; ++n) positions.push_back(n);
  ASSERT_TRUE(events.Read(positions).ok());
  ASSERT_TRUE(events.Read({21, 30}).ok());
  EXPECT_EQ(events.hits(), 2u) << "the highest ten are kept";
  ASSERT_TRUE(events.Read({20}).ok());
  EXPECT_EQ(events.hits(), 2u) << "position 20 was dropped";
}

TEST_F(LoggedEventsTest, AnEventRemovedFromTheLogIsNotServedOnceItsCopyIsTooOld) {
  Log(1, 3);
  LoggedEvents events(*store_, std::string(kSpace), {.max_events = 100, .max_age = 50ms});
  ASSERT_TRUE(events.Read({1, 2, 3}).ok());
  Unlog(2);  // An erasure, or retention.
  std::this_thread::sleep_for(120ms);
  auto read = events.Read({1, 2, 3});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(Ids(*read), (std::vector<std::string>{"m-1", "gone", "m-3"}));
}

TEST_F(LoggedEventsTest, AnUndecodableRecordIsAnError) {
  rocksdb::WriteBatch batch;
  batch.Put(store_->handle(ColumnFamily::kLog), ingest::AcceptedLog::Key(kSpace, 1), "not a record");
  ASSERT_TRUE(store_->WriteIntake(batch).ok());
  LoggedEvents events(*store_, std::string(kSpace));
  EXPECT_FALSE(events.Read({1}).ok());
}

}  // namespace
}  // namespace tessera::activation
