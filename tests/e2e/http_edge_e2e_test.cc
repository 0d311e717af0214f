// End-to-end tests of what real clients meet at the HTTP edge, against the real `tessera serve`
// binary over sockets: browsers' CORS preflights and headers, Segment's short paths and settings
// document, compressed bodies (and bombs), refusals that a client still sending must be able to
// read, and the read timeout of a request head that trickles in.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/websocket_client.h"
#include "tests/support/gzip.h"

namespace tessera::e2e {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kShop = "http://shop.example";
constexpr std::string_view kCopycat = "http://copycat.example";

using tessera::testing::Compress;
using tessera::testing::Gzip;

std::string Basic(std::string_view key) { return "Basic " + Base64(std::string(key) + ":"); }

std::string Header(const HttpResponse& response, const std::string& name) {
  auto found = response.headers.find(name);
  return found == response.headers.end() ? "<absent>" : found->second;
}

// Peak resident memory of a process, from /proc (kB).
long PeakRssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  }
  return -1;
}

int ConnectTo(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes (or `timeout`): what a client sees of the answer.
struct Received {
  std::string bytes;
  bool closed = false;       // EOF or reset seen
  bool reset = false;        // ECONNRESET while reading
  Clock::time_point when{};  // when it closed
};
Received ReadUntilClosed(int fd, std::chrono::milliseconds timeout) {
  Received received;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left, 1))) <= 0) continue;
    char chunk[16384];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      received.bytes.append(chunk, static_cast<size_t>(n));
      continue;
    }
    received.closed = true;
    received.reset = n < 0 && errno == ECONNRESET;
    received.when = Clock::now();
    break;
  }
  return received;
}

// What an ordinary client does: write the whole request (blocking), then read the answer. A server
// that closes while such a client is still writing makes the write fail (EPIPE, ECONNRESET) or the
// answer vanish in a reset. The request goes out in pieces of 64 KiB, 50 ms apart, as over a slow
// uplink, so that the server has answered long before the client is done.
absl::StatusOr<std::string> WriteAllThenRead(uint16_t port, const std::string& request) {
  const int fd = ConnectTo(port);
  if (fd < 0) return absl::UnavailableError("cannot connect");
  constexpr size_t kPiece = 64 * 1024;
  size_t sent = 0;
  while (sent < request.size()) {
    if (sent > 0 && sent % kPiece == 0) std::this_thread::sleep_for(50ms);
    const size_t piece = std::min(kPiece - sent % kPiece, request.size() - sent);
    const ssize_t n = ::send(fd, request.data() + sent, piece, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(std::string("writing the request failed after ") + std::to_string(sent) +
                                    " bytes: " + std::strerror(error));
    }
    sent += static_cast<size_t>(n);
  }
  const Received received = ReadUntilClosed(fd, 20s);
  ::close(fd);
  if (received.reset)
    return absl::UnavailableError("connection reset while reading the answer: " + received.bytes);
  return received.bytes;
}

