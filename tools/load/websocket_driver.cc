#include "tools/load/websocket_driver.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <cstdio>
#include <deque>
#include <exception>
#include <string_view>
#include <utility>

#include "simdjson.h"
#include "tools/load/event_generator.h"

namespace tessera::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = beast::error_code;

// How often a session checks its deadlines and whether the run is over.
constexpr std::chrono::milliseconds kTick{50};
// Bytes masked and handed to the socket per write call (Beast's default, 4 KiB, costs ~15 system
// calls per 60 KB frame).
constexpr size_t kWriteBufferBytes = 64 * 1024;
// Failures described on stderr per connection; later ones are only counted.
constexpr int kFailuresReported = 5;
// Largest ack accepted: a 100-event frame with every event rejected is ~30 KB.
constexpr size_t kMaxAckBytes = 4 * 1024 * 1024;

// What one ack says (docs/streaming.md, "Acknowledgements").
struct AckSummary {
  std::string_view frame_id = "null";  // The frameId token as written ("17", "null", "\"f-1\"").
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  std::optional<std::string> error_code;  // error.code when the frame was refused as a whole.
};

// Reads acks with simdjson's on-demand API into a reused padded buffer. A summary's views point
// into that buffer and stay valid until the next Read.
class AckReader {
 public:
  // False, with `problem` saying why, when `json` is not an ack object.
  bool Read(std::string_view json, AckSummary& ack, std::string& problem) {
    buffer_.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    buffer_.assign(json);
    ack = AckSummary{};
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity()).get(document) ||
        document.get_object().get(object)) {
      problem = "not a JSON object";
      return false;
    }
    for (auto member : object) {
      std::string_view key;
      simdjson::ondemand::value value;
      if (member.unescaped_key().get(key) || member.value().get(value)) {
        problem = "malformed member";
        return false;
      }
      if (key == "frameId") {
        std::string_view token = value.raw_json_token();
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
          token.remove_suffix(1);
        ack.frame_id = token;
      } else if (key == "accepted" || key == "duplicates" || key == "rejected") {
        uint64_t& count = key == "accepted"     ? ack.accepted
                          : key == "duplicates" ? ack.duplicates
                                                : ack.rejected;
        simdjson::ondemand::array array;
        if (value.get_array().get(array)) {
          problem = std::string(key) + ": expected an array";
          return false;
        }
        for (auto element : array) {
          if (element.error()) {
            problem = std::string(key) + ": malformed array";
            return false;
          }
          ++count;
        }
      } else if (key == "error") {
        simdjson::ondemand::json_type type;
        if (value.type().get(type)) {
          problem = "error: malformed value";
          return false;
        }
        if (type == simdjson::ondemand::json_type::null) continue;
        std::string_view code = "unknown";
        simdjson::ondemand::object error;
        if (!value.get_object().get(error)) {
          std::string_view text;
          if (!error["code"].get_string().get(text)) code = text;
        }
        ack.error_code = std::string(code);
      }
    }
    return true;
  }

 private:
  simdjson::ondemand::parser parser_;
  std::string buffer_;
};

// What a connection keeps across reconnects.
struct ConnectionState {
  ConnectionState(int index, uint64_t seed, const WebSocketDriverOptions& options,
                  WebSocketRunControl& control)
      : index(index),
        options(options),
        control(control),
        generator(seed, options.event_bytes),
        next_send(control.start + options.send_interval) {}

  const int index;
  const WebSocketDriverOptions& options;
  WebSocketRunControl& control;
  EventGenerator generator;
  Clock::time_point next_send;  // When pacing allows the next frame.
  uint64_t next_frame_id = 1;
  int failures_reported = 0;
  AckReader ack_reader;
  WebSocketStats stats;
};

bool RunOver(const WebSocketRunControl& control) {
  return control.stop->load(std::memory_order_relaxed) || Clock::now() >= control.end ||
         (control.frame_limit && control.frames_claimed.load() >= *control.frame_limit);
}

std::string Milliseconds(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) + " ms";
}

enum class SessionEnd {
  kDone,     // Every frame sent was acknowledged and the connection closed normally.
  kFailed,   // The connection could not be opened or was lost.
  kRefused,  // The server answered the upgrade with an HTTP error: retrying would not help.
};

