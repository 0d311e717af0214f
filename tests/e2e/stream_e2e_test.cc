// End-to-end tests of the WebSocket stream `GET /v1/stream` (docs/streaming.md): the real
// `tessera serve` binary on an ephemeral port, a Beast WebSocket client over loopback, and the
// accepted-event log read back after the server has exited.

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/event.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"
#include "tests/e2e/websocket_client.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;
using namespace std::chrono_literals;

constexpr std::string_view kUnsyncedStore = R"("store":{"sync_writes":false})";
constexpr std::string_view kSyncedStore = R"("store":{"sync_writes":true})";
constexpr std::string_view kAbsent = "<absent>";

// The extra config of a test server: the store without fsync (durability is the kill -9 test's
// business) and `more` members.
std::string UnsyncedConfig(std::string_view more = {}) {
  std::string json(kUnsyncedStore);
  if (!more.empty()) json += "," + std::string(more);
  return json;
}

std::string BasicAuth(std::string_view key) { return "Basic " + Base64(std::string(key) + ":"); }

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// ---------------------------------------------------------------------------------------------
// Acks

struct Rejection {
  int64_t index = -1;
  std::string message_id = std::string(kAbsent);
  std::string code = std::string(kAbsent);
  std::string message = std::string(kAbsent);
  std::string field = std::string(kAbsent);

  bool operator==(const Rejection&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Rejection& r) {
  return out << "{index " << r.index << ", messageId " << r.message_id << ", code " << r.code << ", field "
             << r.field << ", message " << r.message << "}";
}

struct Ack {
  std::string raw;                              // The ack as received, for failure messages.
  std::string frame_id = std::string(kAbsent);  // As JSON: "\"f-1\"", "42" or "null".
  std::vector<std::string> accepted;
  std::vector<std::string> duplicates;
  std::vector<Rejection> rejected;
  std::string error_code;  // Empty when the ack has no "error" member.
  std::string error_message;
};

std::string StringOr(simdjson::dom::element element, std::string_view fallback) {
  std::string_view text;
  if (element.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  if (element.is_null()) return "null";
  return std::string(fallback);
}

absl::StatusOr<std::vector<std::string>> StringArray(simdjson::dom::element element, std::string_view name) {
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("\"" + std::string(name) + "\" is not an array");
  }
  std::vector<std::string> out;
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("\"" + std::string(name) + "\" holds a non-string");
    }
    out.emplace_back(text);
  }
  return out;
}

// The "rejected" array of an ack or of an HTTP batch response.
absl::StatusOr<std::vector<Rejection>> Rejections(simdjson::dom::element element) {
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS)
    return absl::InvalidArgumentError("\"rejected\" is not an array");
  std::vector<Rejection> out;
  for (simdjson::dom::element item : array) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("\"rejected\" holds a non-object");
    }
    Rejection rejection;
    for (auto [key, value] : object) {
      if (key == "index") {
        if (value.get_int64().get(rejection.index) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError("rejected[].index is not an integer");
        }
      } else if (key == "messageId") {
        rejection.message_id = StringOr(value, "<not a string>");
      } else if (key == "code") {
        rejection.code = StringOr(value, "<not a string>");
      } else if (key == "message") {
        rejection.message = StringOr(value, "<not a string>");
      } else if (key == "field") {
        rejection.field = StringOr(value, "<not a string>");
      }
    }
    out.push_back(std::move(rejection));
  }
  return out;
}

