// End-to-end TLS on the listener: with `tls` configured the server speaks HTTPS and wss on its one
// port (events, profiles and a stream over TLS, the certificate checked by the client); a plain
// HTTP client gets no HTTP answer and does not disturb anyone; a handshake that never completes is
// closed by the read timeout; a bad certificate or key stops start-up with exit code 2.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/tls_client.h"

namespace tessera::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kReadTimeout = 1000ms;

std::string BasicAuth(std::string_view write_key) { return "Basic " + Base64(std::string(write_key) + ":"); }
std::string Bearer(std::string_view key) { return "Bearer " + std::string(key); }

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_file_ = temp_.path() + "/cert.pem";
    key_file_ = temp_.path() + "/key.pem";
    ASSERT_TRUE(WriteSelfSignedCertificate(cert_file_, key_file_).ok());
  }

  absl::StatusOr<std::unique_ptr<ServerProcess>> StartServer(const std::string& tls_json) {
    return ServerProcess::Start({.data_dir = temp_.path() + "/data",
                                 .extra_json = R"("tls":)" + tls_json + R"(,"limits":{"read_timeout_ms":)" +
                                               std::to_string(kReadTimeout.count()) + "}"});
  }

  void StartTlsServer() {
    auto started = StartServer(R"({"cert_file":")" + cert_file_ + R"(","key_file":")" + key_file_ + R"("})");
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    EXPECT_NE(server_->Output().find("listening on https://127.0.0.1:"), std::string::npos)
        << server_->Output();
  }

  std::unique_ptr<TlsClient> Connect() {
    auto client = TlsClient::Connect(server_->port(), cert_file_);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  TempDir temp_;
  std::string cert_file_;
  std::string key_file_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TlsE2eTest, EventsProfilesAndStreamsGoOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartTlsServer());
  std::unique_ptr<TlsClient> client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Version() == "TLSv1.3" || client->Version() == "TLSv1.2") << client->Version();

  auto tracked = client->Request(
      "POST", "/v1/track", R"({"userId":"tls-user","event":"Signed Up","messageId":"m-https"})",
      {{"Authorization", BasicAuth(kWriteKey)}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(tracked.ok()) << tracked.status();
  EXPECT_EQ(tracked->status, 200) << tracked->body;

  // A WebSocket stream over TLS (wss), on a connection of its own.
  std::unique_ptr<TlsClient> stream = Connect();
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(stream->UpgradeToWebSocket("/v1/stream", BasicAuth(kWriteKey)).ok());
  ASSERT_TRUE(
      stream
          ->SendText(
              R"({"frameId":"f-1","type":"track","userId":"tls-user","event":"Streamed","messageId":"m-wss"})")
          .ok());
  auto ack = stream->ReadText();
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_NE(ack->find(R"("accepted":["m-wss"])"), std::string::npos) << *ack;
  EXPECT_TRUE(stream->CloseWebSocket().ok());

  // Both events reach the profile, read over the first (kept-alive) connection.
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto profile = client->Request("GET", "/v1/profiles/user_id:tls-user?fields=eventCount", {},
                                       {{"Authorization", Bearer(kReadKey)}});
        if (!profile.ok()) return false;
        last = profile->body;
        return profile->status == 200 && last.find(R"("eventCount":2)") != std::string::npos;
      },
      30s))
      << "last answer: " << last;
  // SIGTERM with the kept-alive TLS connection idle (and its client not reading): the server sends
  // close_notify, does not wait out the grace period for an answer, and exits cleanly.
  const auto stopping = Clock::now();
  EXPECT_EQ(server_->Terminate().value_or(-1), 0) << server_->Output();
  EXPECT_LT(Clock::now() - stopping, 8s) << "the idle TLS connection held up shutdown";
}

TEST_F(TlsE2eTest, PlainHttpOnTheTlsPortGetsNoHttpAnswerAndTheServerGoesOn) {
  ASSERT_NO_FATAL_FAILURE(StartTlsServer());
  HttpClient plain(server_->port(), 10s);
  auto answer = plain.Request("GET", "/healthz");
  EXPECT_FALSE(answer.ok()) << "a plain HTTP request must not be answered in HTTP: " << answer->status;

  std::unique_ptr<TlsClient> client = Connect();
  ASSERT_NE(client, nullptr);
  auto health = client->Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200) << health->body;
}

TEST_F(TlsE2eTest, AHandshakeThatNeverCompletesIsClosedByTheReadTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartTlsServer());
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server_->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  // The first bytes of a ClientHello record, and then nothing.
  const char partial_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_EQ(::send(fd, partial_hello, sizeof(partial_hello), MSG_NOSIGNAL),
            static_cast<ssize_t>(sizeof(partial_hello)));
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < 20s) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char byte;
    closed = ::recv(fd, &byte, 1, 0) <= 0;
  }
  const auto waited = Clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(closed) << "the server kept a half-done handshake open for 20 s (the idle timeout is 60 s)";
  EXPECT_GE(waited, kReadTimeout - 100ms) << "closed before the read timeout";
  EXPECT_LT(waited, kReadTimeout + 5s) << "not closed by the read timeout";

  std::unique_ptr<TlsClient> client = Connect();
  ASSERT_NE(client, nullptr);
  auto health = client->Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
}

TEST_F(TlsE2eTest, ARequestHeadTrickledInsideOneRecordIsCutAtTheReadTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartTlsServer());
  // A head that never ends, in one TLS record sent a byte every 50 ms (about 20 s for all of it):
  // TLS delivers nothing until the whole record is in, yet the read timeout (1 s) runs from the
  // record's first byte, not from its last.
  const std::string head =
      "POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(300, 'a');
  absl::StatusOr<std::chrono::milliseconds> closed_after =
      TrickleOneRecord(server_->port(), cert_file_, head, 50ms, 30s);
  ASSERT_TRUE(closed_after.ok()) << closed_after.status();
  EXPECT_GE(*closed_after, kReadTimeout - 100ms) << "closed before the read timeout";
  EXPECT_LT(*closed_after, kReadTimeout + 5s)
      << "not cut by the read timeout but after " << closed_after->count() << " ms";
}

TEST_F(TlsE2eTest, AMissingFileOrAForeignKeyStopsStartUpNamingTheKey) {
  auto missing =
      StartServer(R"({"cert_file":")" + temp_.path() + R"(/nope.pem","key_file":")" + key_file_ + R"("})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("exited with status 2"), std::string::npos) << missing.status();
  EXPECT_NE(missing.status().message().find("tls.cert_file: cannot read"), std::string::npos)
      << missing.status();

  const std::string other_cert = temp_.path() + "/other-cert.pem";
  const std::string other_key = temp_.path() + "/other-key.pem";
  ASSERT_TRUE(WriteSelfSignedCertificate(other_cert, other_key).ok());
  auto foreign = StartServer(R"({"cert_file":")" + cert_file_ + R"(","key_file":")" + other_key + R"("})");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("exited with status 2"), std::string::npos) << foreign.status();
  EXPECT_NE(foreign.status().message().find("tls.key_file:"), std::string::npos) << foreign.status();
}

}  // namespace
}  // namespace tessera::e2e
