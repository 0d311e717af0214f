// End-to-end tests of the tracking API: the real `tessera serve` binary on an ephemeral port,
// spoken to over real sockets, and its accepted-event log read back after it has exited.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/accepted_log.h"
#include "ingest/event.h"
#include "ingest/event_codec.h"
#include "profile_store/store.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The body without insignificant whitespace, so that assertions do not depend on formatting.
std::string Minify(std::string_view json) {
  std::string out;
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push_back(c);
    }
  }
  return out;
}

constexpr std::string_view kAbsent = "<absent>";

// The string value of `"name":"..."` inside the top-level "error" object; kAbsent when absent.
std::string ErrorMember(std::string_view body, std::string_view name) {
  const std::string json = Minify(body);
  const size_t error = json.find("\"error\":{");
  if (error == std::string::npos) return std::string(kAbsent);
  const std::string key = "\"" + std::string(name) + "\":";
  const size_t at = json.find(key, error);
  if (at == std::string::npos) return std::string(kAbsent);
  size_t position = at + key.size();
  if (json.compare(position, 4, "null") == 0) return std::string();
  if (position >= json.size() || json[position] != '"') return std::string(kAbsent);
  std::string value;
  for (++position; position < json.size() && json[position] != '"'; ++position) {
    if (json[position] == '\\' && position + 1 < json.size()) ++position;
    value.push_back(json[position]);
  }
  return value;
}


const ingest::CanonicalEvent* FindEvent(const std::vector<ingest::CanonicalEvent>& events, std::string_view id) {
  for (const auto& event : events) {
    if (event.message_id == id) return &event;
  }
  return nullptr;
}

