// End-to-end tests of flow control and idle connections on the WebSocket stream: frames refused
// by a full pipeline are retried rather than lost, a client that reads no acks is pushed back
// rather than buffered, and an idle client is disconnected only when it answers no ping.

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stream_e2e_fixture.h"

namespace tessera::e2e {
namespace {

using ::testing::IsEmpty;
using namespace std::chrono_literals;

// The server's resident memory in KiB (VmRSS), or nullopt when it cannot be read.
std::optional<int64_t> ResidentKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return std::nullopt;
}

// Sets an environment variable (inherited by servers started meanwhile) and restores it. Only
// while the test has no other threads: setenv is not thread-safe.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    ::setenv(name, value.c_str(), /*overwrite=*/1);
  }
  ~ScopedEnvironment() {
    if (old_.has_value()) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A Prometheus sample from /metrics (the line starting with `series`), or -1.
int64_t MetricValue(uint16_t port, std::string_view series) {
  HttpClient http(port);
  auto page = http.Request("GET", "/metrics");
  if (!page.ok() || page->status != 200) return -1;
  // At the start of a line: "# HELP <series> ..." names it too.
  const size_t at = page->body.find("\n" + std::string(series) + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(page->body.substr(at + 1 + series.size() + 1));
}

TEST_F(StreamE2eTest, FramesRefusedByAFullPipelineAreRetriedNotLostNorAckedAsErrors) {
  // A queue of one event: while the writer holds a group, every other frame is refused and the
  // streams must hold it (not reading further) and offer it again.
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig(R"("group_commit":{"queue_capacity_events":1})")));
  constexpr int kConnections = 6;
  constexpr int kFrames = 30;
  constexpr int kEventsPerFrame = 20;
  std::vector<std::vector<std::vector<std::string>>> ids(kConnections);
  std::vector<std::vector<std::string>> frames(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    for (int f = 0; f < kFrames; ++f) {
      ids[c].push_back(MessageIds("full-c" + std::to_string(c), f, kEventsPerFrame));
      frames[c].push_back(BatchFrame("c" + std::to_string(c) + "-" + std::to_string(f), ids[c].back()));
    }
  }
  std::vector<std::unique_ptr<WebSocketClient>> clients;
  for (int c = 0; c < kConnections; ++c) {
    auto client = Connect();
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(std::move(*client));
  }
  std::vector<std::vector<Ack>> acks(kConnections);
  std::vector<std::thread> streams;
  for (int c = 0; c < kConnections; ++c) {
    streams.emplace_back([&, c] { acks[c] = SendAndReadAcks(*clients[c], frames[c]); });
  }
  for (std::thread& stream : streams) stream.join();

  for (int c = 0; c < kConnections; ++c) {
    ASSERT_EQ(acks[c].size(), static_cast<size_t>(kFrames)) << "connection " << c;
    for (int f = 0; f < kFrames; ++f) {
      const Ack& ack = acks[c][f];
      EXPECT_THAT(ack.error_code, IsEmpty()) << "a full queue is waited out, not reported: " << ack.raw;
      EXPECT_EQ(Sorted(ack.accepted), Sorted(ids[c][f])) << ack.raw;
    }
  }
  EXPECT_GT(MetricValue(server_->port(), R"(tessera_events_total{result="overloaded"})"), 0)
      << "the queue never filled, so the retry path was not exercised";
  EXPECT_GT(MetricValue(server_->port(), "tessera_stream_pauses_total"), 0);
  EXPECT_EQ(MetricValue(server_->port(), "tessera_stream_frame_errors_total"), 0);
  for (auto& client : clients) EXPECT_TRUE(client->Close().ok());

  const std::map<std::string, int> counts = CountByMessageId(StopAndReadLog());
  EXPECT_EQ(counts.size(), static_cast<size_t>(kConnections * kFrames * kEventsPerFrame));
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 1) << id;
}