absl::StatusOr<Ack> ParseAck(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("the ack is not a JSON object: " + std::string(json));
  }
  Ack ack;
  ack.raw = std::string(json);
  bool has_accepted = false;
  bool has_duplicates = false;
  bool has_rejected = false;
  for (auto [key, value] : object) {
    absl::Status status;
    if (key == "frameId") {
      ack.frame_id = simdjson::minify(value);
    } else if (key == "accepted") {
      auto ids = StringArray(value, key);
      if (!ids.ok()) return absl::InvalidArgumentError(ids.status().ToString() + " in " + ack.raw);
      ack.accepted = std::move(*ids);
      has_accepted = true;
    } else if (key == "duplicates") {
      auto ids = StringArray(value, key);
      if (!ids.ok()) return absl::InvalidArgumentError(ids.status().ToString() + " in " + ack.raw);
      ack.duplicates = std::move(*ids);
      has_duplicates = true;
    } else if (key == "rejected") {
      auto rejected = Rejections(value);
      if (!rejected.ok()) return absl::InvalidArgumentError(rejected.status().ToString() + " in " + ack.raw);
      ack.rejected = std::move(*rejected);
      has_rejected = true;
    } else if (key == "error") {
      simdjson::dom::element code;
      simdjson::dom::element message;
      ack.error_code =
          value["code"].get(code) == simdjson::SUCCESS ? StringOr(code, "<not a string>") : "<no code>";
      ack.error_message = value["message"].get(message) == simdjson::SUCCESS ? StringOr(message, "") : "";
    }
  }
  if (!has_accepted || !has_duplicates || !has_rejected) {
    return absl::InvalidArgumentError("an ack must have \"accepted\", \"duplicates\" and \"rejected\": " +
                                      ack.raw);
  }
  return ack;
}

absl::StatusOr<Ack> ReadAck(WebSocketClient& client, std::chrono::milliseconds timeout = 30s) {
  absl::StatusOr<std::string> text = client.ReadText(timeout);
  if (!text.ok()) return text.status();
  return ParseAck(*text);
}

// error.code of an HTTP error body; kAbsent when there is none.
std::string HttpErrorCode(std::string_view body) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::element code;
  if (parser.parse(padded)["error"]["code"].get(code) != simdjson::SUCCESS) return std::string(kAbsent);
  return StringOr(code, kAbsent);
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Frames

std::string TrackEvent(std::string_view message_id, int n) {
  return R"({"type":"track","userId":"user-)" + std::to_string(n % 97) +
         R"(","event":"Order Completed",)"
         R"("properties":{"order":)" +
         std::to_string(n) + R"(,"total":19.99,"currency":"EUR"},"messageId":")" + std::string(message_id) +
         R"("})";
}

// A batch frame whose frameId is its first member.
std::string BatchFrame(std::string_view frame_id, const std::vector<std::string>& message_ids) {
  std::string frame = R"({"frameId":")" + std::string(frame_id) + R"(","batch":[)";
  for (size_t i = 0; i < message_ids.size(); ++i) {
    if (i > 0) frame += ',';
    frame += TrackEvent(message_ids[i], static_cast<int>(i));
  }
  return frame + "]}";
}

std::vector<std::string> MessageIds(std::string_view prefix, int frame, int count) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    ids.push_back(std::string(prefix) + "-f" + std::to_string(frame) + "-e" + std::to_string(i));
  }
  return ids;
}

std::map<std::string, int> CountByMessageId(const std::vector<ingest::CanonicalEvent>& events) {
  std::map<std::string, int> counts;
  for (const auto& event : events) ++counts[event.message_id];
  return counts;
}

const ingest::CanonicalEvent* FindEvent(const std::vector<ingest::CanonicalEvent>& events,
                                        std::string_view id) {
  for (const auto& event : events) {
    if (event.message_id == id) return &event;
  }
  return nullptr;
}

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

// Sends `frames` from a second thread while this one reads one ack per frame, so neither side
// waits for the other; returns the acks in the order they arrived.
std::vector<Ack> SendAndReadAcks(WebSocketClient& client, const std::vector<std::string>& frames) {
  absl::Status send_status;
  std::thread sender([&] {
    for (const std::string& frame : frames) {
      send_status = client.SendText(frame, 30s);
      if (!send_status.ok()) return;
    }
  });
  std::vector<Ack> acks;
  for (size_t i = 0; i < frames.size(); ++i) {
    absl::StatusOr<Ack> ack = ReadAck(client);
    if (!ack.ok()) {
      ADD_FAILURE() << "ack " << i << " of " << frames.size() << ": " << ack.status();
      break;
    }
    acks.push_back(std::move(*ack));
  }
  sender.join();
  EXPECT_TRUE(send_status.ok()) << send_status;
  return acks;
}