// One TCP connection with no reconnecting, so a test can tell whether the server kept it open.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response with a Content-Length body; its status, or nullopt on EOF/timeout.
  std::optional<int> ReadResponse(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = buffer_.substr(0, head_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t length = 0;
        if (const size_t at = head.find("content-length:"); at != std::string::npos) {
          length = std::stoul(head.substr(at + 15));
        }
        if (buffer_.size() >= head_end + 4 + length) {
          const int status = std::stoi(buffer_.substr(9, 3));
          buffer_.erase(0, head_end + 4 + length);
          return status;
        }
      }
      if (!ReadMore(deadline)) return std::nullopt;
    }
  }

 private:
  bool ReadMore(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

class TrackingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Durability is durability_e2e_test's business; these tests only need a clean close.
    auto server = ServerProcess::Start({.data_dir = data_dir(), .extra_json = R"("store":{"sync_writes":false})"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = std::make_unique<HttpClient>(server_->port(), 15s);
  }

  std::string data_dir() const { return temp_.path() + "/data"; }

  // Stops the server gracefully and returns what its log holds.
  std::vector<ingest::CanonicalEvent> StopAndReadLog() {
    client_.reset();
    auto exit_code = server_->Terminate();
    EXPECT_TRUE(exit_code.ok()) << exit_code.status();
    if (exit_code.ok()) {
      EXPECT_EQ(*exit_code, 0) << "server output:\n" << server_->Output();
    }
    return ReadLog(data_dir());
  }

  void ExpectHealthy() {
    HttpClient fresh(server_->port(), 10s);
    auto health = fresh.Request("GET", "/healthz");
    ASSERT_TRUE(health.ok()) << "server no longer answers /healthz: " << health.status() << "\noutput:\n"
                             << server_->Output();
    EXPECT_EQ(health->status, 200);
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(TrackingE2eTest, EveryCallTypeIsAcceptedAndLogged) {
  struct Call {
    std::string target;
    std::string body;
  };
  const std::vector<Call> calls = {
      {"/v1/track", R"({"userId":"u-1","event":"Signed Up","properties":{"plan":"pro"},"messageId":"call-1"})"},
      {"/v1/identify", R"({"userId":"u-1","traits":{"email":"ada@example.com"},"messageId":"call-2"})"},
      {"/v1/page", R"({"anonymousId":"a-1","name":"Home","properties":{"path":"/"},"messageId":"call-3"})"},
      {"/v1/screen", R"({"userId":"u-1","name":"Dashboard","messageId":"call-4"})"},
      {"/v1/group", R"({"userId":"u-1","groupId":"g-1","traits":{"name":"Acme"},"messageId":"call-5"})"},
      {"/v1/alias", R"({"userId":"u-1","previousId":"a-1","messageId":"call-6"})"},
      {"/v1/batch", R"({"batch":[{"type":"track","userId":"u-2","event":"Order Completed","messageId":"call-7"},)"
                    R"({"type":"identify","anonymousId":"a-2","traits":{"plan":"free"},"messageId":"call-8"}]})"},
  };
  for (const Call& call : calls) {
    auto response = client_->PostJson(call.target, call.body, kWriteKey);
    ASSERT_TRUE(response.ok()) << call.target << ": " << response.status();
    EXPECT_EQ(response->status, 200) << call.target << ": " << response->body;
    EXPECT_EQ(Minify(response->body), R"({"success":true})") << call.target;
  }

  const auto events = StopAndReadLog();
  const std::vector<std::pair<std::string, ingest::EventType>> expected = {
      {"call-1", ingest::EventType::kTrack},    {"call-2", ingest::EventType::kIdentify},
      {"call-3", ingest::EventType::kPage},     {"call-4", ingest::EventType::kScreen},
      {"call-5", ingest::EventType::kGroup},    {"call-6", ingest::EventType::kAlias},
      {"call-7", ingest::EventType::kTrack},    {"call-8", ingest::EventType::kIdentify},
  };
  EXPECT_EQ(events.size(), expected.size());
  for (const auto& [id, type] : expected) {
    const ingest::CanonicalEvent* event = FindEvent(events, id);
    ASSERT_NE(event, nullptr) << id << " was acknowledged but is not in the log";
    EXPECT_EQ(event->type, type) << id;
    EXPECT_EQ(event->channel, "web") << id;
    EXPECT_EQ(event->source, "website") << id;
    EXPECT_EQ(event->space, "default") << id;
  }
  EXPECT_EQ(FindEvent(events, "call-1")->event, "Signed Up");
  EXPECT_EQ(FindEvent(events, "call-1")->user_id, "u-1");
  EXPECT_EQ(FindEvent(events, "call-3")->anonymous_id, "a-1");
  EXPECT_EQ(FindEvent(events, "call-6")->previous_id, "a-1");
  EXPECT_EQ(FindEvent(events, "call-5")->group_id, "g-1");
}

TEST_F(TrackingE2eTest, WriteKeyInTheBodyAuthenticatesAndPicksTheSource) {
  auto web = client_->PostJson(
      "/v1/track", R"({"writeKey":"test-write-key","userId":"u-1","event":"Viewed","messageId":"body-key-1"})", "");
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_EQ(web->status, 200) << web->body;
  EXPECT_EQ(Minify(web->body), R"({"success":true})");

  auto pos = client_->PostJson(
      "/v1/batch",
      R"({"writeKey":"test-pos-write-key","batch":[{"type":"track","userId":"u-1","event":"Purchased","messageId":"body-key-2"}]})",
      "");
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(pos->status, 200) << pos->body;

  const auto events = StopAndReadLog();
  const ingest::CanonicalEvent* web_event = FindEvent(events, "body-key-1");
  const ingest::CanonicalEvent* pos_event = FindEvent(events, "body-key-2");
  ASSERT_NE(web_event, nullptr);
  ASSERT_NE(pos_event, nullptr);
  EXPECT_EQ(web_event->channel, "web");
  EXPECT_EQ(pos_event->channel, "pos") << "the write key decides the channel";
  EXPECT_EQ(pos_event->source, "store");
}

TEST_F(TrackingE2eTest, InvalidEventsAreRejectedWithCodeAndField) {
  struct Case {
    std::string name;
    std::string target;
    std::string body;
    std::string code;
    std::optional<std::string> field;  // nullopt: not checked
  };
  const std::vector<Case> cases = {
      {"malformed JSON", "/v1/track", R"({"userId":"u-1","event":"x")", "invalid_json", std::nullopt},
      {"userId is an object", "/v1/track", R"({"userId":{},"event":"x","messageId":"bad-1"})", "invalid_type",
       "userId"},
      {"traits is a string", "/v1/identify", R"({"userId":"u-1","traits":"vip","messageId":"bad-2"})",
       "invalid_type", "traits"},
      {"no identity", "/v1/track", R"({"event":"x","messageId":"bad-3"})", "missing_identity", "userId"},
      {"track without event", "/v1/track", R"({"userId":"u-1","messageId":"bad-4"})", "missing_field", "event"},
      {"unknown type in batch", "/v1/batch", R"({"batch":[{"type":"foo","userId":"u-1","messageId":"bad-5"}]})",
       "unknown_type", "batch[0].type"},
      {"unparseable timestamp", "/v1/track",
       R"({"userId":"u-1","event":"x","timestamp":"yesterday","messageId":"bad-6"})", "invalid_timestamp",
       "timestamp"},
  };
  for (const Case& c : cases) {
    auto response = client_->PostJson(c.target, c.body, kWriteKey);
    ASSERT_TRUE(response.ok()) << c.name << ": " << response.status();
    EXPECT_EQ(response->status, 400) << c.name << ": " << response->body;
    EXPECT_EQ(ErrorMember(response->body, "code"), c.code) << c.name << ": " << response->body;
    EXPECT_NE(ErrorMember(response->body, "message"), kAbsent) << c.name << ": " << response->body;
    if (c.field.has_value()) {
      EXPECT_EQ(ErrorMember(response->body, "field"), *c.field) << c.name << ": " << response->body;
    }
  }
  EXPECT_TRUE(StopAndReadLog().empty()) << "rejected events must not be stored";
}

constexpr std::string_view kBatchWithOneBadEvent =
    R"({"batch":[{"type":"track","userId":"u-1","event":"A","messageId":"mixed-0"},)"
    R"({"type":"track","userId":{},"event":"B","messageId":"mixed-1"},)"
    R"({"type":"identify","userId":"u-1","traits":{"plan":"pro"},"messageId":"mixed-2"}]})";

TEST_F(TrackingE2eTest, BadEventInABatchIsReportedByIndexAndTheOthersAreStored) {
  auto response = client_->PostJson("/v1/batch", kBatchWithOneBadEvent, kWriteKey);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200) << response->body;
  const std::string body = Minify(response->body);
  EXPECT_THAT(body, HasSubstr(R"("success":true)"));
  EXPECT_THAT(body, HasSubstr(R"("accepted":2)"));
  EXPECT_THAT(body, HasSubstr(R"("duplicates":0)"));
  EXPECT_THAT(body, HasSubstr(R"("rejected":[{)"));
  EXPECT_THAT(body, HasSubstr(R"("index":1)"));
  EXPECT_THAT(body, HasSubstr(R"("messageId":"mixed-1")"));
  EXPECT_THAT(body, HasSubstr(R"("code":"invalid_type")"));
  EXPECT_THAT(body, HasSubstr(R"("field":"batch[1].userId")"));

  const auto events = StopAndReadLog();
  EXPECT_NE(FindEvent(events, "mixed-0"), nullptr) << "good event before the bad one was not stored";
  EXPECT_NE(FindEvent(events, "mixed-2"), nullptr) << "good event after the bad one was not stored";
  EXPECT_EQ(FindEvent(events, "mixed-1"), nullptr) << "the invalid event was stored";
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(TrackingE2eTest, StrictBatchWithABadEventStoresNothing) {
  auto response = client_->PostJson("/v1/batch?strict=true", kBatchWithOneBadEvent, kWriteKey);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 400) << response->body;
  EXPECT_NE(ErrorMember(response->body, "code"), kAbsent) << response->body;
  const std::string body = Minify(response->body);
  EXPECT_THAT(body, HasSubstr(R"("rejected":[{)"));
  EXPECT_THAT(body, HasSubstr(R"("index":1)"));
  EXPECT_THAT(body, HasSubstr(R"("field":"batch[1].userId")"));

  EXPECT_TRUE(StopAndReadLog().empty()) << "strict mode is all-or-nothing";
}

TEST_F(TrackingE2eTest, UnknownPathIs404) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/v1/nope"}, {"GET", "/nothing-here"}, {"GET", "/v2/track"}}) {
    auto response = client_->Request(method, target, method == "POST" ? "{}" : "",
                                     {{"Authorization", "Basic " + Base64(std::string(kWriteKey) + ":")}});
    ASSERT_TRUE(response.ok()) << target << ": " << response.status();
    EXPECT_EQ(response->status, 404) << method << " " << target << ": " << response->body;
    EXPECT_EQ(ErrorMember(response->body, "code"), "not_found") << target << ": " << response->body;
  }
}

