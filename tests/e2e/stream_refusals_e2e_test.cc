// End-to-end tests of who may open a WebSocket stream and of what a stream refuses: the write key
// in the query or the Basic header, upgrades refused with 401 and plain GETs with 426, invalid
// events rejected by index as over HTTP (all of a frame in strict mode), frames that are not JSON
// or too large answered with an error ack, and binary or non-UTF-8 frames closing the connection.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stream_e2e_fixture.h"

namespace tessera::e2e {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;
using namespace std::chrono_literals;

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

}  // namespace
}  // namespace tessera::e2e
