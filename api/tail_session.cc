// The WebSocket side of GET /v1/tail (api/tail_handler.h): one TailSession per upgraded
// connection. It subscribes to the pipeline's EventFeed; the feed's writer thread only pushes into
// the session's bounded TailQueue and, when the queue was empty, posts a wake-up to the strand.
// On the strand the session writes one message at a time: whatever has queued meanwhile goes out
// as the next "events" message, so memory per client is one message in flight plus the queue.
// Every second a timer sends the ingest rate. The WebSocket's idle timeout (with pings at half of
// it) ends connections whose client went away without closing.

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "api/internal/server_state.h"
#include "api/reply_json.h"
#include "api/tail_handler.h"

namespace tessera::api {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

// Events a client may fall behind by before the oldest are dropped: about a second of a busy
// console's worth of rows, far more than a screen shows.
constexpr size_t kTailQueueCapacity = 512;
constexpr std::chrono::milliseconds kRateInterval{1000};
// Clients only listen; anything they send is read (to see pings and the close) and thrown away.
constexpr size_t kMaxClientMessageBytes = 4096;

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
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = server_.options.write_timeout;
    timeout.idle_timeout = server_.options.stream_idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    const bool select_protocol = access_.protocol_offered;
    ws_.set_option(websocket::stream_base::decorator([select_protocol](websocket::response_type& response) {
      response.set(http::field::server, "tessera");
      // Select our protocol, never the one carrying the key: the browser requires a selection
      // from its offer, and the key must not travel back.
      if (select_protocol) response.set(http::field::sec_websocket_protocol, std::string(kTailProtocol));
    }));
    ws_.read_message_max(kMaxClientMessageBytes);
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

  void Read() {
    ws_.async_read(read_buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->read_buffer_.clear();
      if (ec) {
        // Closed by the client, timed out, or broken: stop everything.
        self->broken_ = true;
        self->rate_timer_.cancel();
        return;
      }
      self->Read();
    });
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
    ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "the server is shutting down"),
                    [self = this->shared_from_this()](beast::error_code) { self->broken_ = true; });
  }

  void Abort() {
    broken_ = true;
    rate_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
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
  std::chrono::steady_clock::time_point last_rate_time_{};
  uint64_t last_accepted_ = 0;
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  bool broken_ = false;
};

}  // namespace

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