TEST_F(TrackingE2eTest, WrongMethodIs405WithAllow) {
  auto response = client_->Request("GET", "/v1/track", "",
                                   {{"Authorization", "Basic " + Base64(std::string(kWriteKey) + ":")}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 405) << response->body;
  EXPECT_EQ(ErrorMember(response->body, "code"), "method_not_allowed") << response->body;
  ASSERT_TRUE(response->headers.contains("allow")) << "405 without an Allow header";
  EXPECT_THAT(response->headers.at("allow"), HasSubstr("POST"));
}

TEST_F(TrackingE2eTest, MissingOrUnknownWriteKeyIs401) {
  const std::string body = R"({"userId":"u-1","event":"x","messageId":"auth-1"})";
  auto missing = client_->PostJson("/v1/track", body, "");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 401) << missing->body;
  EXPECT_EQ(ErrorMember(missing->body, "code"), "unauthorized") << missing->body;

  auto unknown = client_->PostJson("/v1/track", body, "not-a-key");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->status, 401) << unknown->body;
  EXPECT_EQ(ErrorMember(unknown->body, "code"), "unauthorized") << unknown->body;

  auto unknown_in_body = client_->PostJson(
      "/v1/track", R"({"writeKey":"not-a-key","userId":"u-1","event":"x","messageId":"auth-2"})", "");
  ASSERT_TRUE(unknown_in_body.ok()) << unknown_in_body.status();
  EXPECT_EQ(unknown_in_body->status, 401) << unknown_in_body->body;

  EXPECT_TRUE(StopAndReadLog().empty()) << "unauthenticated events must not be stored";
}