// One connection attempt: connect, upgrade, stream frames while reading acks, close. Runs on a
// single-threaded io_context, so handlers never run concurrently and need no strand. Handlers
// capture `this`: the owner runs the io_context until it has no work left before destroying the
// session, and Finish cancels every timer and closes the socket, so that happens promptly.
// At most one async_write (one frame) and one async_read are pending at a time, as Beast requires;
// async_close starts only when no write is pending.
class Session {
 public:
  Session(asio::io_context& io, ConnectionState& connection, const tcp::endpoint& endpoint)
      : connection_(connection),
        options_(connection.options),
        control_(connection.control),
        endpoint_(endpoint),
        ws_(io),
        tick_timer_(io),
        pace_timer_(io),
        read_delay_timer_(io) {}

  void Start() {
    beast::get_lowest_layer(ws_).expires_after(options_.timeout);
    beast::get_lowest_layer(ws_).async_connect(endpoint_, [this](ErrorCode ec) { OnConnect(ec); });
    ArmTick();
  }

  SessionEnd result() const { return result_; }
  uint64_t frames_acked() const { return frames_acked_; }

 private:
  struct InFlight {
    uint64_t frame_id;
    Clock::time_point sent_at;  // When its write started.
  };

  void OnConnect(ErrorCode ec) {
    if (finished_) return;
    if (ec) return Fail("cannot connect", ec);
    beast::get_lowest_layer(ws_).expires_never();  // The websocket layer's timeouts take over.
    ErrorCode ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.timeout;           // Also bounds the close handshake.
    timeouts.idle_timeout = websocket::stream_base::none();  // Acks have their own deadline (OnTick).
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& request) {
      request.set(http::field::authorization, options_.authorization);
      request.set(http::field::user_agent, "tessera-load");
    }));
    ws_.write_buffer_bytes(kWriteBufferBytes);
    ws_.read_message_max(kMaxAckBytes);
    ws_.text(true);
    ws_.async_handshake(upgrade_response_, options_.host, "/v1/stream",
                        [this](ErrorCode ec) { OnHandshake(ec); });
  }

  void OnHandshake(ErrorCode ec) {
    if (finished_) return;
    if (ec == websocket::error::upgrade_declined) {
      std::string body = upgrade_response_.body().substr(0, 300);
      std::fprintf(stderr, "tessera-load: connection %d: the server refused the upgrade: HTTP %u %s\n",
                   connection_.index, upgrade_response_.result_int(), body.c_str());
      ++connection_.stats.connect_failures;
      return Finish(SessionEnd::kRefused);
    }
    if (ec) return Fail("WebSocket upgrade failed", ec);
    open_ = true;
    StartRead();
    MaybeSend();
  }

  // Starts writing the next frame if the window, the pacing and the run allow it.
  void MaybeSend() {
    if (finished_ || !open_ || closing_ || writing_ || sender_done_) return;
    if (control_.stop->load(std::memory_order_relaxed) || Clock::now() >= control_.end) {
      sender_done_ = true;
      return MaybeClose();
    }
    if (!options_.unbounded && inflight_.size() >= options_.inflight) return;  // An ack reopens it.
    if (options_.send_interval > Clock::duration::zero() && connection_.next_send > Clock::now()) {
      if (!pacing_) {
        pacing_ = true;
        pace_timer_.expires_at(std::min(connection_.next_send, control_.end));
        pace_timer_.async_wait([this](ErrorCode ec) {
          pacing_ = false;
          if (!ec) MaybeSend();
        });
      }
      return;
    }
    if (control_.frame_limit && control_.frames_claimed.fetch_add(1) >= *control_.frame_limit) {
      sender_done_ = true;
      return MaybeClose();
    }
    std::string batch;  // {"batch":[...],...}
    frame_events_ = options_.batch;
    if (options_.next_batch) {
      if (!options_.next_batch(batch, frame_events_)) {
        sender_done_ = true;
        return MaybeClose();
      }
    } else {
      batch = connection_.generator.NextBatch(options_.batch);
    }
    connection_.next_send += options_.send_interval;

    const uint64_t frame_id = connection_.next_frame_id++;
    frame_.clear();
    frame_ += "{\"frameId\":";
    frame_ += std::to_string(frame_id);
    frame_ += ',';
    frame_.append(batch, 1);
    inflight_.push_back({frame_id, Clock::now()});
    writing_ = true;
    ws_.async_write(asio::buffer(frame_), [this](ErrorCode ec, size_t) { OnWrite(ec); });
  }

  void OnWrite(ErrorCode ec) {
    writing_ = false;
    if (finished_) return;
    if (ec) return Fail("cannot send a frame", ec);
    WebSocketStats& stats = connection_.stats;
    ++stats.frames_sent;
    stats.events_sent += frame_events_;
    stats.bytes_sent += frame_.size();
    MaybeSend();
    MaybeClose();
  }

  void StartRead() {
    ws_.async_read(read_buffer_, [this](ErrorCode ec, size_t) { OnRead(ec); });
  }

  // The next read, after the --slow-reader-ms pause if there is one.
  void ScheduleRead() {
    if (options_.slow_reader.count() == 0) return StartRead();
    read_delay_timer_.expires_after(options_.slow_reader);
    read_delay_timer_.async_wait([this](ErrorCode ec) {
      if (!ec && !finished_ && !closing_) StartRead();
    });
  }

  void OnRead(ErrorCode ec) {
    if (finished_) return;
    if (ec) {
      if (closing_) return;  // Our close handshake ended the read; OnClose finishes.
      if (ec == websocket::error::closed) {
        const websocket::close_reason& reason = ws_.reason();
        return Fail("the server closed the connection with code " + std::to_string(reason.code) +
                    (reason.reason.empty() ? std::string() : " (" + std::string(reason.reason) + ")"));
      }
      return Fail("cannot read an ack", ec);
    }
    const std::string_view text(static_cast<const char*>(read_buffer_.data().data()), read_buffer_.size());
    if (!ws_.got_text()) return Fail("the server sent a binary frame");
    if (inflight_.empty()) return Fail("an ack arrived for no frame: " + std::string(text.substr(0, 200)));
    AckSummary ack;
    std::string problem;
    if (!connection_.ack_reader.Read(text, ack, problem)) {
      return Fail("unreadable ack (" + problem + "): " + std::string(text.substr(0, 200)));
    }
    const InFlight oldest = inflight_.front();
    if (ack.frame_id != "null" && ack.frame_id != std::to_string(oldest.frame_id)) {
      return Fail("ack for frameId " + std::string(ack.frame_id) +
                  " while the oldest unacknowledged frame is " + std::to_string(oldest.frame_id));
    }
    inflight_.pop_front();
    WebSocketStats& stats = connection_.stats;
    stats.latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - oldest.sent_at).count()));
    ++stats.frames_acked;
    ++frames_acked_;
    stats.events_accepted += ack.accepted;
    stats.duplicates += ack.duplicates;
    stats.rejected += ack.rejected;
    if (ack.error_code) {
      ++stats.frame_errors;
      ++stats.frame_error_codes[*ack.error_code];
    }
    control_.acked_frames.fetch_add(1, std::memory_order_relaxed);
    control_.acked_events.fetch_add(ack.accepted + ack.duplicates + ack.rejected, std::memory_order_relaxed);
    read_buffer_.consume(read_buffer_.size());

    MaybeSend();
    MaybeClose();
    if (!finished_ && !closing_) ScheduleRead();
  }

  // Closes normally once the sender is done and every frame is acknowledged.
  void MaybeClose() {
    if (finished_ || !open_ || closing_ || !sender_done_ || writing_ || !inflight_.empty()) return;
    closing_ = true;
    pace_timer_.cancel();
    read_delay_timer_.cancel();
    // A pending read is allowed alongside the close: Beast ends it when the server's close arrives.
    ws_.async_close(websocket::close_code::normal, [this](ErrorCode ec) {
      if (finished_) return;
      if (ec) return Fail("close handshake failed", ec);
      Finish(SessionEnd::kDone);
    });
  }

  void ArmTick() {
    tick_timer_.expires_after(kTick);
    tick_timer_.async_wait([this](ErrorCode ec) {
      if (!ec && !finished_) OnTick();
    });
  }

  // Deadlines and the end of the run, checked periodically so that neither depends on the server.
  void OnTick() {
    if (!inflight_.empty() && Clock::now() - inflight_.front().sent_at > options_.timeout) {
      return Fail("no ack within " + Milliseconds(options_.timeout) + " for frame " +
                  std::to_string(inflight_.front().frame_id) + " (" + std::to_string(inflight_.size()) +
                  " frames unacknowledged)");
    }
    MaybeSend();
    if (!finished_) ArmTick();
  }

  void Fail(const std::string& what, ErrorCode ec = {}) {
    if (finished_) return;
    // A server that keeps dropping connections would otherwise flood stderr; the counts are in the
    // report.
    if (++connection_.failures_reported <= kFailuresReported) {
      std::fprintf(stderr, "tessera-load: connection %d: %s%s%s%s\n", connection_.index, what.c_str(),
                   ec ? ": " : "", ec ? ec.message().c_str() : "",
                   connection_.failures_reported == kFailuresReported ? " (further failures not shown)" : "");
    }
    if (open_) {
      ++connection_.stats.transport_errors;
    } else {
      ++connection_.stats.connect_failures;
    }
    Finish(SessionEnd::kFailed);
  }

  // Ends the session: every pending operation completes (with operation_aborted if still running)
  // and finds finished_ set.
  void Finish(SessionEnd end) {
    finished_ = true;
    result_ = end;
    tick_timer_.cancel();
    pace_timer_.cancel();
    read_delay_timer_.cancel();
    // Beast leaves its handshake timer armed after a refused upgrade; turning its timeouts off
    // cancels it, so the io_context runs out of work now rather than when it would have expired.
    websocket::stream_base::timeout no_timeouts{};
    no_timeouts.handshake_timeout = websocket::stream_base::none();
    no_timeouts.idle_timeout = websocket::stream_base::none();
    no_timeouts.keep_alive_pings = false;
    ws_.set_option(no_timeouts);
    beast::get_lowest_layer(ws_).close();
  }

  ConnectionState& connection_;
  const WebSocketDriverOptions& options_;
  WebSocketRunControl& control_;
  const tcp::endpoint endpoint_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer tick_timer_;
  asio::steady_timer pace_timer_;
  asio::steady_timer read_delay_timer_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer read_buffer_;
  std::string frame_;              // The frame being written: the only frame bytes held.
  size_t frame_events_ = 0;        // Events in frame_.
  std::deque<InFlight> inflight_;  // Sent (or being sent), not yet acknowledged, oldest first.
  bool open_ = false;              // The upgrade succeeded.
  bool writing_ = false;
  bool pacing_ = false;
  bool sender_done_ = false;  // No more frames will be sent.
  bool closing_ = false;
  bool finished_ = false;
  SessionEnd result_ = SessionEnd::kFailed;
  uint64_t frames_acked_ = 0;
};

}  // namespace

