// The audiences API through the real HTTP server (in process, on an ephemeral port), read with a
// raw socket so that the chunked framing itself is checked: a member download is sent as several
// chunks and a terminating chunk, and the connection serves the next request afterwards.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/audience_handler.h"
#include "api/http_server.h"
#include "tests/api/pipeline_fixture.h"

namespace tessera::api {
namespace {

using namespace std::chrono_literals;

// One HTTP/1.1 response as it came off the wire.
struct RawResponse {
  int status = 0;
  std::string head;   // Status line and headers.
  std::string body;   // Decoded (chunks joined).
  size_t chunks = 0;  // Data chunks, for a chunked body.
  bool chunked = false;
  std::string error = {};  // Set when the response could not be read whole.
};

// A blocking client connection with a deadline on every read.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
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
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  RawResponse ReadResponse(std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    RawResponse response;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(deadline)) return Fail(response, "no complete header");
    }
    response.head = buffer_.substr(0, header_end);
    size_t position = header_end + 4;
    if (response.head.size() < 12 || !response.head.starts_with("HTTP/1.1 "))
      return Fail(response, "bad status line");
    std::from_chars(response.head.data() + 9, response.head.data() + 12, response.status);
    response.chunked = Header(response.head, "transfer-encoding") == "chunked";
    if (response.chunked) {
      while (true) {
        size_t line_end;
        while ((line_end = buffer_.find("\r\n", position)) == std::string::npos) {
          if (!ReadMore(deadline)) return Fail(response, "truncated chunk size");
        }
        size_t size = 0;
        auto [end, error] = std::from_chars(buffer_.data() + position, buffer_.data() + line_end, size, 16);
        if (error != std::errc() || end != buffer_.data() + line_end) return Fail(response, "bad chunk size");
        position = line_end + 2;
        while (buffer_.size() < position + size + 2) {
          if (!ReadMore(deadline)) return Fail(response, "truncated chunk");
        }
        if (buffer_.compare(position + size, 2, "\r\n") != 0) return Fail(response, "chunk without CRLF");
        if (size == 0) {
          position += 2;  // No trailers: the empty line ends the body.
          break;
        }
        response.body.append(buffer_, position, size);
        ++response.chunks;
        position += size + 2;
      }
    } else {
      size_t length = 0;
      const std::string text = Header(response.head, "content-length");
      std::from_chars(text.data(), text.data() + text.size(), length);
      while (buffer_.size() < position + length) {
        if (!ReadMore(deadline)) return Fail(response, "truncated body");
      }
      response.body = buffer_.substr(position, length);
      position += length;
    }
    buffer_.erase(0, position);
    return response;
  }

  // The value of header `name` (lower case) in `head`, empty when absent.
  static std::string Header(const std::string& head, std::string_view name) {
    size_t start = head.find("\r\n");
    while (start != std::string::npos) {
      start += 2;
      const size_t end = std::min(head.find("\r\n", start), head.size());
      const std::string line = head.substr(start, end - start);
      const size_t colon = line.find(':');
      std::string key = line.substr(0, colon);
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
      if (colon != std::string::npos && key == name) {
        const size_t value = line.find_first_not_of(' ', colon + 1);
        return value == std::string::npos ? std::string() : line.substr(value);
      }
      if (end == head.size()) break;
      start = end;
    }
    return {};
  }

 private:
  bool ReadMore(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[64 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }
  static RawResponse Fail(RawResponse& response, std::string_view what) {
    response.error = std::string(what);
    return response;
  }

  int fd_ = -1;
  std::string buffer_;
};

std::string Get(std::string_view target, std::string_view key) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
         std::string(key) + "\r\n\r\n";
}

class AudienceHttpTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    config_.read_keys = {"rk"};
    config_.admin_keys = {"ak"};
    pipeline::PipelineOptions options;
    options.spaces = {"default"};
    StartPipeline({{.name = "website", .write_key = "wk", .space = "default", .channel = "web"}},
                  std::move(options));
    handler_ = std::make_unique<AudienceHandler>(
        *keys_, *store_, [this](std::string_view space) { return pipeline_->audiences(space); });
    server_ = std::make_unique<HttpServer>(ServerOptions{.port = 0, .io_threads = 1}, *keys_, *pipeline_,
                                           nullptr, handler_.get());
    ASSERT_TRUE(server_->Bind().ok());
    runner_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.joinable()) runner_.join();
    PipelineFixture::TearDown();
  }

  void Ingest(std::string body) {
    TrackingHandler tracking(*keys_, *pipeline_, ingest::SegmentParserOptions{});
    ingest::EnsurePadding(body);
    std::promise<HttpReply> promise;
    tracking.Handle({.route = RouteId::kBatch, .authorization = BasicFor("wk"), .body = &body},
                    [&](HttpReply reply) { promise.set_value(reply); });
    HttpReply reply = promise.get_future().get();
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Buyers enough for several 64 KiB chunks of CSV; returns once the resolver counted them all.
  static constexpr int kBuyers = 3000;
  void IngestBuyers() {
    for (int first = 0; first < kBuyers; first += 500) {
      std::string batch = R"({"batch":[)";
      for (int i = first; i < first + 500; ++i) {
        const std::string user = "buyer-" + std::to_string(i);
        if (i != first) batch += ",";
        batch += R"({"type":"identify","userId":")" + user + R"(","traits":{"email":")" + user +
                 R"(@example.com"}},)";
        batch += R"({"type":"track","userId":")" + user + R"(","event":"Order Completed"})";
      }
      Ingest(batch + "]}");
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (pipeline_->audiences("default")->Counters("buyers").size != kBuyers) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "the resolver never reported " << kBuyers << " members (now "
          << pipeline_->audiences("default")->Counters("buyers").size << ")";
      std::this_thread::sleep_for(10ms);
    }
  }

  std::unique_ptr<AudienceHandler> handler_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
};