TEST_F(TrackingE2eTest, OversizedRequestAndOversizedEventAre413) {
  // A batch of small events whose request body is over 500 KB.
  std::string batch = R"({"batch":[)";
  const std::string padding(700, 'x');
  for (int i = 0; batch.size() <= 520'000; ++i) {
    if (i > 0) batch += ',';
    batch += R"({"type":"track","userId":"u-1","event":"Big","messageId":"big-)" + std::to_string(i) +
             R"(","properties":{"pad":")" + padding + R"("}})";
  }
  batch += "]}";
  auto too_big_request = client_->PostJson("/v1/batch", batch, kWriteKey);
  ASSERT_TRUE(too_big_request.ok()) << too_big_request.status();
  EXPECT_EQ(too_big_request->status, 413) << too_big_request->body;
  EXPECT_EQ(ErrorMember(too_big_request->body, "code"), "payload_too_large") << too_big_request->body;
  EXPECT_NE(ErrorMember(too_big_request->body, "message").find("limit of 512000 bytes"), std::string::npos)
      << "the message must name the request limit: " << too_big_request->body;

  // The same without Content-Length (chunked): the limit is enforced while the body streams in.
  HttpClient chunked_client(server_->port());
  std::string chunked = "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " +
                        Base64(std::string(kWriteKey) + ":") + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t offset = 0; offset < batch.size(); offset += 65536) {
    const std::string chunk = batch.substr(offset, 65536);
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    chunked += size + chunk + "\r\n";
  }
  chunked += "0\r\n\r\n";
  auto too_big_chunked = chunked_client.SendRaw(chunked);
  ASSERT_TRUE(too_big_chunked.ok()) << too_big_chunked.status();
  EXPECT_EQ(too_big_chunked->status, 413) << too_big_chunked->body;
  EXPECT_EQ(ErrorMember(too_big_chunked->body, "code"), "payload_too_large") << too_big_chunked->body;

  // One event over 32 KB on a single-event endpoint.
  const std::string big_event = R"({"userId":"u-1","event":"Huge","messageId":"huge-1","properties":{"pad":")" +
                                std::string(40'000, 'y') + R"("}})";
  auto too_big_event = client_->PostJson("/v1/track", big_event, kWriteKey);
  ASSERT_TRUE(too_big_event.ok()) << too_big_event.status();
  EXPECT_EQ(too_big_event->status, 413) << too_big_event->body;
  EXPECT_EQ(ErrorMember(too_big_event->body, "code"), "event_too_large") << too_big_event->body;
  EXPECT_NE(ErrorMember(too_big_event->body, "message").find("limit of 32768 bytes"), std::string::npos)
      << "the message must name the event limit: " << too_big_event->body;

  ExpectHealthy();
  EXPECT_TRUE(StopAndReadLog().empty()) << "nothing of an oversized request may be stored";
}

