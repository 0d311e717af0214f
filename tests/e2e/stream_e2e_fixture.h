#pragma once

// What the end-to-end tests of the WebSocket stream `GET /v1/stream` (docs/streaming.md) share:
// the StreamE2eTest fixture (the real `tessera serve` binary on an ephemeral port, a Beast
// WebSocket client over loopback, and the accepted-event log read back after the server has
// exited), acks parsed from JSON, and frames built from message ids. The tests are in
// stream_acks_e2e_test.cc, stream_refusals_e2e_test.cc and stream_flow_e2e_test.cc.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "ingest/event.h"
#include "simdjson.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/log_reader.h"
#include "tests/e2e/websocket_client.h"

namespace tessera::e2e {

inline constexpr std::string_view kUnsyncedStore = R"("store":{"sync_writes":false})";
inline constexpr std::string_view kSyncedStore = R"("store":{"sync_writes":true})";
inline constexpr std::string_view kAbsent = "<absent>";

// The extra config of a test server: the store without fsync (durability is the kill -9 test's
// business) and `more` members.
std::string UnsyncedConfig(std::string_view more = {});

std::string BasicAuth(std::string_view key);

std::string Quoted(std::string_view text);

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

std::ostream& operator<<(std::ostream& out, const Rejection& r);

struct Ack {
  std::string raw;                              // The ack as received, for failure messages.
  std::string frame_id = std::string(kAbsent);  // As JSON: "\"f-1\"", "42" or "null".
  std::vector<std::string> accepted;
  std::vector<std::string> duplicates;
  std::vector<Rejection> rejected;
  std::string error_code;  // Empty when the ack has no "error" member.
  std::string error_message;
};

// The "rejected" array of an ack or of an HTTP batch response.
absl::StatusOr<std::vector<Rejection>> Rejections(simdjson::dom::element element);

// The next message of `client` as an ack; an error unless it is an object with "accepted",
// "duplicates" and "rejected".
absl::StatusOr<Ack> ReadAck(WebSocketClient& client,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

// error.code of an HTTP error body; kAbsent when there is none.
std::string HttpErrorCode(std::string_view body);

std::vector<std::string> Sorted(std::vector<std::string> ids);

// ---------------------------------------------------------------------------------------------
// Frames

// A batch frame whose frameId is its first member.
std::string BatchFrame(std::string_view frame_id, const std::vector<std::string>& message_ids);

std::vector<std::string> MessageIds(std::string_view prefix, int frame, int count);

std::map<std::string, int> CountByMessageId(const std::vector<ingest::CanonicalEvent>& events);

const ingest::CanonicalEvent* FindEvent(const std::vector<ingest::CanonicalEvent>& events,
                                        std::string_view id);

// Sends `frames` from a second thread while this one reads one ack per frame, so neither side
// waits for the other; returns the acks in the order they arrived.
std::vector<Ack> SendAndReadAcks(WebSocketClient& client, const std::vector<std::string>& frames);

// ---------------------------------------------------------------------------------------------

// The fixture of every stream test: a server with the extra config a test gives, WebSocket
// clients connected to it, and its log once it has stopped.
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

}  // namespace tessera::e2e
