// Tessera's WebSocket sessions, in one translation unit so that Beast's WebSocket templates are
// compiled once: the event stream (GET /v1/stream) and the live tail (GET /v1/tail).
//
// The WebSocket side of GET /v1/stream (docs/streaming.md): one StreamSession per upgraded
// connection. Frames are read one at a time, handed to the StreamHandler, and acknowledged in the
// order they arrived. Flow control is by not reading: the session stops reading its socket while
// its in-flight frames (read, not yet acknowledged on the wire) exceed their budget, or while the
// pipeline refuses a frame for lack of room, so a fast sender is held back by TCP rather than by
// buffers growing in the server.

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "api/internal/server_state.h"
#include "api/reply_json.h"
#include "api/tail_handler.h"
#include "ingest/segment_parser.h"

namespace tessera::api {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

// A frame above the limit is read and thrown away so that the connection stays usable, up to this
// size; beyond it the stream closes with 1009 (message too big).
constexpr size_t kMaxDiscardBytes = 64 << 20;
// The deflater of acks on streams that negotiated permessage-deflate (see StreamSession::Start).
constexpr int kAckDeflateWindowBits = 10;
constexpr int kAckDeflateMemLevel = 3;
// Read size while throwing a frame away.
constexpr size_t kDiscardChunkBytes = 64 << 10;
// How much of a too-large frame is kept to find its frameId.
constexpr size_t kFrameIdPrefixBytes = 1024;
// Waits before offering a refused frame to the pipeline again.
constexpr std::chrono::milliseconds kFirstRetryDelay{2};
constexpr std::chrono::milliseconds kMaxRetryDelay{100};

// A frame between being read and having its ack written.
struct Frame {
  std::string text;            // Kept until the pipeline took it (it may refuse and need it again).
  size_t bytes = 0;            // Charged to the in-flight budget until the ack is written.
  bool waiting_retry = false;  // Refused for lack of room in the pipeline.
  bool handled = false;        // `ack` is ready.
  std::string ack;
};

// `Stream` is beast::tcp_stream (ws) or TlsStream (wss, handshake done); nothing else differs.
// The WebSocket's own timeouts replace the TCP stream's per-operation deadline: the idle timeout
// (with pings at half of it) for the open stream, the handshake one for the upgrade response and
// the closing handshake.
template <class WebSocket>
void UseWebSocketTimeouts(WebSocket& ws, const ServerOptions& options) {
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = options.write_timeout;
  timeout.idle_timeout = options.stream_idle_timeout;
  timeout.keep_alive_pings = true;
  ws.set_option(timeout);
}

// Shuts down and closes the TCP socket under a WebSocket (plain or TLS) without a close handshake,
// ignoring errors: for sessions that give up on their peer.
template <class WebSocket>
void CloseSocket(WebSocket& ws) {
  beast::error_code ignored;
  beast::get_lowest_layer(ws).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws).socket().close(ignored);
}

template <class Stream>
class StreamSession : public Connection, public std::enable_shared_from_this<StreamSession<Stream>> {
 public:
  StreamSession(Stream stream, HttpServer::Impl& server, const ingest::SourceRef& source, bool strict)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        retry_timer_(executor_),
        server_(server),
        source_(source),
        strict_(strict),
        frame_limit_(server.options.max_request_bytes) {
    server_.metrics.ConnectionOpened();
    server_.metrics.StreamOpened();
  }

  ~StreamSession() override {
    server_.metrics.StreamClosed();
    server_.metrics.ConnectionClosed();
    server_.Unregister(this);
  }