void WebSocketStats::Merge(const WebSocketStats& other) {
  latency.Merge(other.latency);
  frames_sent += other.frames_sent;
  frames_acked += other.frames_acked;
  events_sent += other.events_sent;
  events_accepted += other.events_accepted;
  duplicates += other.duplicates;
  rejected += other.rejected;
  frame_errors += other.frame_errors;
  for (const auto& [code, count] : other.frame_error_codes) frame_error_codes[code] += count;
  bytes_sent += other.bytes_sent;
  transport_errors += other.transport_errors;
  connect_failures += other.connect_failures;
}

WebSocketStats RunWebSocketConnection(int index, uint64_t seed, const WebSocketDriverOptions& options,
                                      WebSocketRunControl& control) {
  ConnectionState connection(index, seed, options, control);
  try {
    ErrorCode ec;
    const asio::ip::address address = asio::ip::make_address(options.address, ec);
    if (ec) {
      std::fprintf(stderr, "tessera-load: connection %d: bad address %s\n", index, options.address.c_str());
      ++connection.stats.connect_failures;
      return connection.stats;
    }
    const tcp::endpoint endpoint(address, options.port);
    asio::io_context io(1);
    int consecutive_failures = 0;
    while (true) {
      SessionEnd end;
      uint64_t acked;
      {
        Session session(io, connection, endpoint);
        session.Start();
        io.run();
        io.restart();
        end = session.result();
        acked = session.frames_acked();
      }
      if (end != SessionEnd::kFailed) break;
      if (acked > 0) consecutive_failures = 0;
      if (++consecutive_failures >= 3) {
        std::fprintf(stderr, "tessera-load: connection %d: three connections in a row failed; giving up\n",
                     index);
        break;
      }
      if (RunOver(control)) break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-load: connection %d: %s\n", index, e.what());
    ++connection.stats.transport_errors;
  }
  return connection.stats;
}

}  // namespace tessera::tools