class HttpEdgeE2eTest : public ::testing::Test {
 protected:
  void Start(std::string extra_json = {}, std::string source_extra = {}) {
    auto server = ServerProcess::Start({.data_dir = temp_.path() + "/data",
                                        .extra_json = std::move(extra_json),
                                        .source_extra = std::move(source_extra)});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  // The number of events of a profile, or -1 when it is not found.
  int EventCount(const std::string& ref) {
    auto response = client_->Request("GET", "/v1/profiles/" + ref + "?fields=eventCount", {},
                                     {{"Authorization", "Bearer " + std::string(kReadKey)}});
    if (!response.ok() || response->status != 200) return -1;
    const size_t at = response->body.find("\"eventCount\":");
    return at == std::string::npos ? -1 : std::stoi(response->body.substr(at + 13));
  }

  // Waits until the profile of `ref` counts `events` events (the resolver is asynchronous).
  bool WaitForEvents(const std::string& ref, int events) {
    return WaitFor([&] { return EventCount(ref) == events; }, 20s);
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpEdgeE2eTest, BrowserPreflightsAreAnsweredForTheSourcesOriginsOnly) {
  Start(R"("cors":{"api_origins":["http://crm.example"]})", R"(,"allowed_origins":["http://shop.example"])");
  auto allowed = client_->Request("OPTIONS", "/v1/t", {},
                                  {{"Origin", std::string(kShop)},
                                   {"Access-Control-Request-Method", "POST"},
                                   {"Access-Control-Request-Headers", "authorization,content-type"}});
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(allowed->status, 204) << allowed->body;
  EXPECT_EQ(Header(*allowed, "access-control-allow-origin"), kShop);
  EXPECT_EQ(Header(*allowed, "access-control-allow-methods"), "POST");
  EXPECT_EQ(Header(*allowed, "access-control-allow-headers"), "authorization,content-type");
  EXPECT_NE(Header(*allowed, "access-control-max-age"), "<absent>");

  auto refused = client_->Request(
      "OPTIONS", "/v1/t", {}, {{"Origin", std::string(kCopycat)}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(Header(*refused, "access-control-allow-origin"), "<absent>")
      << "a disallowed origin gets no allow header";

  auto profiles_from_shop =
      client_->Request("OPTIONS", "/v1/profiles/user_id:u-1", {},
                       {{"Origin", std::string(kShop)}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(profiles_from_shop.ok());
  EXPECT_EQ(Header(*profiles_from_shop, "access-control-allow-origin"), "<absent>")
      << "tracking origins may not read profiles";
  auto profiles_from_crm = client_->Request("OPTIONS", "/v1/profiles/user_id:u-1", {},
                                            {{"Origin", "http://crm.example"},
                                             {"Access-Control-Request-Method", "GET"},
                                             {"Access-Control-Request-Headers", "authorization"}});
  ASSERT_TRUE(profiles_from_crm.ok());
  EXPECT_EQ(profiles_from_crm->status, 204);
  EXPECT_EQ(Header(*profiles_from_crm, "access-control-allow-origin"), "http://crm.example");

  auto plain = client_->Request("OPTIONS", "/v1/batch");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 204);
  EXPECT_EQ(Header(*plain, "allow"), "POST, OPTIONS");
  auto unknown = client_->Request("OPTIONS", "/v1/nothing-here");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(HttpEdgeE2eTest, ShortPathsTakeTextPlainFromAllowedPagesAndRefuseOthers) {
  Start({}, R"(,"allowed_origins":["http://shop.example"])");
  // What analytics.js sends: text/plain (no preflight for the body type), the key in the body.
  const std::string event =
      R"({"writeKey":")" + std::string(kWriteKey) +
      R"(","type":"page","anonymousId":"anon-browser-1","name":"Home","messageId":"p-1"})";
  auto page = client_->Request("POST", "/v1/p", event,
                               {{"Content-Type", "text/plain"}, {"Origin", std::string(kShop)}});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200) << page->body;
  EXPECT_EQ(Header(*page, "access-control-allow-origin"), kShop) << "the page may read the answer";
  EXPECT_EQ(Header(*page, "vary"), "Origin");

  const std::string copied =
      R"({"writeKey":")" + std::string(kWriteKey) +
      R"(","type":"track","anonymousId":"anon-browser-1","event":"Injected","messageId":"t-x"})";
  auto injected = client_->Request("POST", "/v1/t", copied,
                                   {{"Content-Type", "text/plain"}, {"Origin", std::string(kCopycat)}});
  ASSERT_TRUE(injected.ok());
  EXPECT_EQ(injected->status, 403) << injected->body;
  EXPECT_THAT(injected->body, HasSubstr("origin_not_allowed"));

  // A beacon: the key in the query string, the body as text.
  auto beacon =
      client_->Request("POST", "/beacon/v1/batch?writeKey=" + std::string(kWriteKey),
                       R"({"batch":[{"type":"track","anonymousId":"anon-browser-1","event":"Left",)"
                       R"("messageId":"t-2"}]})",
                       {{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", std::string(kShop)}});
  ASSERT_TRUE(beacon.ok());
  EXPECT_EQ(beacon->status, 200) << beacon->body;
  EXPECT_TRUE(WaitForEvents("anonymous_id:anon-browser-1", 2))
      << "the page view and the beacon are stored, the copycat's event is not: "
      << EventCount("anonymous_id:anon-browser-1");
}

TEST_F(HttpEdgeE2eTest, TheUnsignedCsvConnectorAndTheLiveTailRefusePagesOfOtherOrigins) {
  Start(
      {},
      R"(,"allowed_origins":["http://shop.example"],"connectors":{"csv":{"columns":{"receipt_id":"Receipt",)"
      R"("email":"Email","timestamp":"Date"}}})");
  const std::string csv = "Receipt,Email,Date\n7001,csv@example.com,2026-12-01T10:00:00Z\n";
  // text/csv needs no preflight: the connector itself must refuse a page of another site.
  auto copycat = client_->Request("POST", "/v1/connectors/pos/csv?writeKey=" + std::string(kWriteKey), csv,
                                  {{"Content-Type", "text/csv"}, {"Origin", std::string(kCopycat)}});
  ASSERT_TRUE(copycat.ok()) << copycat.status();
  EXPECT_EQ(copycat->status, 403) << copycat->body;
  EXPECT_THAT(copycat->body, HasSubstr("origin_not_allowed"));
  auto till = client_->Request("POST", "/v1/connectors/pos/csv?writeKey=" + std::string(kWriteKey), csv,
                               {{"Content-Type", "text/csv"}});
  ASSERT_TRUE(till.ok());
  EXPECT_EQ(till->status, 200) << "a server posting (no Origin) is not affected: " << till->body;
  EXPECT_THAT(till->body, HasSubstr(R"("accepted":1)"));
  EXPECT_TRUE(WaitForEvents("email:csv@example.com", 1)) << "only the till's row is stored";

  // The live tail is read access: the console's own origin may open it, another site may not.
  const std::string bearer = "Bearer " + std::string(kReadKey);
  auto foreign = WebSocketClient::Connect(server_->port(), "/v1/tail", bearer, 10s, std::nullopt,
                                          {.origin = std::string(kShop)});
  ASSERT_FALSE(foreign.ok());
  const std::optional<RefusedUpgrade> refused = AsRefusedUpgrade(foreign.status());
  ASSERT_TRUE(refused.has_value()) << foreign.status();
  EXPECT_EQ(refused->status, 403) << "a tracking origin is no reading origin";
  auto console = WebSocketClient::Connect(server_->port(), "/v1/tail", bearer, 10s, std::nullopt,
                                          {.origin = "http://127.0.0.1:" + std::to_string(server_->port())});
  EXPECT_TRUE(console.ok()) << console.status();
}

TEST_F(HttpEdgeE2eTest, SettingsDocumentPointsTheSdkHereAndUnknownKeysAreNotFound) {
  Start();
  auto settings = client_->Request("GET", "/v1/projects/" + std::string(kWriteKey) + "/settings");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->status, 200) << settings->body;
  EXPECT_THAT(settings->body,
              HasSubstr(R"("apiHost":"127.0.0.1:)" + std::to_string(server_->port()) + R"(/v1")"));
  EXPECT_THAT(settings->body, HasSubstr(R"("protocol":"http")"));
  EXPECT_THAT(settings->body, Not(HasSubstr(std::string(kPosWriteKey)))) << "no other source's key";
  // Behind a proxy that terminates TLS, the page reached the proxy: the SDK must send there.
  auto proxied = client_->Request("GET", "/v1/projects/" + std::string(kWriteKey) + "/settings", {},
                                  {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "cdp.example.com"}});
  ASSERT_TRUE(proxied.ok());
  EXPECT_THAT(proxied->body, HasSubstr(R"("apiHost":"cdp.example.com/v1","protocol":"https")"));
  auto unknown = client_->Request("GET", "/v1/projects/nobody/settings");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  auto read_key = client_->Request("GET", "/v1/projects/" + std::string(kReadKey) + "/settings");
  ASSERT_TRUE(read_key.ok());
  EXPECT_EQ(read_key->status, 404) << "a read key is no source";
  auto rudder = client_->Request("GET", "/sourceConfig/?p=npm&v=3&writeKey=" + std::string(kWriteKey));
  ASSERT_TRUE(rudder.ok());
  EXPECT_EQ(rudder->status, 200) << rudder->body;
  EXPECT_THAT(rudder->body, HasSubstr(R"("destinations":[])"));

  auto root = client_->Request("GET", "/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(Header(*root, "location"), "/console/");
}

TEST_F(HttpEdgeE2eTest, GzipAndDeflateBodiesAreDecodedOnEveryIngestPath) {
  Start();
  // What RudderStack's Node SDK sends: gzipped JSON labelled as a form.
  const std::string batch =
      R"({"batch":[{"type":"identify","userId":"u-gzip","traits":{"email":"GZ@Example.com"},)"
      R"("messageId":"g-1"},{"type":"track","userId":"u-gzip","event":"Order Completed",)"
      R"("messageId":"g-2"}],"sentAt":"2026-12-03T10:00:00.000Z"})";
  auto gzipped = client_->Request("POST", "/v1/batch", Gzip(batch),
                                  {{"Content-Type", "application/x-www-form-urlencoded"},
                                   {"Content-Encoding", "gzip"},
                                   {"Authorization", Basic(kWriteKey)}});
  ASSERT_TRUE(gzipped.ok()) << gzipped.status();
  EXPECT_EQ(gzipped->status, 200) << gzipped->body;

  const std::string single = R"({"userId":"u-gzip","event":"Viewed","messageId":"g-3"})";
  const std::string deflated = Compress(single, 15);
  auto deflate_reply = client_->Request(
      "POST", "/v1/t", deflated, {{"Content-Encoding", "deflate"}, {"Authorization", Basic(kWriteKey)}});
  ASSERT_TRUE(deflate_reply.ok());
  EXPECT_EQ(deflate_reply->status, 200) << deflate_reply->body;
  EXPECT_TRUE(WaitForEvents("email:gz@example.com", 3)) << EventCount("email:gz@example.com");

  auto truncated = client_->Request("POST", "/v1/batch", Gzip(batch).substr(0, 40),
                                    {{"Content-Encoding", "gzip"}, {"Authorization", Basic(kWriteKey)}});
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(truncated->status, 400) << truncated->body;
  EXPECT_THAT(truncated->body, HasSubstr("invalid_encoding"));
  auto labelled_empty = client_->Request("GET", "/healthz", {}, {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(labelled_empty.ok());
  EXPECT_EQ(labelled_empty->status, 200) << "an empty body has nothing to decode: " << labelled_empty->body;
  auto brotli = client_->Request("POST", "/v1/batch", batch,
                                 {{"Content-Encoding", "br"}, {"Authorization", Basic(kWriteKey)}});
  ASSERT_TRUE(brotli.ok());
  EXPECT_EQ(brotli->status, 415) << brotli->body;
}

TEST_F(HttpEdgeE2eTest, AGzipBombIsRefusedWithoutTheServerHoldingItsDecodedSize) {
  Start();
  // 256 MiB of one byte gzip to about 250 KiB: under the 500 KB body limit, far over it decoded.
  const std::string bomb = Gzip(std::string(256 << 20, ' '));
  ASSERT_LT(bomb.size(), 500u * 1024);
  const long before = PeakRssKb(server_->pid());
  for (int i = 0; i < 3; ++i) {
    HttpClient client(server_->port());
    auto reply = client.Request("POST", "/v1/batch", bomb,
                                {{"Content-Encoding", "gzip"}, {"Authorization", Basic(kWriteKey)}});
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, 413) << reply->body;
    EXPECT_THAT(reply->body, HasSubstr("payload_too_large"));
  }
  const long after = PeakRssKb(server_->pid());
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 64 * 1024) << "peak RSS grew from " << before << " kB to " << after
                                       << " kB: the decoded body was not bounded by the limit";
  auto health = client_->Request("GET", "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpEdgeE2eTest, AClientStillSendingAnOversizedBatchReadsThe413) {
  Start();
  std::string events;
  while (events.size() < 600 * 1024) {
    events += R"({"type":"track","userId":"u-big","event":"Bulk","properties":{"pad":")" +
              std::string(900, 'x') + R"("}},)";
  }
  events.pop_back();
  const std::string body = "{\"batch\":[" + events + "]}";
  const std::string head =
      "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Authorization: " +
      Basic(kWriteKey) + "\r\n";
  // Content-Length known in advance: the refusal is decided before the body is read.
  absl::StatusOr<std::string> sized = WriteAllThenRead(
      server_->port(), head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_THAT(*sized, ::testing::StartsWith("HTTP/1.1 413")) << sized->substr(0, 300);
  EXPECT_THAT(*sized, HasSubstr("payload_too_large"));

  // Chunked: the limit is found in the middle of the body.
  std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 8192) {
    const std::string piece = body.substr(at, 8192);
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
    chunked += size + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  absl::StatusOr<std::string> streamed = WriteAllThenRead(server_->port(), chunked);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_THAT(*streamed, ::testing::StartsWith("HTTP/1.1 413")) << streamed->substr(0, 300);
  EXPECT_EQ(EventCount("user_id:u-big"), -1) << "nothing of the refused batches was stored";
}

TEST_F(HttpEdgeE2eTest, ARequestHeadThatTricklesInIsCutAtTheReadTimeout) {
  Start(R"("limits":{"read_timeout_ms":500,"idle_timeout_ms":60000})");
  // Idle before the first byte is the idle timeout's business: a request after a pause longer
  // than the read timeout is served.
  const int idle_fd = ConnectTo(server_->port());
  ASSERT_GE(idle_fd, 0);
  std::this_thread::sleep_for(1500ms);
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(idle_fd, health.data(), health.size(), MSG_NOSIGNAL), static_cast<ssize_t>(health.size()));
  const Received answer = ReadUntilClosed(idle_fd, 10s);
  ::close(idle_fd);
  EXPECT_THAT(answer.bytes, ::testing::StartsWith("HTTP/1.1 200")) << answer.bytes;