  // Runs on the connection's strand, where the HTTP session read the upgrade request.
  void Start(http::request<http::string_body> request) {
    server_.Register(this->shared_from_this());
    upgrade_request_ = std::move(request);
    UseWebSocketTimeouts(ws_, server_.options);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(http::field::server, "tessera"); }));
    if (server_.options.stream_permessage_deflate) {
      // Compressed frames (RFC 7692) when the client offers them; limits apply to the inflated
      // payload, which is what async_read_some counts.
      // Memory per compressed stream, by zlib's formulas: the inflater's window is the client's
      // (at most 32 KiB); our deflater's is 2^(window_bits+2) + 2^(mem_level+9) bytes, 136 KiB at
      // zlib's defaults and 12 KiB with a 1 KiB window. Acks are small and alike, so the small
      // window costs little compression, and 10,000 streams stay under half a GiB.
      websocket::permessage_deflate deflate;
      deflate.server_enable = true;
      deflate.server_max_window_bits = kAckDeflateWindowBits;
      deflate.memLevel = kAckDeflateMemLevel;
      ws_.set_option(deflate);
    }
    ws_.read_message_max(kMaxDiscardBytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    ws_.async_accept(upgrade_request_,
                     beast::bind_front_handler(&StreamSession::OnAccept, this->shared_from_this()));
    // Shutdown may have begun after the HTTP session looked; it then did not see this session.
    if (server_.stopping.load()) Shutdown();
  }

  // Stop reading, acknowledge every frame already read, then close with "going away".
  void Shutdown() override {
    net::dispatch(executor_, [self = this->shared_from_this()] {
      if (self->closing_) return;
      self->BeginClosing(websocket::close_code::going_away, "the server is shutting down");
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    upgrade_request_ = {};
    if (ec) return Abort();  // Beast has answered the bad upgrade already.
    accepted_ = true;
    if (closing_) return MaybeClose();
    ReadMore();
  }

  bool OverBudget() const {
    if (frames_.empty()) return false;  // One frame is always allowed, whatever its size.
    return frames_.size() >= server_.options.stream_max_inflight_frames ||
           inflight_bytes_ >= server_.options.stream_max_inflight_bytes;
  }

  void ReadMore() {
    if (reading_ || closing_ || broken_ || !accepted_) return;
    if (waiting_retries_ > 0 || OverBudget()) {
      if (!paused_) server_.metrics.CountStreamPause();
      paused_ = true;
      return;
    }
    paused_ = false;
    reading_ = true;
    // Ask for one byte more than the limit, to learn that a frame is over it without reading it all.
    const size_t limit = discarding_ ? kDiscardChunkBytes : frame_limit_ + 1 - read_buffer_.size();
    ws_.async_read_some(read_buffer_, limit,
                        beast::bind_front_handler(&StreamSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec) {
      // The client closed, went silent past the idle timeout, broke the protocol (Beast has sent
      // the close frame with the right code: 1002, 1007, 1009) or the socket failed. Frames still
      // in the pipeline are stored, but their acks have nowhere to go.
      broken_ = true;
      read_buffer_.clear();
      return;
    }
    if (closing_) {
      // Read after shutdown began: neither stored nor acknowledged; the client resends it.
      read_buffer_.clear();
      return MaybeClose();
    }
    if (ws_.got_binary()) {
      read_buffer_.clear();
      return BeginClosing(websocket::close_code::unknown_data,
                          "binary frames are not accepted; send JSON text frames");
    }
    if (discarding_) {
      read_buffer_.clear();
    } else if (read_buffer_.size() > frame_limit_) {
      discarding_ = true;
      const auto data = read_buffer_.data();
      discarded_frame_id_ = StreamHandler::FrameIdPrefix(std::string_view(
          static_cast<const char*>(data.data()), std::min(data.size(), kFrameIdPrefixBytes)));
      read_buffer_.clear();
    }
    if (ws_.is_message_done()) OnFrame();
    ReadMore();
  }

  void OnFrame() {
    server_.metrics.CountFrame();
    auto frame = std::make_shared<Frame>();
    frames_.push_back(frame);
    if (discarding_) {
      discarding_ = false;
      OnHandled(frame, StreamHandler::TooLargeAck(discarded_frame_id_, frame_limit_));
      return;
    }
    const auto data = read_buffer_.data();
    frame->text.reserve(data.size() + ingest::RequiredPadding());
    frame->text.assign(static_cast<const char*>(data.data()), data.size());
    ingest::EnsurePadding(frame->text);
    read_buffer_.clear();
    frame->bytes = frame->text.size();
    inflight_bytes_ += frame->bytes;
    Handle(frame);
  }

  void Handle(const std::shared_ptr<Frame>& frame) {
    server_.stream.HandleFrame(
        source_, strict_, frame->text, [self = this->shared_from_this(), frame](FrameOutcome outcome) {
          // Completion may come from the log writer's thread.
          net::post(self->executor_, [self, frame, outcome = std::move(outcome)]() mutable {
            self->OnHandled(frame, std::move(outcome));
          });
        });
  }

  void OnHandled(const std::shared_ptr<Frame>& frame, FrameOutcome outcome) {
    if (outcome.retry) {
      frame->waiting_retry = true;
      ++waiting_retries_;
      return ArmRetry();
    }
    retry_delay_ = kFirstRetryDelay;
    if (outcome.error) server_.metrics.CountFrameError();
    frame->handled = true;
    frame->ack = std::move(outcome.ack);
    std::string().swap(frame->text);
    WriteAcks();
    ReadMore();
  }

  void ArmRetry() {
    if (retry_armed_) return;
    retry_armed_ = true;
    if (!paused_) server_.metrics.CountStreamPause();
    paused_ = true;
    retry_timer_.expires_after(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
    retry_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      self->retry_armed_ = false;
      if (ec) return;
      // In arrival order; each refusal comes back through OnHandled and re-arms the timer.
      for (const std::shared_ptr<Frame>& frame : self->frames_) {
        if (!frame->waiting_retry) continue;
        frame->waiting_retry = false;
        --self->waiting_retries_;
        self->Handle(frame);
      }
    });
  }

  // Writes the acks that are ready, in arrival order: a frame's ack waits for those before it.
  void WriteAcks() {
    if (writing_ || broken_) return;
    if (frames_.empty() || !frames_.front()->handled) return MaybeClose();
    writing_ = true;
    ws_.async_write(net::buffer(frames_.front()->ack),
                    beast::bind_front_handler(&StreamSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
    writing_ = false;
    if (ec) return Abort();
    inflight_bytes_ -= frames_.front()->bytes;
    frames_.pop_front();
    WriteAcks();
    ReadMore();
  }

  void BeginClosing(websocket::close_code code, std::string_view reason) {
    closing_ = true;
    close_reason_ = websocket::close_reason(code, reason);
    MaybeClose();
  }

  // Closes once closing was asked for and every frame read has its ack on the wire.
  void MaybeClose() {
    if (!closing_ || close_started_ || broken_ || !accepted_ || writing_ || !frames_.empty()) return;
    close_started_ = true;
    retry_timer_.cancel();
    ws_.async_close(close_reason_,
                    [self = this->shared_from_this()](beast::error_code) { self->broken_ = true; });
  }

  void Abort() {
    broken_ = true;
    retry_timer_.cancel();
    CloseSocket(ws_);
  }

  websocket::stream<Stream> ws_;
  const net::any_io_executor executor_;  // The connection's strand: every member below is used on it.
  net::steady_timer retry_timer_;
  HttpServer::Impl& server_;
  const ingest::SourceRef& source_;
  const bool strict_;
  const size_t frame_limit_;

  http::request<http::string_body> upgrade_request_;  // Until the upgrade is answered.
  beast::flat_buffer read_buffer_;                    // The frame being read.
  std::deque<std::shared_ptr<Frame>> frames_;         // Read and not yet acknowledged, in order.
  size_t inflight_bytes_ = 0;
  size_t waiting_retries_ = 0;
  std::chrono::milliseconds retry_delay_ = kFirstRetryDelay;
  std::string discarded_frame_id_;
  websocket::close_reason close_reason_;
  bool accepted_ = false;    // The upgrade was answered.
  bool reading_ = false;     // A read is pending.
  bool writing_ = false;     // An ack write is pending.
  bool paused_ = false;      // Not reading, for flow control.
  bool discarding_ = false;  // The current frame is over the limit and being thrown away.
  bool retry_armed_ = false;
  bool closing_ = false;  // No more frames are read; close after the last ack.
  bool close_started_ = false;
  bool broken_ = false;  // The WebSocket is closed or failed: no more I/O.
};

// ---------------------------------------------------------------------------------------------
// The live tail, GET /v1/tail (api/tail_handler.h): one TailSession per upgraded
// connection. It subscribes to the pipeline's EventFeed; the feed's writer thread only pushes into
// the session's bounded TailQueue and, when the queue was empty, posts a wake-up to the strand.
// On the strand the session writes one message at a time: whatever has queued meanwhile goes out
// as the next "events" message, so memory per client is one message in flight plus the queue.
// Every second a timer sends the ingest rate. The WebSocket's idle timeout (with pings at half of
// it) ends connections whose client went away without closing.

// Events a client may fall behind by before the oldest are dropped: about a second of a busy
// console's worth of rows, far more than a screen shows.
constexpr size_t kTailQueueCapacity = 512;
constexpr std::chrono::milliseconds kRateInterval{1000};
// Clients only listen; anything they send is read (to see pings and the close) and thrown away.
constexpr size_t kMaxClientMessageBytes = 4096;
// What Beast itself refuses, far above kMaxClientMessageBytes: the session counts a message's bytes
// and starts the close handshake (1009) itself, which lets the client finish sending and read the
// code. Beast's own refusal hangs up after reading one more chunk, and a client still sending the
// rest gets a reset instead of the close frame.
constexpr size_t kMaxClientFrameBytes = 64 << 20;

// The feed's side of a session. It outlives the session only while a Publish holds it; `alive_`
// (under its mutex) keeps it from posting to a strand whose io_context may be gone.
class TailSubscriber : public ingest::EventFeedSubscriber {
 public:
  TailSubscriber(net::any_io_executor executor, std::string space, std::function<void()> wake)
      : executor_(std::move(executor)),
        space_(std::move(space)),
        wake_(std::move(wake)),
        queue_(kTailQueueCapacity) {}

  void OnEvents(const std::vector<ingest::EventSummary>& events) override {
    if (!queue_.Push(events, space_)) return;
    std::lock_guard lock(mutex_);
    if (alive_) net::post(executor_, wake_);
  }

  void Detach() {
    std::lock_guard lock(mutex_);
    alive_ = false;
    wake_ = nullptr;
  }

  TailQueue& queue() { return queue_; }

 private:
  const net::any_io_executor executor_;
  const std::string space_;
  std::mutex mutex_;
  bool alive_ = true;
  std::function<void()> wake_;
  TailQueue queue_;
};

template <class Stream>
class TailSession : public Connection, public std::enable_shared_from_this<TailSession<Stream>> {
 public:
  TailSession(Stream stream, HttpServer::Impl& server, TailAccess access)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        rate_timer_(executor_),
        server_(server),
        access_(std::move(access)) {
    server_.metrics.ConnectionOpened();
  }

  ~TailSession() override {
    if (subscriber_) {
      server_.pipeline.feed().Unsubscribe(subscriber_.get());
      subscriber_->Detach();
    }
    server_.metrics.ConnectionClosed();
    server_.Unregister(this);
  }

  void Start(http::request<http::string_body> request) {
    server_.Register(this->shared_from_this());
    upgrade_request_ = std::move(request);
    UseWebSocketTimeouts(ws_, server_.options);
    const bool select_protocol = access_.protocol_offered;
    ws_.set_option(websocket::stream_base::decorator([select_protocol](websocket::response_type& response) {
      response.set(http::field::server, "tessera");
      // Select our protocol, never the one carrying the key: the browser requires a selection
      // from its offer, and the key must not travel back.
      if (select_protocol) response.set(http::field::sec_websocket_protocol, std::string(kTailProtocol));
    }));
    ws_.read_message_max(kMaxClientFrameBytes);
    ws_.text(true);
    ws_.async_accept(upgrade_request_,
                     beast::bind_front_handler(&TailSession::OnAccept, this->shared_from_this()));
    if (server_.stopping.load()) Shutdown();
  }

  void Shutdown() override {
    net::dispatch(executor_, [self = this->shared_from_this()] {
      if (self->closing_) return;
      self->closing_ = true;
      self->MaybeClose();
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    upgrade_request_ = {};
    if (ec) return Abort();
    accepted_ = true;
    if (closing_) return MaybeClose();
    std::weak_ptr<TailSession> weak = this->shared_from_this();
    subscriber_ = std::make_shared<TailSubscriber>(executor_, access_.space, [weak] {
      if (auto self = weak.lock()) self->Flush();
    });
    server_.pipeline.feed().Subscribe(subscriber_);
    last_rate_time_ = std::chrono::steady_clock::now();
    last_accepted_ = server_.pipeline.metrics().events_accepted.load(std::memory_order_relaxed);
    Send(TailHelloMessage(access_.space, kTailQueueCapacity, kRateInterval.count()));
    Read();
    ArmRateTimer();
  }

  // Reads and throws away what the client sends, one byte past the limit at most, so that an
  // oversized message is known before it is read whole.
  void Read() {
    const size_t limit = kMaxClientMessageBytes + 1 - message_bytes_;
    ws_.async_read_some(read_buffer_, limit,
                        beast::bind_front_handler(&TailSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t bytes) {
    message_bytes_ += bytes;
    read_buffer_.clear();
    if (ec) {
      // Closed by the client, timed out, or broken: stop everything.
      broken_ = true;
      rate_timer_.cancel();
      return;
    }
    if (message_bytes_ > kMaxClientMessageBytes) {
      // No more reads: the close handshake reads the rest of the message and the client's close.
      closing_ = true;
      deliver_before_close_ = false;
      close_reason_ = websocket::close_reason(websocket::close_code::too_big,
                                              "messages to the tail are limited to 4096 bytes");
      return MaybeClose();
    }
    if (ws_.is_message_done()) message_bytes_ = 0;
    Read();
  }

  void ArmRateTimer() {
    rate_timer_.expires_after(kRateInterval);
    rate_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->broken_ || self->closing_) return;
      const auto now = std::chrono::steady_clock::now();
      const uint64_t accepted =
          self->server_.pipeline.metrics().events_accepted.load(std::memory_order_relaxed);
      const double seconds = std::chrono::duration<double>(now - self->last_rate_time_).count();
      const double rate = seconds > 0 ? static_cast<double>(accepted - self->last_accepted_) / seconds : 0.0;
      self->last_rate_time_ = now;
      self->last_accepted_ = accepted;
      self->pending_rate_ =
          TailRateMessage(rate, accepted, self->server_.pipeline.feed().subscriber_count(), ReceivedNow());
      self->Flush();
      self->ArmRateTimer();
    });
  }

  // Writes the next message if none is in flight: queued events first, then the rate.
  void Flush() {
    if (writing_ || broken_ || !accepted_ || close_started_) return;
    if (closing_ && !deliver_before_close_) return MaybeClose();
    TailQueue::Batch batch = subscriber_->queue().Take();
    if (!batch.events.empty() || batch.dropped > 0) return Send(TailEventsMessage(batch));
    if (!pending_rate_.empty()) return Send(std::exchange(pending_rate_, std::string()));
    MaybeClose();
  }

  void Send(std::string message) {
    writing_ = true;
    outgoing_ = std::move(message);
    ws_.async_write(net::buffer(outgoing_),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->outgoing_.clear();
                      if (ec) return self->Abort();
                      self->Flush();
                    });
  }

  void MaybeClose() {
    if (!closing_ || close_started_ || broken_ || !accepted_ || writing_) return;
    close_started_ = true;
    rate_timer_.cancel();
    ws_.async_close(close_reason_,
                    [self = this->shared_from_this()](beast::error_code) { self->broken_ = true; });
  }

  void Abort() {
    broken_ = true;
    rate_timer_.cancel();
    CloseSocket(ws_);
  }

  websocket::stream<Stream> ws_;
  const net::any_io_executor executor_;  // The connection's strand: every member below is used on it.
  net::steady_timer rate_timer_;
  HttpServer::Impl& server_;
  const TailAccess access_;
  std::shared_ptr<TailSubscriber> subscriber_;
  http::request<http::string_body> upgrade_request_;
  beast::flat_buffer read_buffer_;
  std::string outgoing_;      // The message being written.
  std::string pending_rate_;  // The latest rate, waiting for the write in flight.
  size_t message_bytes_ = 0;  // Read of the client's current message.
  // On shutdown what is queued is sent before the close (ingestion is stopping too, so it ends); a
  // client closed for what it sent gets nothing more.
  bool deliver_before_close_ = true;
  websocket::close_reason close_reason_{websocket::close_code::going_away, "the server is shutting down"};
  std::chrono::steady_clock::time_point last_rate_time_{};
  uint64_t last_accepted_ = 0;
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  bool broken_ = false;
};

template <class Stream>
void StartSession(Stream stream, HttpServer::Impl& server, const ingest::SourceRef& source, bool strict,
                  http::request<http::string_body> request) {
  std::make_shared<StreamSession<Stream>>(std::move(stream), server, source, strict)
      ->Start(std::move(request));
}

}  // namespace

void StartEventStream(beast::tcp_stream stream, HttpServer::Impl& server, const ingest::SourceRef& source,
                      bool strict, http::request<http::string_body> request) {
  StartSession(std::move(stream), server, source, strict, std::move(request));
}

void StartEventStream(TlsStream stream, HttpServer::Impl& server, const ingest::SourceRef& source,
                      bool strict, http::request<http::string_body> request) {
  StartSession(std::move(stream), server, source, strict, std::move(request));
}

void StartTail(beast::tcp_stream stream, HttpServer::Impl& server, TailAccess access,
               http::request<http::string_body> request) {
  std::make_shared<TailSession<beast::tcp_stream>>(std::move(stream), server, std::move(access))
      ->Start(std::move(request));
}

void StartTail(TlsStream stream, HttpServer::Impl& server, TailAccess access,
               http::request<http::string_body> request) {
  std::make_shared<TailSession<TlsStream>>(std::move(stream), server, std::move(access))
      ->Start(std::move(request));
}

}  // namespace tessera::api
