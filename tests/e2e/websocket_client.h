#pragma once

// A small WebSocket client for the end-to-end tests of `GET /v1/stream`: one connection to
// 127.0.0.1 over a real loopback socket, with a deadline on every call. Boost.Beast stays in the
// .cc, so tests include only this header.
//
// Thread-safety: one thread may send (SendText, SendBinary) while another reads (ReadText); Close
// and the accessors may be called from any thread. A background thread owns the socket: calls hand
// their operation to it and wait for the result until their deadline.
//
// Timeouts do not cancel anything. A send that timed out stays queued and is written, in order,
// when the peer reads again; a read that timed out stays pending, and the next ReadText goes on
// waiting for the same message. (So a test can tell "the server stopped reading" from "the
// connection broke", and a timed-out read never loses a message.) Note that, as with any Beast
// client, pings are answered only while a read is pending: a client that does not read looks
// dead to the server.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::e2e {

// The HTTP answer of a server that refused the upgrade (anything but 101 Switching Protocols).
struct RefusedUpgrade {
  int status = 0;    // E.g. 401, 426.
  std::string body;  // The response body as sent.
};

// When `status` is the error WebSocketClient::Connect returned for a refused upgrade, the server's
// HTTP response; otherwise (any other error, or OK) nullopt.
std::optional<RefusedUpgrade> AsRefusedUpgrade(const absl::Status& status);

// What a browser or a compressing client adds to its upgrade request.
struct WebSocketExtras {
  std::optional<std::string> origin = std::nullopt;  // Sent as the Origin header, as browsers do.
  bool permessage_deflate = false;                   // Offer (and then use) RFC 7692 compression.
};

class WebSocketClient {
 public:
  // Connects to 127.0.0.1:`port` and upgrades `target` (e.g. "/v1/stream?strict=true"), sending
  // `authorization` as the Authorization header when given. Fails with DeadlineExceeded when the
  // connection and handshake take longer than `timeout`; with FailedPrecondition carrying a
  // RefusedUpgrade (see AsRefusedUpgrade) when the server answers with another HTTP status;
  // Unavailable when the connection fails.
  // `protocols`, when given, is sent as Sec-WebSocket-Protocol (e.g. "tessera-tail, tessera-key.K").
  static absl::StatusOr<std::unique_ptr<WebSocketClient>> Connect(
      uint16_t port, std::string_view target, std::optional<std::string> authorization = std::nullopt,
      std::chrono::milliseconds timeout = std::chrono::seconds(10),
      std::optional<std::string> protocols = std::nullopt, WebSocketExtras extras = {});

  // Closes the socket (no close handshake) and stops the background thread.
  ~WebSocketClient();

  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Sends one unfragmented text (binary) message and blocks until it is written to the socket.
  // The payload is sent as is: SendText does not check that it is UTF-8. DeadlineExceeded when it
  // is not written within `timeout` (it stays queued, see above); another error when the
  // connection failed or was closed.
  absl::Status SendText(std::string payload, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  absl::Status SendBinary(std::string payload, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends one frame of a fragmented text message (`last`: the final one) and blocks until it is
  // written. For tests of a server reading a message that arrives in pieces.
  absl::Status SendTextFragment(std::string payload, bool last,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The next text message. Errors:
  //  - Aborted: the server closed the WebSocket; close_code() and close_reason() say how.
  //  - Unavailable: the connection broke without a close frame (reset, EOF).
  //  - DeadlineExceeded: nothing arrived within `timeout`; the read stays pending.
  //  - DataLoss: the message was binary.
  absl::StatusOr<std::string> ReadText(std::chrono::milliseconds timeout);

  // Starts the closing handshake with code 1000 and waits until it completes. Messages that arrive
  // meanwhile are dropped unless a ReadText is pending; call it after reading what you need.
  absl::Status Close(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The Sec-WebSocket-Protocol the server selected in its upgrade answer (empty if none).
  std::string selected_protocol() const;
  // The Sec-WebSocket-Extensions of the server's upgrade answer (empty if none).
  std::string accepted_extensions() const;

  // The code of the close frame the server sent; nullopt until one arrived.
  std::optional<uint16_t> close_code() const;
  // The reason text of that close frame (empty if none).
  std::string close_reason() const;

  // True once the server has shut down its side of the TCP connection (FIN or reset), judged from
  // the socket without reading from it. For tests of a client that does not read.
  bool PeerClosed() const;

  struct Impl;  // Beast and Asio live in the .cc.

 private:
  explicit WebSocketClient(std::unique_ptr<Impl> impl);

  absl::Status Send(std::string payload, bool binary, bool last, std::chrono::milliseconds timeout);

  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::e2e
