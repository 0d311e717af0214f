// End-to-end tests of the WebSocket stream's acks and of what they promise: acks in frame order
// naming every event, frames of one message with or without a frameId, resent frames acked as
// duplicates, and acked events stored exactly once, after a clean stop, kill -9 or SIGTERM.

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stream_e2e_fixture.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

TEST_F(StreamE2eTest, TenThousandEventsInOneHundredFramesAreAckedInOrderAndStoredOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  constexpr int kFrames = 100;
  constexpr int kEventsPerFrame = 100;
  std::vector<std::vector<std::string>> ids;
  std::vector<std::string> frames;
  for (int f = 0; f < kFrames; ++f) {
    ids.push_back(MessageIds("bulk", f, kEventsPerFrame));
    frames.push_back(BatchFrame("bulk-" + std::to_string(f), ids.back()));
  }
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  const std::vector<Ack> acks = SendAndReadAcks(**client, frames);
  ASSERT_EQ(acks.size(), static_cast<size_t>(kFrames));
  for (int f = 0; f < kFrames; ++f) {
    const Ack& ack = acks[f];
    ASSERT_EQ(ack.frame_id, Quoted("bulk-" + std::to_string(f)))
        << "acks must come in frame order: " << ack.raw;
    EXPECT_THAT(ack.error_code, IsEmpty()) << ack.raw;
    EXPECT_EQ(Sorted(ack.accepted), Sorted(ids[f])) << "frame " << f << ": " << ack.raw;
    EXPECT_THAT(ack.duplicates, IsEmpty()) << "frame " << f;
    EXPECT_THAT(ack.rejected, IsEmpty()) << "frame " << f;
  }

  // The same frames again, on the same connection: all duplicates.
  const std::vector<Ack> resent = SendAndReadAcks(**client, frames);
  ASSERT_EQ(resent.size(), static_cast<size_t>(kFrames));
  for (int f = 0; f < kFrames; ++f) {
    const Ack& ack = resent[f];
    ASSERT_EQ(ack.frame_id, Quoted("bulk-" + std::to_string(f))) << ack.raw;
    EXPECT_THAT(ack.error_code, IsEmpty()) << ack.raw;
    EXPECT_THAT(ack.accepted, IsEmpty()) << "resent frame " << f << " must be all duplicates: " << ack.raw;
    EXPECT_EQ(Sorted(ack.duplicates), Sorted(ids[f])) << "resent frame " << f;
  }
  EXPECT_TRUE((*client)->Close().ok());

  const std::map<std::string, int> counts = CountByMessageId(StopAndReadLog());
  EXPECT_EQ(counts.size(), static_cast<size_t>(kFrames * kEventsPerFrame));
  size_t wrong = 0;
  for (const auto& frame_ids : ids) {
    for (const std::string& id : frame_ids) {
      const auto it = counts.find(id);
      const int count = it == counts.end() ? 0 : it->second;
      if (count != 1 && ++wrong <= 10)
        ADD_FAILURE() << id << " is stored " << count << " times, expected once";
    }
  }
  EXPECT_EQ(wrong, 0u) << "events not stored exactly once";
}