  // A head sent one byte every 100 ms never completes: the connection is closed about 500 ms after
  // its first byte, not after the 60 s idle timeout.
  const int fd = ConnectTo(server_->port());
  ASSERT_GE(fd, 0);
  const std::string slow =
      "POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(200, 'a');
  const auto began = Clock::now();
  bool closed = false;
  for (char c : slow) {
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      char byte;
      if (::recv(fd, &byte, 1, 0) <= 0) {
        closed = true;
        break;
      }
    }
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
  ::close(fd);
  EXPECT_TRUE(closed) << "a head still incomplete after " << elapsed.count() << " ms was not cut";
  EXPECT_LT(elapsed.count(), 10'000) << "cut only after " << elapsed.count() << " ms";
  EXPECT_GE(elapsed.count(), 400) << "cut before the read timeout";
}

TEST_F(HttpEdgeE2eTest, StreamsTakeCompressedFramesAndRefusePagesOfOtherOrigins) {
  Start({}, R"(,"allowed_origins":["http://shop.example"])");
  auto refused = WebSocketClient::Connect(server_->port(), "/v1/stream?writeKey=" + std::string(kWriteKey),
                                          std::nullopt, 10s, std::nullopt, {.origin = std::string(kCopycat)});
  ASSERT_FALSE(refused.ok());
  const std::optional<RefusedUpgrade> upgrade = AsRefusedUpgrade(refused.status());
  ASSERT_TRUE(upgrade.has_value()) << refused.status();
  EXPECT_EQ(upgrade->status, 403);
  EXPECT_THAT(upgrade->body, HasSubstr("origin_not_allowed"));

  auto client =
      WebSocketClient::Connect(server_->port(), "/v1/stream?writeKey=" + std::string(kWriteKey), std::nullopt,
                               10s, std::nullopt, {.origin = std::string(kShop), .permessage_deflate = true});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_THAT((*client)->accepted_extensions(), HasSubstr("permessage-deflate"));
  // Highly compressible, and over the 500 KB frame limit only once inflated.
  const std::string frame =
      R"({"frameId":"f-1","batch":[{"type":"track","userId":"u-ws","event":"Z","messageId":"z-1",)"
      R"("properties":{"pad":")" +
      std::string(20000, 'z') + R"("}}]})";
  ASSERT_TRUE((*client)->SendText(frame).ok());
  auto ack = (*client)->ReadText(10s);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_THAT(*ack, HasSubstr(R"("accepted":["z-1"])"));
  const std::string huge =
      R"({"frameId":"f-2","batch":[{"type":"track","userId":"u-ws","event":"Z","messageId":"z-2",)"
      R"("properties":{"pad":")" +
      std::string(600 * 1024, 'z') + R"("}}]})";
  ASSERT_TRUE((*client)->SendText(huge).ok());
  auto too_large = (*client)->ReadText(10s);
  ASSERT_TRUE(too_large.ok()) << too_large.status();
  EXPECT_THAT(*too_large, HasSubstr("frame_too_large")) << "the frame limit counts inflated bytes";
}