// ---------------------------------------------------------------------------------------------

class StreamE2eTest : public ::testing::Test {
 protected:
  void StartServer(std::string extra_json) {
    auto server = ServerProcess::Start({.data_dir = data_dir(), .extra_json = std::move(extra_json)});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string data_dir() const { return temp_.path() + "/data"; }

  absl::StatusOr<std::unique_ptr<WebSocketClient>> Connect(
      std::string_view target = "/v1/stream",
      std::optional<std::string> authorization = BasicAuth(kWriteKey)) {
    return WebSocketClient::Connect(server_->port(), target, std::move(authorization));
  }

  // Stops the server gracefully and returns what its log holds.
  std::vector<ingest::CanonicalEvent> StopAndReadLog() {
    auto exit_code = server_->Terminate();
    EXPECT_TRUE(exit_code.ok()) << exit_code.status() << "\nserver output:\n" << server_->Output();
    if (exit_code.ok()) {
      EXPECT_EQ(*exit_code, 0) << "SIGTERM must exit cleanly; server output:\n" << server_->Output();
    }
    return ReadLog(data_dir());
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
};

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

TEST_F(StreamE2eTest, AuthenticatesWithWriteKeyQueryOrBasicHeader) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  {
    auto by_query = Connect("/v1/stream?writeKey=" + std::string(kPosWriteKey), std::nullopt);
    ASSERT_TRUE(by_query.ok()) << by_query.status();
    ASSERT_TRUE((*by_query)
                    ->SendText(R"({"type":"track","userId":"u-q","event":"Paid","messageId":"by-query"})")
                    .ok());
    auto ack = ReadAck(**by_query);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->accepted, std::vector<std::string>{"by-query"}) << ack->raw;
  }
  {
    auto by_header = Connect("/v1/stream", BasicAuth(kWriteKey));
    ASSERT_TRUE(by_header.ok()) << by_header.status();
    ASSERT_TRUE((*by_header)
                    ->SendText(R"({"type":"track","userId":"u-h","event":"Paid","messageId":"by-header"})")
                    .ok());
    auto ack = ReadAck(**by_header);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->accepted, std::vector<std::string>{"by-header"}) << ack->raw;
  }

  const auto events = StopAndReadLog();
  const ingest::CanonicalEvent* by_query = FindEvent(events, "by-query");
  const ingest::CanonicalEvent* by_header = FindEvent(events, "by-header");
  ASSERT_NE(by_query, nullptr);
  ASSERT_NE(by_header, nullptr);
  EXPECT_EQ(by_query->channel, "pos") << "the key in the query decides the source";
  EXPECT_EQ(by_query->source, "store");
  EXPECT_EQ(by_header->channel, "web");
  EXPECT_EQ(by_header->source, "website");
}

TEST_F(StreamE2eTest, MissingOrUnknownKeyIs401AndPlainGetIs426BeforeAnyUpgrade) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  struct Case {
    std::string name;
    std::string target;
    std::optional<std::string> authorization;
  };
  const std::vector<Case> cases = {
      {"no key at all", "/v1/stream", std::nullopt},
      {"unknown key in the header", "/v1/stream", BasicAuth("no-such-key")},
      {"unknown key in the query", "/v1/stream?writeKey=no-such-key", std::nullopt},
      {"empty key in the query", "/v1/stream?writeKey=", std::nullopt},
      {"read key", "/v1/stream", BasicAuth(kReadKey)},
      {"a present header decides alone", "/v1/stream?writeKey=" + std::string(kWriteKey),
       BasicAuth("no-such-key")},
  };
  for (const Case& c : cases) {
    auto client = Connect(c.target, c.authorization);
    ASSERT_FALSE(client.ok()) << c.name << ": the upgrade must be refused";
    const std::optional<RefusedUpgrade> refused = AsRefusedUpgrade(client.status());
    ASSERT_TRUE(refused.has_value()) << c.name << ": " << client.status();
    EXPECT_EQ(refused->status, 401) << c.name << ": " << refused->body;
    EXPECT_EQ(HttpErrorCode(refused->body), "unauthorized") << c.name << ": " << refused->body;
  }

  HttpClient http(server_->port(), 10s);
  auto plain = http.Request("GET", "/v1/stream", {}, {{"Authorization", BasicAuth(kWriteKey)}});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 426) << plain->body;
  EXPECT_EQ(HttpErrorCode(plain->body), "upgrade_required") << plain->body;

  auto post = http.Request("POST", "/v1/stream", "{}", {{"Authorization", BasicAuth(kWriteKey)}});
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405) << post->body;

  EXPECT_TRUE(StopAndReadLog().empty());
}

