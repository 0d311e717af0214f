#include "tests/e2e/websocket_client.h"

#include <poll.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <deque>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/cord.h"

namespace tessera::e2e {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

template <typename... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// Where Connect puts the HTTP response of a refused upgrade: "<status>\n<body>".
constexpr char kRefusedUpgradePayload[] = "type.tessera.dev/e2e.RefusedUpgrade";

// Larger than any frame the server may send (acks) and than the 64 MiB it reads at most.
constexpr uint64_t kMaxMessageBytes = 128ull << 20;

// How long the destructor lets aborted operations finish before it stops the I/O thread anyway.
constexpr auto kShutdownGrace = std::chrono::seconds(2);

}  // namespace

std::optional<RefusedUpgrade> AsRefusedUpgrade(const absl::Status& status) {
  const auto payload = status.GetPayload(kRefusedUpgradePayload);
  if (!payload.has_value()) return std::nullopt;
  const std::string text(*payload);
  const size_t newline = text.find('\n');
  RefusedUpgrade refused;
  const char* end = newline == std::string::npos ? text.data() + text.size() : text.data() + newline;
  std::from_chars(text.data(), end, refused.status);
  if (newline != std::string::npos) refused.body = text.substr(newline + 1);
  return refused;
}

// The connection and everything the I/O thread owns. Members marked "I/O thread" are touched only
// by handlers running on it; the others say how they are guarded.
struct WebSocketClient::Impl {
  struct Outgoing {
    std::string payload;
    bool binary = false;
    bool last = true;  // false: a fragment, more of the message follows.
    std::promise<beast::error_code> written;
  };
  struct Incoming {
    beast::error_code error;
    bool text = false;
    std::string payload;
  };

  net::io_context io_context{1};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io_context);
  websocket::stream<beast::tcp_stream> ws{io_context};
  std::thread io_thread;
  std::future<void> io_thread_done;

  // A duplicate of the socket's descriptor for PeerClosed, so that the number it polls cannot be
  // reused by another socket after Beast closes its own. Set before Connect returns, closed in the
  // destructor.
  int watch_fd = -1;

  websocket::response_type handshake_response;     // I/O thread until the handshake completed.
  std::deque<std::shared_ptr<Outgoing>> outgoing;  // I/O thread.
  bool writing = false;                            // I/O thread.
  beast::error_code write_failure;                 // I/O thread: once set, every later send fails.
  beast::flat_buffer read_buffer;                  // I/O thread.

  std::mutex read_mutex;                              // Serializes ReadText callers.
  std::optional<std::future<Incoming>> pending_read;  // Guarded by read_mutex.

  mutable std::mutex close_mutex;
  std::optional<uint16_t> close_code;  // Guarded by close_mutex.
  std::string close_reason;            // Guarded by close_mutex.

  // I/O thread: remembers the server's close frame once Beast has seen one.
  void RecordCloseFrame() {
    const websocket::close_reason& reason = ws.reason();
    if (reason.code == websocket::close_code::none) return;
    std::lock_guard lock(close_mutex);
    close_code = static_cast<uint16_t>(reason.code);
    close_reason.assign(reason.reason.data(), reason.reason.size());
  }

  // I/O thread: starts writing the next queued message unless a write is under way.
  void WriteNext() {
    if (writing || outgoing.empty()) return;
    if (write_failure) {
      for (const auto& message : outgoing) message->written.set_value(write_failure);
      outgoing.clear();
      return;
    }
    writing = true;
    ws.binary(outgoing.front()->binary);
    ws.async_write_some(outgoing.front()->last, net::buffer(outgoing.front()->payload),
                        [this](beast::error_code error, std::size_t) {
                          writing = false;
                          RecordCloseFrame();
                          std::shared_ptr<Outgoing> message = std::move(outgoing.front());
                          outgoing.pop_front();
                          if (error) write_failure = error;
                          message->written.set_value(error);
                          WriteNext();
                        });
  }

  // What a failed operation means for the caller (see the header for the codes).
  absl::Status StatusOf(beast::error_code error, std::string_view what) const {
    std::optional<uint16_t> code;
    std::string reason;
    {
      std::lock_guard lock(close_mutex);
      code = close_code;
      reason = close_reason;
    }
    if (code.has_value()) {
      return absl::AbortedError(Cat(what, ": the server closed the WebSocket with code ", *code,
                                    reason.empty() ? "" : " (", reason, reason.empty() ? "" : ")"));
    }
    if (error == websocket::error::closed) {
      return absl::AbortedError(Cat(what, ": the WebSocket is closed"));
    }
    return absl::UnavailableError(Cat(what, ": ", error.message()));
  }
};