TEST_F(TrackingE2eTest, KeepAliveConnectionServesSeveralRequests) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  const std::string auth = "Authorization: Basic " + Base64(std::string(kWriteKey) + ":") + "\r\n";
  for (int i = 0; i < 5; ++i) {
    const std::string body =
        R"({"userId":"u-1","event":"Clicked","messageId":"keep-alive-)" + std::to_string(i) + R"("})";
    const std::string request = "POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                                auth + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_TRUE(connection.Send(request)) << "request " << i << ": the server closed the connection";
    EXPECT_EQ(connection.ReadResponse(10s), std::optional<int>(200)) << "request " << i << " on the same connection";
  }
  ASSERT_TRUE(connection.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(connection.ReadResponse(10s), std::optional<int>(200));

  EXPECT_EQ(StopAndReadLog().size(), 5u);
}

TEST_F(TrackingE2eTest, MalformedHttpGets400OrAClosedConnection) {
  static constexpr char kBinary[] = "\x00\x01\x02\xff\xfe garbage\r\n\r\n";
  const std::vector<std::string> garbage = {
      "NONSENSE\r\n\r\n",
      std::string(kBinary, sizeof(kBinary) - 1),
      "GET /healthz HTTP/1.1\r\nHeader-Without-Colon\r\n\r\n",
      "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nX-Huge: " + std::string(64 * 1024, 'h') + "\r\n\r\n",
  };
  for (size_t i = 0; i < garbage.size(); ++i) {
    HttpClient raw(server_->port(), 15s);
    auto response = raw.SendRaw(garbage[i]);
    if (response.ok()) {
      // Anything in 4xx is a fair answer to an oversized header (431); otherwise 400.
      EXPECT_TRUE(response->status == 400 || (i == garbage.size() - 1 && response->status / 100 == 4))
          << "garbage #" << i << " got " << response->status << ": " << response->body;
    } else {
      EXPECT_NE(response.status().code(), absl::StatusCode::kDeadlineExceeded)
          << "garbage #" << i << ": the server neither answered nor closed: " << response.status();
    }
    ExpectHealthy();
  }
  auto exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server_->Output();
}

}  // namespace
}  // namespace tessera::e2e