TEST_F(StreamE2eTest, InvalidEventsAreRejectedByIndexAsOverHttp) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  const std::string batch =
      R"([)"
      R"({"type":"track","userId":"u-1","event":"Fine","messageId":"mixed-0"},)"
      R"({"type":"track","userId":"u-1","messageId":"mixed-1"},)"
      R"({"type":"track","event":"Nobody","messageId":"mixed-2"},)"
      R"({"type":"identify","userId":{},"messageId":"mixed-3"},)"
      R"({"type":"identify","userId":"u-1","traits":{"plan":"pro"},"messageId":"mixed-4"}])";
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->SendText(R"({"frameId":"mixed","batch":)" + batch + "}").ok());
  auto ack = ReadAck(**client);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->frame_id, Quoted("mixed"));
  EXPECT_THAT(ack->error_code, IsEmpty())
      << "a frame with some invalid events is an ordinary ack: " << ack->raw;
  EXPECT_THAT(ack->accepted, UnorderedElementsAreArray({"mixed-0", "mixed-4"})) << ack->raw;
  ASSERT_EQ(ack->rejected.size(), 3u) << ack->raw;
  EXPECT_EQ(ack->rejected[0].index, 1) << ack->raw;
  EXPECT_EQ(ack->rejected[0].message_id, "mixed-1");
  EXPECT_EQ(ack->rejected[0].code, "missing_field");
  EXPECT_EQ(ack->rejected[0].field, "batch[1].event");
  EXPECT_EQ(ack->rejected[1].index, 2) << ack->raw;
  EXPECT_EQ(ack->rejected[1].message_id, "mixed-2");
  EXPECT_EQ(ack->rejected[1].code, "missing_identity");
  EXPECT_EQ(ack->rejected[2].index, 3) << ack->raw;
  EXPECT_EQ(ack->rejected[2].code, "invalid_type");
  EXPECT_EQ(ack->rejected[2].field, "batch[3].userId");
  for (const Rejection& rejection : ack->rejected) EXPECT_NE(rejection.message, kAbsent) << rejection;

  // The same batch over HTTP is rejected with the same codes, messages and fields (its valid
  // events are duplicates by now).
  HttpClient http(server_->port(), 10s);
  auto response = http.PostJson("/v1/batch", R"({"batch":)" + batch + "}", kWriteKey);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->status, 200) << response->body;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(response->body);
  simdjson::dom::element http_rejected;
  ASSERT_EQ(parser.parse(padded)["rejected"].get(http_rejected), simdjson::SUCCESS) << response->body;
  auto over_http = Rejections(http_rejected);
  ASSERT_TRUE(over_http.ok()) << over_http.status();
  EXPECT_EQ(ack->rejected, *over_http)
      << "WebSocket ack: " << ack->raw << "\nHTTP response: " << response->body;
  EXPECT_TRUE((*client)->Close().ok());

  const auto events = StopAndReadLog();
  EXPECT_NE(FindEvent(events, "mixed-0"), nullptr);
  EXPECT_NE(FindEvent(events, "mixed-4"), nullptr);
  EXPECT_EQ(events.size(), 2u) << "invalid events must not be stored";
}