WebSocketClient::WebSocketClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<WebSocketClient>> WebSocketClient::Connect(
    uint16_t port, std::string_view target, std::optional<std::string> authorization,
    std::chrono::milliseconds timeout, std::optional<std::string> protocols, WebSocketExtras extras) {
  auto impl = std::make_unique<Impl>();
  std::packaged_task<void()> run([io_context = &impl->io_context] { io_context->run(); });
  impl->io_thread_done = run.get_future();
  impl->io_thread = std::thread(std::move(run));
  // From here on the client's destructor stops the thread, whatever happens below.
  std::unique_ptr<WebSocketClient> client(new WebSocketClient(std::move(impl)));
  Impl* const state = client->impl_.get();

  auto done = std::make_shared<std::promise<beast::error_code>>();
  std::future<beast::error_code> connected = done->get_future();
  net::post(state->io_context, [state, done, port, timeout, target = std::string(target),
                                authorization = std::move(authorization),
                                protocols = std::move(protocols), extras = std::move(extras)]() mutable {
    beast::tcp_stream& stream = beast::get_lowest_layer(state->ws);
    stream.expires_after(timeout);
    stream.async_connect(
        tcp::endpoint(net::ip::address_v4::loopback(), port),
        [state, done, port, timeout, target = std::move(target), authorization = std::move(authorization),
         protocols = std::move(protocols), extras = std::move(extras)](beast::error_code error) {
          if (error) {
            done->set_value(error);
            return;
          }
          beast::tcp_stream& stream = beast::get_lowest_layer(state->ws);
          // The WebSocket stream has its own timeouts; the TCP stream's would cut it off.
          stream.expires_never();
          beast::error_code ignored;
          stream.socket().set_option(tcp::no_delay(true), ignored);
          state->watch_fd = ::dup(stream.socket().native_handle());
          // No timers in the WebSocket stream (and no pings from the client): every call waits with
          // its own deadline, and a Beast timer left armed after a refused upgrade would hold up
          // the destructor.
          state->ws.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                               websocket::stream_base::none(), false});
          state->ws.set_option(
              websocket::stream_base::decorator([authorization, protocols, origin = extras.origin](
                                                    websocket::request_type& request) {
                request.set(http::field::user_agent, "tessera-e2e");
                if (origin.has_value()) request.set(http::field::origin, *origin);
                if (authorization.has_value()) request.set(http::field::authorization, *authorization);
                if (protocols.has_value()) request.set(http::field::sec_websocket_protocol, *protocols);
              }));
          if (extras.permessage_deflate) {
            websocket::permessage_deflate deflate;
            deflate.client_enable = true;
            state->ws.set_option(deflate);
          }
          state->ws.auto_fragment(false);
          state->ws.read_message_max(kMaxMessageBytes);
          state->ws.async_handshake(state->handshake_response, Cat("127.0.0.1:", port), target,
                                    [done](beast::error_code error) { done->set_value(error); });
        });
  });

  if (connected.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError(Cat("connecting to ws://127.0.0.1:", port, target,
                                           " did not finish within ", timeout.count(), " ms"));
  }
  const beast::error_code error = connected.get();
  const websocket::response_type& response = state->handshake_response;
  if (error == websocket::error::upgrade_declined) {
    absl::Status refused =
        absl::FailedPreconditionError(Cat("the server refused the WebSocket upgrade of ", target, ": HTTP ",
                                          response.result_int(), " ", response.body()));
    refused.SetPayload(kRefusedUpgradePayload, absl::Cord(Cat(response.result_int(), "\n", response.body())));
    return refused;
  }
  if (error == beast::error::timeout) {
    return absl::DeadlineExceededError(Cat("connecting to ws://127.0.0.1:", port, target,
                                           " did not finish within ", timeout.count(), " ms"));
  }
  if (error)
    return absl::UnavailableError(Cat("connecting to ws://127.0.0.1:", port, target, ": ", error.message()));
  return client;
}

WebSocketClient::~WebSocketClient() {
  if (impl_ == nullptr) return;
  net::post(impl_->io_context, [impl = impl_.get()] { beast::get_lowest_layer(impl->ws).close(); });
  impl_->work.reset();
  // Closing the socket completes every pending operation with an error, which ends the loop; the
  // grace is a backstop against an operation Beast keeps suspended.
  if (impl_->io_thread_done.wait_for(kShutdownGrace) != std::future_status::ready) impl_->io_context.stop();
  impl_->io_thread.join();
  if (impl_->watch_fd >= 0) ::close(impl_->watch_fd);
}