TEST_F(StreamE2eTest, SingleMessageFramesAreAckedWithOrWithoutFrameId) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  struct Case {
    std::string frame;
    std::string frame_id;  // As JSON.
    std::string message_id;
  };
  const std::vector<Case> cases = {
      {R"({"frameId":"s-1","type":"track","userId":"single-user","event":"Signed Up","messageId":"single-1"})",
       Quoted("s-1"), "single-1"},
      {R"({"type":"identify","userId":"single-user","traits":{"plan":"pro"},"messageId":"single-2"})", "null",
       "single-2"},
      {R"({"type":"page","anonymousId":"anon-1","name":"Home","messageId":"single-3","frameId":42})", "42",
       "single-3"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE((*client)->SendText(c.frame).ok());
    auto ack = ReadAck(**client);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->frame_id, c.frame_id) << ack->raw;
    EXPECT_THAT(ack->error_code, IsEmpty()) << ack->raw;
    EXPECT_EQ(ack->accepted, std::vector<std::string>{c.message_id}) << ack->raw;
    EXPECT_THAT(ack->duplicates, IsEmpty()) << ack->raw;
    EXPECT_THAT(ack->rejected, IsEmpty()) << ack->raw;
  }

  // Without a messageId the ack names the generated one.
  ASSERT_TRUE(
      (*client)
          ->SendText(R"({"frameId":"s-4","type":"track","userId":"single-user","event":"No Id Sent"})")
          .ok());
  auto generated = ReadAck(**client);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->accepted.size(), 1u) << generated->raw;
  EXPECT_TRUE(generated->accepted[0].starts_with("tsr-")) << generated->raw;
  EXPECT_TRUE((*client)->Close().ok());

  const auto events = StopAndReadLog();
  for (const Case& c : cases) {
    const ingest::CanonicalEvent* event = FindEvent(events, c.message_id);
    ASSERT_NE(event, nullptr) << c.message_id << " was acked but is not in the log";
    for (const std::string* json :
         {&event->properties, &event->context, &event->traits, &event->integrations}) {
      EXPECT_THAT(*json, ::testing::Not(HasSubstr("frameId"))) << "frameId is not part of the stored event";
    }
  }
  EXPECT_NE(FindEvent(events, generated->accepted[0]), nullptr);
  EXPECT_EQ(events.size(), 4u);
}