TEST_F(StreamE2eTest, StrictModeStoresNothingOfAFrameWithAnInvalidEvent) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto client = Connect("/v1/stream?strict=true");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(
      (*client)
          ->SendText(R"({"frameId":"strict-bad","batch":[)"
                     R"({"type":"track","userId":"u-1","event":"A","messageId":"strict-0"},)"
                     R"({"type":"track","userId":{},"event":"B","messageId":"strict-1"},)"
                     R"({"type":"identify","userId":"u-1","traits":{"plan":"pro"},"messageId":"strict-2"}]})")
          .ok());
  auto bad = ReadAck(**client);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->frame_id, Quoted("strict-bad"));
  EXPECT_EQ(bad->error_code, "invalid_events") << bad->raw;
  EXPECT_THAT(bad->accepted, IsEmpty()) << bad->raw;
  EXPECT_THAT(bad->duplicates, IsEmpty()) << bad->raw;
  ASSERT_EQ(bad->rejected.size(), 1u) << "rejected lists why: " << bad->raw;
  EXPECT_EQ(bad->rejected[0].index, 1);
  EXPECT_EQ(bad->rejected[0].code, "invalid_type");
  EXPECT_EQ(bad->rejected[0].field, "batch[1].userId");

  // A frame without invalid events is stored in strict mode too.
  ASSERT_TRUE((*client)->SendText(BatchFrame("strict-good", {"strict-good-0", "strict-good-1"})).ok());
  auto good = ReadAck(**client);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_THAT(good->error_code, IsEmpty()) << good->raw;
  EXPECT_THAT(good->accepted, UnorderedElementsAreArray({"strict-good-0", "strict-good-1"})) << good->raw;
  EXPECT_TRUE((*client)->Close().ok());

  const auto events = StopAndReadLog();
  for (const char* id : {"strict-0", "strict-1", "strict-2"}) {
    EXPECT_EQ(FindEvent(events, id), nullptr) << id << ": strict mode is all-or-nothing per frame";
  }
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(StreamE2eTest, FrameThatIsNotJsonGetsAnErrorAckAndTheConnectionGoesOn) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  ASSERT_TRUE((*client)->SendText("this is not JSON").ok());
  auto garbage = ReadAck(**client);
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  EXPECT_EQ(garbage->error_code, "invalid_json") << garbage->raw;
  EXPECT_EQ(garbage->frame_id, "null") << "no frameId can be read from it: " << garbage->raw;
  EXPECT_NE(garbage->error_message, "") << garbage->raw;
  EXPECT_THAT(garbage->accepted, IsEmpty());
  EXPECT_THAT(garbage->duplicates, IsEmpty());
  EXPECT_THAT(garbage->rejected, IsEmpty());

  ASSERT_TRUE((*client)->SendText(R"({"frameId":"cut","batch":[{"type":"track","userId":"u-1")").ok());
  auto truncated = ReadAck(**client);
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_EQ(truncated->error_code, "invalid_json") << truncated->raw;

  ASSERT_TRUE((*client)->SendText(BatchFrame("after-garbage", {"after-garbage-0"})).ok());
  auto next = ReadAck(**client);
  ASSERT_TRUE(next.ok()) << "the connection must stay open after an unusable frame: " << next.status();
  EXPECT_EQ(next->frame_id, Quoted("after-garbage"));
  EXPECT_THAT(next->error_code, IsEmpty()) << next->raw;
  EXPECT_EQ(next->accepted, std::vector<std::string>{"after-garbage-0"}) << next->raw;
  EXPECT_TRUE((*client)->Close().ok());

  const auto events = StopAndReadLog();
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(StreamE2eTest, FrameOverTheRequestLimitIsRefusedAndTheConnectionGoesOn) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer(UnsyncedConfig(R"("limits":{"max_request_bytes":4096,"max_event_bytes":1024})")));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();

  const std::string big = BatchFrame("big-1", MessageIds("big", 1, 60));
  ASSERT_GT(big.size(), 4096u);
  ASSERT_TRUE((*client)->SendText(big).ok());
  auto too_large = ReadAck(**client);
  ASSERT_TRUE(too_large.ok()) << too_large.status();
  EXPECT_EQ(too_large->error_code, "frame_too_large") << too_large->raw;
  EXPECT_EQ(too_large->frame_id, Quoted("big-1")) << "frameId is echoed when it is the first member";
  EXPECT_THAT(too_large->accepted, IsEmpty());
  EXPECT_THAT(too_large->rejected, IsEmpty());

  // Far larger than the limit: still read, discarded and answered.
  const std::string huge = BatchFrame("huge-1", MessageIds("huge", 1, 5000));
  ASSERT_GT(huge.size(), 512u * 1024u);
  ASSERT_TRUE((*client)->SendText(huge).ok());
  auto huge_ack = ReadAck(**client);
  ASSERT_TRUE(huge_ack.ok()) << huge_ack.status();
  EXPECT_EQ(huge_ack->error_code, "frame_too_large") << huge_ack->raw;
  EXPECT_EQ(huge_ack->frame_id, Quoted("huge-1"));

  // A single message under the frame limit but over the event limit is a rejected event.
  const std::string fat =
      R"({"frameId":"fat-1","type":"track","userId":"u-1","event":"Fat","messageId":"fat-1",)"
      R"("properties":{"blob":")" +
      std::string(2000, 'x') + R"("}})";
  ASSERT_LT(fat.size(), 4096u);
  ASSERT_TRUE((*client)->SendText(fat).ok());
  auto fat_ack = ReadAck(**client);
  ASSERT_TRUE(fat_ack.ok()) << fat_ack.status();
  EXPECT_EQ(fat_ack->frame_id, Quoted("fat-1"));
  EXPECT_THAT(fat_ack->error_code, IsEmpty()) << fat_ack->raw;
  EXPECT_THAT(fat_ack->accepted, IsEmpty()) << fat_ack->raw;
  ASSERT_EQ(fat_ack->rejected.size(), 1u) << fat_ack->raw;
  EXPECT_EQ(fat_ack->rejected[0].index, 0);
  EXPECT_EQ(fat_ack->rejected[0].code, "event_too_large");

  ASSERT_TRUE((*client)->SendText(BatchFrame("small-1", {"after-big"})).ok());
  auto next = ReadAck(**client);
  ASSERT_TRUE(next.ok()) << "the connection must stay open after a frame that is too large: "
                         << next.status();
  EXPECT_EQ(next->frame_id, Quoted("small-1"));
  EXPECT_THAT(next->error_code, IsEmpty()) << next->raw;
  EXPECT_EQ(next->accepted, std::vector<std::string>{"after-big"}) << next->raw;
  EXPECT_TRUE((*client)->Close().ok());

  const auto events = StopAndReadLog();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message_id, "after-big");
}