absl::Status WebSocketClient::SendText(std::string payload, std::chrono::milliseconds timeout) {
  return Send(std::move(payload), /*binary=*/false, /*last=*/true, timeout);
}

absl::Status WebSocketClient::SendBinary(std::string payload, std::chrono::milliseconds timeout) {
  return Send(std::move(payload), /*binary=*/true, /*last=*/true, timeout);
}

absl::Status WebSocketClient::SendTextFragment(std::string payload, bool last,
                                               std::chrono::milliseconds timeout) {
  return Send(std::move(payload), /*binary=*/false, last, timeout);
}

absl::Status WebSocketClient::Send(std::string payload, bool binary, bool last,
                                   std::chrono::milliseconds timeout) {
  auto message = std::make_shared<Impl::Outgoing>();
  message->payload = std::move(payload);
  message->binary = binary;
  message->last = last;
  std::future<beast::error_code> written = message->written.get_future();
  const size_t size = message->payload.size();
  net::post(impl_->io_context, [impl = impl_.get(), message = std::move(message)]() mutable {
    impl->outgoing.push_back(std::move(message));
    impl->WriteNext();
  });
  if (written.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError(Cat("a ", size, "-byte ", binary ? "binary" : "text",
                                           " message was not written within ", timeout.count(),
                                           " ms (the peer does not read); it stays queued"));
  }
  if (const beast::error_code error = written.get(); error) return impl_->StatusOf(error, "sending");
  return absl::OkStatus();
}

absl::StatusOr<std::string> WebSocketClient::ReadText(std::chrono::milliseconds timeout) {
  std::lock_guard lock(impl_->read_mutex);
  if (!impl_->pending_read.has_value()) {
    auto done = std::make_shared<std::promise<Impl::Incoming>>();
    impl_->pending_read = done->get_future();
    net::post(impl_->io_context, [impl = impl_.get(), done] {
      impl->ws.async_read(impl->read_buffer, [impl, done](beast::error_code error, std::size_t) {
        Impl::Incoming incoming;
        incoming.error = error;
        if (!error) {
          incoming.text = impl->ws.got_text();
          incoming.payload = beast::buffers_to_string(impl->read_buffer.data());
        }
        impl->read_buffer.consume(impl->read_buffer.size());
        impl->RecordCloseFrame();
        done->set_value(std::move(incoming));
      });
    });
  }
  if (impl_->pending_read->wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError(Cat("no message within ", timeout.count(), " ms"));
  }
  Impl::Incoming incoming = impl_->pending_read->get();
  impl_->pending_read.reset();
  if (incoming.error) return impl_->StatusOf(incoming.error, "reading");
  if (!incoming.text) {
    return absl::DataLossError(
        Cat("expected a text message, got a ", incoming.payload.size(), "-byte binary one"));
  }
  return std::move(incoming.payload);
}

absl::Status WebSocketClient::Close(std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<beast::error_code>>();
  std::future<beast::error_code> closed = done->get_future();
  net::post(impl_->io_context, [impl = impl_.get(), done] {
    impl->ws.async_close(websocket::close_code::normal, [impl, done](beast::error_code error) {
      impl->RecordCloseFrame();
      done->set_value(error);
    });
  });
  if (closed.wait_for(timeout) != std::future_status::ready) {
    return absl::DeadlineExceededError(
        Cat("the closing handshake did not finish within ", timeout.count(), " ms"));
  }
  if (const beast::error_code error = closed.get(); error) return impl_->StatusOf(error, "closing");
  return absl::OkStatus();
}

std::optional<uint16_t> WebSocketClient::close_code() const {
  std::lock_guard lock(impl_->close_mutex);
  return impl_->close_code;
}

std::string WebSocketClient::close_reason() const {
  std::lock_guard lock(impl_->close_mutex);
  return impl_->close_reason;
}

bool WebSocketClient::PeerClosed() const {
  if (impl_->watch_fd < 0) return false;
  pollfd watched{impl_->watch_fd, POLLRDHUP, 0};
  if (::poll(&watched, 1, 0) <= 0) return false;
  return (watched.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

std::string WebSocketClient::selected_protocol() const {
  // Written by the I/O thread before Connect returned, and not after.
  const auto value = impl_->handshake_response[http::field::sec_websocket_protocol];
  return std::string(value.data(), value.size());
}

std::string WebSocketClient::accepted_extensions() const {
  const auto value = impl_->handshake_response[http::field::sec_websocket_extensions];
  return std::string(value.data(), value.size());
}

}  // namespace tessera::e2e