TEST_F(StreamE2eTest, AckedEventsSurviveKillNine) {
  ASSERT_NO_FATAL_FAILURE(StartServer(std::string(kSyncedStore)));
  auto connected = Connect();
  ASSERT_TRUE(connected.ok()) << connected.status();
  WebSocketClient& client = **connected;

  constexpr int kEventsPerFrame = 25;
  constexpr int kAckedFramesBeforeKill = 60;
  std::atomic<bool> stop{false};
  std::atomic<int> acked_frames{0};
  std::mutex mutex;
  std::vector<std::string> acked_ids;  // Guarded by mutex.
  std::vector<std::string> bad_acks;   // Guarded by mutex.

  std::thread sender([&] {
    for (int f = 0; !stop.load(); ++f) {
      if (!client
               .SendText(BatchFrame("kill-" + std::to_string(f), MessageIds("kill", f, kEventsPerFrame)), 10s)
               .ok()) {
        return;  // The server is gone.
      }
    }
  });
  std::thread reader([&] {
    while (true) {
      absl::StatusOr<Ack> ack = ReadAck(client, 60s);
      if (!ack.ok()) return;
      std::lock_guard lock(mutex);
      if (!ack->error_code.empty()) bad_acks.push_back(ack->raw);
      acked_ids.insert(acked_ids.end(), ack->accepted.begin(), ack->accepted.end());
      acked_ids.insert(acked_ids.end(), ack->duplicates.begin(), ack->duplicates.end());
      acked_frames.fetch_add(1);
    }
  });

  const bool enough = WaitFor([&] { return acked_frames.load() >= kAckedFramesBeforeKill; }, 60s);
  // Kill while the sender goes on, so that frames are in flight.
  server_->Kill();
  stop.store(true);
  sender.join();
  reader.join();
  ASSERT_TRUE(enough) << "only " << acked_frames.load() << " frames were acked in 60 s";
  {
    std::lock_guard lock(mutex);
    EXPECT_THAT(bad_acks, IsEmpty());
  }

  // The store opens again, and the restarted server streams again.
  ASSERT_NO_FATAL_FAILURE(StartServer(std::string(kSyncedStore)));
  {
    auto again = Connect();
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_TRUE((*again)->SendText(BatchFrame("after-restart", {"after-restart-1"})).ok());
    auto ack = ReadAck(**again);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->accepted, std::vector<std::string>{"after-restart-1"}) << ack->raw;
    EXPECT_TRUE((*again)->Close().ok());
  }

  const std::map<std::string, int> counts = CountByMessageId(StopAndReadLog());
  std::lock_guard lock(mutex);
  size_t missing = 0;
  for (const std::string& id : acked_ids) {
    const auto it = counts.find(id);
    if (it == counts.end()) {
      if (++missing <= 10) ADD_FAILURE() << "acked event " << id << " is not in the log after kill -9";
    } else {
      EXPECT_EQ(it->second, 1) << id << " is stored " << it->second << " times";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked_ids.size() << " acked events";
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << id << " is stored " << count << " times";
  EXPECT_EQ(counts.count("after-restart-1"), 1u);
  std::cout << "[ info ] " << acked_frames.load() << " frames (" << acked_ids.size()
            << " events) acked before kill -9; the log holds " << counts.size() << " events\n";
}

TEST_F(StreamE2eTest, SigtermAcksEveryFrameItReadThenClosesWithGoingAway) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto connected = Connect();
  ASSERT_TRUE(connected.ok()) << connected.status();
  WebSocketClient& client = **connected;

  constexpr int kEventsPerFrame = 50;
  constexpr int kAckedFramesBeforeTerm = 20;
  auto frame_id = [](int frame) { return "term-" + std::to_string(frame); };
  std::atomic<bool> stop{false};
  std::atomic<int> frames_handed_over{0};  // Sends started; a timed-out one may still be written.
  std::mutex mutex;
  std::vector<Ack> acks;    // Guarded by mutex.
  absl::Status reader_end;  // Guarded by mutex.

  std::thread sender([&] {
    for (int f = 0; !stop.load(); ++f) {
      frames_handed_over.store(f + 1);
      if (!client.SendText(BatchFrame(frame_id(f), MessageIds("term", f, kEventsPerFrame)), 10s).ok()) return;
    }
  });
  std::thread reader([&] {
    while (true) {
      absl::StatusOr<Ack> ack = ReadAck(client, 60s);
      std::lock_guard lock(mutex);
      if (!ack.ok()) {
        reader_end = ack.status();
        return;
      }
      acks.push_back(std::move(*ack));
    }
  });

  const bool enough = WaitFor(
      [&] {
        std::lock_guard lock(mutex);
        return acks.size() >= kAckedFramesBeforeTerm;
      },
      60s);
  auto exit_code = server_->Terminate();
  stop.store(true);
  sender.join();
  reader.join();
  ASSERT_TRUE(enough) << "too few acks in 60 s";
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\nserver output:\n" << server_->Output();
  EXPECT_EQ(*exit_code, 0) << "server output:\n" << server_->Output();

  std::lock_guard lock(mutex);
  EXPECT_EQ(reader_end.code(), absl::StatusCode::kAborted)
      << "the server must close the WebSocket: " << reader_end;
  EXPECT_EQ(client.close_code(), std::optional<uint16_t>(1001)) << reader_end;
  ASSERT_LE(acks.size(), static_cast<size_t>(frames_handed_over.load()));

  // Acks come for a gapless prefix of the frames, in order: every frame the server read.
  std::set<std::string> stored_by_ack;
  size_t shutting_down = 0;
  for (size_t f = 0; f < acks.size(); ++f) {
    const Ack& ack = acks[f];
    ASSERT_EQ(ack.frame_id, Quoted(frame_id(static_cast<int>(f)))) << "ack " << f << ": " << ack.raw;
    if (ack.error_code.empty()) {
      std::vector<std::string> acked = ack.accepted;
      acked.insert(acked.end(), ack.duplicates.begin(), ack.duplicates.end());
      EXPECT_EQ(Sorted(acked), Sorted(MessageIds("term", static_cast<int>(f), kEventsPerFrame))) << ack.raw;
      stored_by_ack.insert(acked.begin(), acked.end());
    } else {
      EXPECT_EQ(ack.error_code, "shutting_down") << ack.raw;
      EXPECT_THAT(ack.accepted, IsEmpty()) << ack.raw;
      ++shutting_down;
    }
  }
  std::cout << "[ info ] " << frames_handed_over.load() << " frames sent, " << acks.size() << " acked ("
            << shutting_down << " shutting_down) before the close\n";

  // What was acked as stored is in the log; frames acked shutting_down or never read are not.
  const std::map<std::string, int> counts = CountByMessageId(ReadLog(data_dir()));
  for (const std::string& id : stored_by_ack) {
    const auto it = counts.find(id);
    EXPECT_TRUE(it != counts.end() && it->second == 1) << id << " was acked but is not stored exactly once";
  }
  size_t unexpected = 0;
  for (const auto& [id, count] : counts) {
    if (stored_by_ack.count(id) == 0 && ++unexpected <= 10) {
      ADD_FAILURE() << id << " is stored although its frame was not acked as stored";
    }
  }
  EXPECT_EQ(unexpected, 0u);
}

}  // namespace
}  // namespace tessera::e2e