// HEAD answers with the headers of the GET, its Content-Length included, and no body, on every
// route that takes GET (a profile, the metrics), and the connection stays usable.
TEST_F(HttpEdgeE2eTest, AHeadRequestGetsTheHeadersOfTheGetWithoutTheBody) {
  Start();
  auto sent = client_->PostJson("/v1/identify", R"({"userId":"head-1","traits":{"plan":"pro"}})", kWriteKey);
  ASSERT_TRUE(sent.ok() && sent->status == 200);
  ASSERT_TRUE(WaitForEvents("user_id:head-1", 1));
  auto get = client_->Request("GET", "/v1/profiles/user_id:head-1", {},
                              {{"Authorization", "Bearer " + std::string(kReadKey)}});
  ASSERT_TRUE(get.ok() && get->status == 200);
  for (const std::string target : {"/v1/profiles/user_id:head-1", "/healthz"}) {
    const int fd = ConnectTo(server_->port());
    ASSERT_GE(fd, 0);
    const std::string request = "HEAD " + target + " HTTP/1.1\r\nHost: tessera\r\nAuthorization: Bearer " +
                                std::string(kReadKey) + "\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    Received received = ReadUntilClosed(fd, 10s);
    ::close(fd);
    ASSERT_TRUE(received.closed) << received.bytes;
    EXPECT_TRUE(received.bytes.starts_with("HTTP/1.1 200")) << received.bytes;
    const size_t end = received.bytes.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << received.bytes;
    EXPECT_EQ(received.bytes.size(), end + 4) << target << ": a body followed the headers: " << received.bytes;
    if (target.starts_with("/v1/profiles/")) {
      EXPECT_NE(received.bytes.find("Content-Length: " + std::to_string(get->body.size())), std::string::npos)
          << received.bytes;
    }
  }
}

}  // namespace
}  // namespace tessera::e2e