TEST_F(StreamE2eTest, ClientThatReadsNoAcksIsPushedBackInsteadOfBuffered) {
  {
    // A server built with AddressSanitizer keeps freed memory resident in its quarantine (256 MiB
    // by default), which would drown what the server buffers; this one runs without. Other
    // builds ignore the variable.
    const char* const asan_options = std::getenv("ASAN_OPTIONS");
    const std::string inherited =
        asan_options != nullptr && *asan_options != '\0' ? std::string(asan_options) + ":" : "";
    ScopedEnvironment no_quarantine("ASAN_OPTIONS", inherited + "quarantine_size_mb=0");
    ASSERT_NO_FATAL_FAILURE(
        StartServer(UnsyncedConfig(R"("stream":{"max_inflight_frames":4,"max_inflight_bytes":1048576})")));
  }
  auto connected = Connect();
  ASSERT_TRUE(connected.ok()) << connected.status();
  WebSocketClient& client = **connected;

  // Long message ids make big acks, so that the acks the client leaves unread fill the socket
  // buffers after fewer events.
  const std::string padding(40, 'p');
  auto frame_ids = [&](int frame) {
    std::vector<std::string> ids = MessageIds("pushback-" + padding, frame, 100);
    return ids;
  };
  auto frame_id = [](int frame) { return "pushback-" + std::to_string(frame); };

  // One round trip first, so that the baseline is a server with a connection in steady state.
  ASSERT_TRUE(client.SendText(BatchFrame("warm-up", MessageIds("warm-up", 0, 100))).ok());
  auto warm_up = ReadAck(client);
  ASSERT_TRUE(warm_up.ok()) << warm_up.status();
  const std::optional<int64_t> rss_before = ResidentKib(server_->pid());
  ASSERT_TRUE(rss_before.has_value()) << "cannot read VmRSS of pid " << server_->pid();
  int64_t rss_peak = *rss_before;

  // Send as fast as possible and read nothing, until a send cannot be written any more (or a
  // generous bound: the server would have to buffer all of it).
  constexpr int kMaxFrames = 10'000;
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  int frames = 0;
  size_t bytes = 0;
  bool pushed_back = false;
  while (frames < kMaxFrames && std::chrono::steady_clock::now() < give_up) {
    std::string frame = BatchFrame(frame_id(frames), frame_ids(frames));
    bytes += frame.size();
    const absl::Status sent = client.SendText(std::move(frame), 2s);
    ++frames;  // Also when the send timed out: the frame stays queued and is written later.
    if (absl::IsDeadlineExceeded(sent)) {
      pushed_back = true;
      break;
    }
    ASSERT_TRUE(sent.ok()) << "frame " << frames - 1 << ": " << sent;
    if (frames % 50 == 0) rss_peak = std::max(rss_peak, ResidentKib(server_->pid()).value_or(0));
  }
  rss_peak = std::max(rss_peak, ResidentKib(server_->pid()).value_or(0));
  std::cout << "[ info ] sent " << frames << " frames (" << bytes / 1024
            << " KiB) without reading acks; server RSS " << *rss_before / 1024 << " MiB before, "
            << rss_peak / 1024 << " MiB at most\n";
  EXPECT_TRUE(pushed_back) << "the client sent " << frames << " frames (" << bytes / 1024
                           << " KiB) while reading no acks and no send ever blocked: the server kept reading";
  constexpr int64_t kGrowthBoundKib = 200 * 1024;
  EXPECT_LT(rss_peak - *rss_before, kGrowthBoundKib)
      << "the server's memory grew from " << *rss_before << " KiB to " << rss_peak
      << " KiB while the client read no acks: it buffers instead of pushing back";

  // Reading resumes: every frame, including the one still queued, is acked in order.
  for (int f = 0; f < frames; ++f) {
    auto ack = ReadAck(client, 60s);
    ASSERT_TRUE(ack.ok()) << "ack of frame " << f << " of " << frames << ": " << ack.status();
    ASSERT_EQ(ack->frame_id, Quoted(frame_id(f))) << ack->raw;
    ASSERT_THAT(ack->error_code, IsEmpty()) << ack->raw;
    ASSERT_EQ(ack->accepted.size(), 100u) << "frame " << f;
  }
  EXPECT_TRUE(client.Close().ok());
  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server_->Output();
}

TEST_F(StreamE2eTest, ClientThatNeitherReadsNorAnswersPingsIsDisconnected) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig(R"("stream":{"idle_timeout_ms":500})")));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  // No read is pending, so the client's WebSocket answers no ping.
  const bool closed = WaitFor([&] { return (*client)->PeerClosed(); }, 30s);
  ASSERT_TRUE(closed) << "the server kept an idle connection that answered no ping for 30 s "
                         "(stream.idle_timeout_ms is 500)";
  auto after = (*client)->ReadText(10s);
  EXPECT_FALSE(after.ok()) << "expected the connection to be closed, got " << *after;
  EXPECT_NE(after.status().code(), absl::StatusCode::kDeadlineExceeded) << after.status();

  // The server goes on serving new connections.
  auto fresh = Connect();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE((*fresh)->SendText(BatchFrame("fresh", {"fresh-1"})).ok());
  auto ack = ReadAck(**fresh);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, std::vector<std::string>{"fresh-1"}) << ack->raw;
}

TEST_F(StreamE2eTest, ClientThatAnswersPingsStaysConnectedWhileIdle) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig(R"("stream":{"idle_timeout_ms":2000})")));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  // A pending read answers the server's pings: several idle timeouts pass without a message.
  auto idle = (*client)->ReadText(6s);
  ASSERT_FALSE(idle.ok()) << "the server sent a message without a frame: " << *idle;
  ASSERT_EQ(idle.status().code(), absl::StatusCode::kDeadlineExceeded)
      << "a client that answers pings must stay connected: " << idle.status();

  ASSERT_TRUE((*client)->SendText(BatchFrame("still-here", {"still-here-1"})).ok());
  auto ack = ReadAck(**client);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->frame_id, Quoted("still-here"));
  EXPECT_EQ(ack->accepted, std::vector<std::string>{"still-here-1"}) << ack->raw;
  EXPECT_TRUE((*client)->Close().ok());
}

}  // namespace
}  // namespace tessera::e2e