TEST_F(AudienceHttpTest, MembersStreamAsSeveralChunksAndTheConnectionServesTheNextRequest) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());
  const std::string definition = R"({"condition":{"event":"Order Completed"}})";
  ASSERT_TRUE(
      connection.Send("PUT /v1/audiences/buyers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ak\r\n"
                      "Content-Length: " +
                      std::to_string(definition.size()) + "\r\n\r\n" + definition));
  RawResponse defined = connection.ReadResponse();
  ASSERT_EQ(defined.error, "");
  ASSERT_EQ(defined.status, 200) << defined.body;

  IngestBuyers();

  ASSERT_TRUE(connection.Send(Get("/v1/audiences/buyers/members?format=csv&fields=id,user_id,email", "rk")));
  RawResponse csv = connection.ReadResponse();
  ASSERT_EQ(csv.error, "") << csv.head;
  ASSERT_EQ(csv.status, 200) << csv.head;
  EXPECT_TRUE(csv.chunked) << csv.head;
  EXPECT_EQ(RawConnection::Header(csv.head, "content-length"), "") << csv.head;
  EXPECT_EQ(RawConnection::Header(csv.head, "content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(RawConnection::Header(csv.head, "content-disposition"), R"(attachment; filename="buyers.csv")");
  EXPECT_GE(csv.chunks, 2u) << "expected the body in several chunks, got " << csv.body.size()
                            << " bytes in one";

  std::vector<std::string> rows;
  for (size_t start = 0; start < csv.body.size();) {
    size_t end = csv.body.find('\n', start);
    if (end == std::string::npos) end = csv.body.size();
    std::string row = csv.body.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    rows.push_back(std::move(row));
    start = end + 1;
  }
  ASSERT_EQ(rows.size(), static_cast<size_t>(kBuyers) + 1);
  EXPECT_EQ(rows[0], "id,user_id,email");
  std::set<std::string> users;
  for (size_t i = 1; i < rows.size(); ++i) {
    const size_t comma = rows[i].find(',');
    users.insert(rows[i].substr(comma + 1));
  }
  EXPECT_EQ(users.size(), static_cast<size_t>(kBuyers)) << "every member exactly once";
  EXPECT_TRUE(users.contains("buyer-2999,buyer-2999@example.com"));

  // Keep-alive: the same connection answers the next request.
  ASSERT_TRUE(connection.Send(Get("/v1/audiences/buyers", "rk")));
  RawResponse status = connection.ReadResponse();
  ASSERT_EQ(status.error, "");
  EXPECT_EQ(status.status, 200) << status.body;
  EXPECT_NE(status.body.find(R"("size":3000)"), std::string::npos) << status.body;
}

TEST_F(AudienceHttpTest, RoutingLimitsAndErrorsThroughTheServer) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(connection.connected());

  ASSERT_TRUE(
      connection.Send("POST /v1/audiences/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ak\r\n"
                      "Content-Length: 2\r\n\r\n{}"));
  RawResponse post = connection.ReadResponse();
  EXPECT_EQ(post.status, 405) << post.body;
  EXPECT_EQ(RawConnection::Header(post.head, "allow"), "GET, PUT, DELETE");

  ASSERT_TRUE(connection.Send(Get("/v1/computed-traits", "rk")));
  RawResponse traits = connection.ReadResponse();
  EXPECT_EQ(traits.status, 200) << traits.body;
  EXPECT_EQ(traits.body, R"({"computedTraits":[)"
            R"({"name":"csat_avg_90d","definition":{"kind":"csat_average","window":"90d"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"expected_purchases_90d","definition":{"kind":"expected_purchases","horizonDays":90},)"
            R"("fromConfig":false,"builtIn":true},)"
            R"({"name":"last_contact_at","definition":{"kind":"last_contact_at"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"open_tickets","definition":{"kind":"open_tickets"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"p_alive","definition":{"kind":"p_alive"},"fromConfig":false,"builtIn":true},)"
            R"({"name":"predicted_clv_365d","definition":{"kind":"predicted_clv","horizonDays":365},)"
            R"("fromConfig":false,"builtIn":true}]})");

  ASSERT_TRUE(connection.Send(Get("/v1/audiences/nobody/members", "rk")));
  RawResponse unknown = connection.ReadResponse();
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_FALSE(unknown.chunked) << "an error before the first row is an ordinary reply";

  // Over 64 KiB: refused from the Content-Length alone, and the connection closes.
  ASSERT_TRUE(
      connection.Send("PUT /v1/audiences/huge HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ak\r\n"
                      "Content-Length: " +
                      std::to_string(AudienceHandler::kMaxBodyBytes + 1) + "\r\n\r\n"));
  RawResponse too_large = connection.ReadResponse();
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_NE(too_large.body.find("payload_too_large"), std::string::npos) << too_large.body;
}

TEST_F(AudienceHttpTest, AClientLeavingMidDownloadLeavesTheServerServing) {
  ASSERT_EQ(handler_
                ->Handle({.method = Method::kPut,
                          .path = "buyers",
                          .authorization = "Bearer ak",
                          .body = R"({"condition":{"event":"Order Completed"}})"})
                .status,
            200);
  IngestBuyers();
  for (int attempt = 0; attempt < 5; ++attempt) {
    RawConnection leaving(server_->port());
    ASSERT_TRUE(leaving.connected());
    ASSERT_TRUE(leaving.Send(Get("/v1/audiences/buyers/members?format=csv&fields=id,user_id,email", "rk")));
    // Gone without reading a byte: the server's next chunk write fails, and it must just close.
  }
  RawConnection next(server_->port());
  ASSERT_TRUE(next.connected());
  ASSERT_TRUE(next.Send(Get("/v1/audiences/buyers/members?format=ndjson&fields=id", "rk")));
  RawResponse members = next.ReadResponse();
  ASSERT_EQ(members.error, "");
  EXPECT_EQ(members.status, 200);
  EXPECT_EQ(std::count(members.body.begin(), members.body.end(), '\n'), kBuyers);
}

}  // namespace
}  // namespace tessera::api