TEST_F(StreamE2eTest, BinaryFrameClosesWith1003AfterTheAcksOfEarlierFrames) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->SendText(BatchFrame("before-binary", MessageIds("before-binary", 0, 10))).ok());
  ASSERT_TRUE((*client)->SendBinary(std::string("\x01\x02\x03", 3)).ok());

  auto ack = ReadAck(**client);
  ASSERT_TRUE(ack.ok()) << "the frame before the binary one must be acked first: " << ack.status();
  EXPECT_EQ(ack->frame_id, Quoted("before-binary"));
  EXPECT_EQ(ack->accepted.size(), 10u) << ack->raw;

  auto after = (*client)->ReadText(30s);
  ASSERT_FALSE(after.ok()) << "expected the close, got " << *after;
  EXPECT_EQ(after.status().code(), absl::StatusCode::kAborted) << after.status();
  EXPECT_EQ((*client)->close_code(), std::optional<uint16_t>(1003)) << after.status();
}

TEST_F(StreamE2eTest, TextFrameThatIsNotUtf8ClosesWith1007) {
  ASSERT_NO_FATAL_FAILURE(StartServer(UnsyncedConfig()));
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->SendText("{\"type\":\"track\",\"userId\":\"u-\xff\xfe\",\"event\":\"x\"}").ok());

  auto after = (*client)->ReadText(30s);
  ASSERT_FALSE(after.ok()) << "expected the close, got " << *after;
  EXPECT_EQ(after.status().code(), absl::StatusCode::kAborted) << after.status();
  EXPECT_EQ((*client)->close_code(), std::optional<uint16_t>(1007)) << after.status();
  EXPECT_TRUE(StopAndReadLog().empty());
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
