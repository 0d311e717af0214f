// One HTTP/1.1 connection of the server (api/http_server.h): reading requests under their
// deadlines and limits, decoding bodies, CORS, routing to the handlers, writing (and streaming)
// replies, lingering after refusals, and handing WebSocket upgrades to stream_session.cc.

#include <openssl/ssl.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/content_decoding.h"
#include "api/http_server.h"
#include "api/internal/server_state.h"
#include "api/router.h"
#include "ingest/segment_parser.h"

namespace tessera::api {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

std::string_view ToStringView(beast::string_view view) { return std::string_view(view.data(), view.size()); }

}  // namespace

// How long a TLS connection being closed waits for the client's close_notify (at most the write
// timeout).
constexpr std::chrono::milliseconds kTlsCloseWait{500};
// A lingering close reads what the client still sends in pieces of this size, and drops them.
constexpr size_t kLingerChunkBytes = 16 * 1024;

// One client connection. All its handlers run on its strand, one request at a time: the next
// request is read only after the previous response is written, which bounds per-connection memory
// (pipelined requests wait in the socket, not in our buffers).
//
// `Stream` is beast::tcp_stream (plain HTTP) or TlsStream (HTTPS); the code is the same but for the
// TLS handshake at the start and the close_notify at the end. Deadlines are set on the TCP layer
// under either, so they bound TLS records as they bound plain bytes.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(Stream&& stream, HttpServer::Impl& server)
      : stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        server_(server),
        idle_timer_(executor_) {
    server_.metrics.ConnectionOpened();
  }
  ~Session() {
    server_.metrics.ConnectionClosed();
    server_.Unregister(this);
  }

  void Start() {
    server_.Register(this->shared_from_this());
    if constexpr (kTls) {
      net::dispatch(executor_, beast::bind_front_handler(&Session::Handshake, this->shared_from_this()));
    } else {
      net::dispatch(executor_, beast::bind_front_handler(&Session::ReadHeader, this->shared_from_this()));
    }
  }

  // Shutdown: an idle connection is closed now, a busy one after its response.
  void Shutdown() override {
    net::dispatch(executor_, [self = this->shared_from_this()] {
      if (self->upgraded_) return;  // The stream session has the socket now.
      self->closing_ = true;
      if (self->busy_) return;
      if constexpr (kTls) {
        // The pending handshake or header read owns the TLS stream, and close_notify must not be
        // written under it: cancel it, and its handler closes.
        beast::get_lowest_layer(self->stream_).cancel();
      } else {
        self->Close();
      }
    });
  }

 private:
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  // TLS only: a client has the read timeout to complete the handshake, as it has to send a request
  // once it has begun; one that never finishes it (or is not speaking TLS) is closed, unanswered.
  void Handshake() {
    if (closing_) return CloseSocket();
    Tcp().expires_after(server_.options.read_timeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->CloseSocket();
                              self->tls_established_ = true;
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    if (closing_) return Close();
    route_ = {};
    origin_.clear();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    // The body limit depends on the route, known only once the header is in (OnHeader). Without
    // this, Beast would compare Content-Length with its default limit while reading the header.
    // (Not boost::none: Beast 1.74 compares Content-Length with the optional itself, and every
    // length is greater than none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A pipelined request has begun already.
    if (buffer_.size() > 0 || TlsHasBufferedInput()) return ReadRestOfHeader();
    // Waiting for a request on a kept-alive connection is bounded by the idle timeout; once it has
    // begun, the read timeout bounds the rest (ReadRestOfHeader), so a client that trickles its
    // header in is cut after read_timeout, not idle_timeout. The wait is on the TCP socket, below
    // TLS: a TLS read would complete only with a whole record, and a record can trickle too.
    Tcp().expires_never();
    idle_timer_.expires_after(server_.options.idle_timeout);
    idle_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->Tcp().socket().cancel();  // The wait below completes with operation_aborted.
    });
    Tcp().socket().async_wait(tcp::socket::wait_read,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                self->idle_timer_.cancel();
                                if (ec) return self->OnReadError(ec);
                                self->ReadRestOfHeader();
                              });
  }

  // Whether TLS holds bytes of the connection that the socket will not signal again: decrypted
  // but unread (SSL_has_pending), or received but not yet decrypted (the read BIO). Asio's TLS
  // engine keeps input beyond the BIO only when the BIO is full, so the two cover it all.
  bool TlsHasBufferedInput() {
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      return SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
    }
    return false;
  }

  void ReadRestOfHeader() {
    if (closing_) return Close();
    Tcp().expires_after(server_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    origin_ = std::string(ToStringView(request[http::field::origin]));
    route_ = MatchRoute(ToMethod(request.method()), ToStringView(request.target()));

    // A single-event endpoint's body is one event, so the event limit applies to it.
    single_event_ = IsTrackingRoute(route_.route) && route_.route != RouteId::kBatch;
    body_limit_ = server_.BodyLimit(route_.route);
    if (const auto length = parser_->content_length(); length && *length > body_limit_) {
      // Refuse before reading the body; the unread body makes the connection unusable, so close it
      // (lingering, so that a client still sending can read the answer).
      keep_alive_ = false;
      request_unread_ = true;
      return Reply(TooLargeReply(*length));
    }
    parser_->body_limit(body_limit_);

    const auto expect = request[http::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue")) {
      auto response =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, request.version());
      Tcp().expires_after(server_.options.write_timeout);
      http::async_write(stream_, *response,
                        [self = this->shared_from_this(), response](beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->Close();
                          // The client waited for our answer before sending the body: its time starts now.
                          self->Tcp().expires_after(self->server_.options.read_timeout);
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  HttpReply TooLargeReply(std::optional<uint64_t> length) const {
    const std::string size = length ? absl::StrCat(" of ", *length, " bytes") : std::string();
    if (single_event_) {
      return ErrorReply(413, ingest::error_code::kEventTooLarge,
                        absl::StrCat("event", size, " exceeds the limit of ", body_limit_, " bytes"));
    }
    return ErrorReply(413, "payload_too_large",
                      absl::StrCat("request body", size, " exceeds the limit of ", body_limit_, " bytes"));
  }

  void ReadBody() {
    // The read timeout that began with the head's first byte goes on: it bounds the whole request.
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      busy_ = true;
      request_unread_ = true;
      return Reply(TooLargeReply(std::nullopt));
    }
    if (ec == http::error::header_limit) {
      keep_alive_ = false;
      busy_ = true;
      request_unread_ = true;
      return Reply(
          ErrorReply(431, "headers_too_large",
                     absl::StrCat("request headers exceed ", server_.options.max_header_bytes, " bytes")));
    }
    if constexpr (kTls) {
      // A client that hung up without close_notify, or sent something that is not TLS: there is
      // no channel left to answer on.
      if (ec == net::ssl::error::stream_truncated || ec.category() == net::error::get_ssl_category()) {
        return Close();
      }
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof ||
        ec == net::error::bad_descriptor || ec == http::error::partial_message) {
      return Close();
    }
    // Anything else is a malformed request: say so, then close, since the stream position is lost.
    keep_alive_ = false;
    busy_ = true;
    request_unread_ = true;
    Reply(ErrorReply(400, "bad_request", absl::StrCat("malformed HTTP request: ", ec.message())));
  }

  void OnBody(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    http::request<http::string_body> request = parser_->release();
    parser_.reset();
    // HEAD: whatever answers, its headers go out without the body (Reply), on every route.
    head_only_ = request.method() == http::verb::head;

    const bool unserved =
        (route_.route == RouteId::kProfiles && server_.profiles == nullptr) ||
        ((route_.route == RouteId::kAudiences || route_.route == RouteId::kComputedTraits) &&
         server_.audiences == nullptr) ||
        (route_.route == RouteId::kAdminBackup && server_.admin == nullptr);
    if (route_.route == RouteId::kNotFound || unserved) {
      return Reply(ErrorReply(
          404, "not_found", absl::StrCat("no such endpoint: ", std::string(ToStringView(request.target())))));
    }
    if (request.method() == http::verb::options) {
      const PreflightRequest preflight{
          .origin = origin_,
          .request_method = ToStringView(request[http::field::access_control_request_method]),
          .request_headers = ToStringView(request[http::field::access_control_request_headers]),
          .private_network = beast::iequals(request["Access-Control-Request-Private-Network"], "true")};
      HttpReply reply = server_.cors.Options(route_, preflight);
      origin_.clear();  // The preflight's answer carries its own Access-Control-* headers, or none.
      return Reply(std::move(reply));
    }
    if (!route_.method_allowed) {
      HttpReply reply = ErrorReply(
          405, "method_not_allowed",
          absl::StrCat(std::string(ToStringView(request.method_string())), " is not allowed on ",
                       std::string(RouteLabel(route_.route)), "; use ", std::string(route_.allow)));
      reply.headers.emplace_back("Allow", std::string(route_.allow));
      return Reply(std::move(reply));
    }
    // A header on an empty body (a GET from a client that labels everything) has nothing to decode.
    if (const auto encoding = request[http::field::content_encoding];
        !encoding.empty() && !request.body().empty()) {
      if (absl::Status decoded = DecodeContent(ToStringView(encoding), request.body(), body_limit_);
          !decoded.ok()) {
        return Reply(DecodingErrorReply(decoded));
      }
    }
    switch (route_.route) {
      case RouteId::kRoot: {
        // The console is what a person opening the server's address in a browser is looking for.
        HttpReply reply{.status = 302, .body = "the web console is at /console/\n"};
        reply.headers.emplace_back("Location", "/console/");
        reply.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        return Reply(std::move(reply));
      }
      case RouteId::kSdkSettings:
      case RouteId::kSourceConfig: {
        // Behind a proxy that terminates TLS, the browser reached the proxy: its forwarded
        // host and scheme are where the SDK must send.
        const std::string_view forwarded_host = ToStringView(request["X-Forwarded-Host"]);
        const std::string_view host_header = ToStringView(request[http::field::host]);
        const std::string_view forwarded_proto = ToStringView(request["X-Forwarded-Proto"]);
        const std::string fallback_host = ListenerHost();
        const SdkSettingsRequest settings_request{
            .route = route_.route,
            .write_key_segment = route_.rest,
            .query = route_.query,
            .host = !forwarded_host.empty() ? forwarded_host
                    : !host_header.empty()  ? host_header
                                            : std::string_view(fallback_host),
            .origin = origin_,
            .tls = forwarded_proto.empty() ? kTls : beast::iequals(forwarded_proto, "https")};
        return Reply(server_.sdk_settings.Handle(settings_request));
      }
      case RouteId::kHealthz:
        return Reply(HttpReply{.status = 200, .body = R"({"status":"ok"})"});
      case RouteId::kReadyz:
        if (server_.ready.load()) return Reply(HttpReply{.status = 200, .body = R"({"status":"ready"})"});
        return Reply(ErrorReply(503, "not_ready", "the server is starting or shutting down"));
      case RouteId::kProfiles: {
        // Owned: a read waiting for min_position outlives the request buffer.
        auto read = std::make_shared<std::array<std::string, 4>>(std::array<std::string, 4>{
            std::string(route_.rest), std::string(route_.query), std::string(ToStringView(request[http::field::authorization])),
            std::string(ToStringView(request[http::field::if_none_match]))});
        auto as_request = [read] { return ProfileRequest{(*read)[0], (*read)[1], (*read)[2], (*read)[3]}; };
        auto answer = [profiles = server_.profiles, as_request] { return profiles->Handle(as_request()); };
        if (server_.position_gate == nullptr) return ReplyAudited(request, answer());
        return server_.position_gate->Run(
            executor_, route_.query, [profiles = server_.profiles, as_request] { return profiles->Refusal(as_request()); },
            answer, AuditedReplyOnStrand(request));
      }
      case RouteId::kPrivacy: {
        if (server_.privacy == nullptr)
          return Reply(ErrorReply(404, "not_found", "privacy requests are not served here"));
        const PrivacyRequest privacy_request{
            .method = ToMethod(request.method()),
            .path = route_.rest,
            .query = route_.query,
            .authorization = ToStringView(request[http::field::authorization]),
            .body = request.body()};
        return ReplyAudited(request, server_.privacy->Handle(privacy_request));
      }
      case RouteId::kStewardship: {
        if (server_.stewardship == nullptr)
          return Reply(ErrorReply(404, "not_found", "identity decisions are not served here"));
        return ReplyAudited(request, server_.stewardship->Handle(StewardshipRequest{
                                         ToMethod(request.method()), route_.rest, route_.query,
                                         ToStringView(request[http::field::authorization]), request.body()}));
      }
      case RouteId::kAudit: {
        if (server_.auditor == nullptr)
          return Reply(ErrorReply(404, "not_found", "the audit log is not served here"));
        return ReplyAudited(request, server_.auditor->Handle(
                                         ToStringView(request[http::field::authorization]), route_.query));
      }
      case RouteId::kAudiences:
      case RouteId::kComputedTraits: {
        const AudienceRequest audience_request{
            .method = ToMethod(request.method()),
            .route = route_.route,
            .path = route_.rest,
            .query = route_.query,
            .authorization = ToStringView(request[http::field::authorization]),
            .body = request.body()};
        return ReplyAudited(request, server_.audiences->Handle(audience_request));
      }
      case RouteId::kDestinations: {
        if (server_.destinations == nullptr) return Reply(ErrorReply(404, "not_found", "destinations are not served here"));
        return ReplyAudited(request, server_.destinations->Handle(DestinationRequest{
                                         .method = ToMethod(request.method()),
                                         .path = route_.rest,
                                         .query = route_.query,
                                         .authorization = ToStringView(request[http::field::authorization])}));
      }
      case RouteId::kModels: {
        if (server_.models == nullptr) return Reply(ErrorReply(404, "not_found", "models are not served here"));
        return ReplyAudited(request, server_.models->Handle(ModelRequest{
                                         .path = route_.rest,
                                         .query = route_.query,
                                         .authorization = ToStringView(request[http::field::authorization])}));
      }
      case RouteId::kKpis: {
        if (server_.kpis == nullptr) return Reply(ErrorReply(404, "not_found", "figures are not served here"));
        server_.kpis->Handle(KpiRequest{route_.query, ToStringView(request[http::field::authorization])},
                             AuditedReplyOnStrand(request));
        return;
      }
      case RouteId::kAdminBackup: {
        const AdminRequest admin_request{.method = ToMethod(request.method()),
                                         .route = route_.route,
                                         .authorization = ToStringView(request[http::field::authorization]),
                                         .body = request.body()};
        server_.admin->Handle(admin_request, AuditedReplyOnStrand(request));
        return;
      }
      case RouteId::kStream:
        return Upgrade(std::move(request));
      case RouteId::kTail:
        return UpgradeTail(std::move(request));
      case RouteId::kConsole: {
        HttpReply reply = server_.console.Handle(ToMethod(request.method()), route_.rest, route_.query,
                                                 ToStringView(request[http::field::host]));
        return Reply(std::move(reply));
      }
      case RouteId::kConnectors: {
        const ConnectorRequest connector_request{
            .method = ToMethod(request.method()),
            .connector = route_.rest,
            .query = route_.query,
            .authorization = ToStringView(request[http::field::authorization]),
            .origin = origin_,
            .body = request.body(),
            .header = [&request](std::string_view name) { return ToStringView(request[name]); }};
        server_.connectors.Handle(connector_request, ReplyOnStrand());
        return;
      }
      case RouteId::kMetrics: {
        HttpReply reply{.status = 200, .body = server_.metrics.RenderPrometheus(server_.pipeline)};
        reply.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        return Reply(std::move(reply));
      }
      default:
        break;
    }

    std::string body = std::move(request.body());
    ingest::EnsurePadding(body);
    server_.tracking.Handle({.route = route_.route,
                             .authorization = ToStringView(request[http::field::authorization]),
                             .query = route_.query,
                             .origin = origin_,
                             .body = &body},
                            ReplyOnStrand());
  }

  // host:port of the listener, for a request without a Host header: a wildcard address is reached
  // on loopback, an IPv6 address is bracketed.
  std::string ListenerHost() const {
    const std::string& address = server_.options.address;
    const std::string host = address == "0.0.0.0"                     ? "127.0.0.1"
                             : address == "::"                        ? "[::1]"
                             : address.find(':') != std::string::npos ? absl::StrCat("[", address, "]")
                                                                      : address;
    return absl::StrCat(host, ":", server_.bound_port);
  }

  // The answer to a body that could not be decoded (api/content_decoding.h).
  HttpReply DecodingErrorReply(const absl::Status& status) const {
    const std::string message(status.message());
    if (absl::IsResourceExhausted(status)) {
      return ErrorReply(413, single_event_ ? ingest::error_code::kEventTooLarge : "payload_too_large",
                        message);
    }
    if (absl::IsUnimplemented(status))
      return ErrorReply(415, "unsupported_encoding", message, "Content-Encoding");
    if (absl::IsInvalidArgument(status))
      return ErrorReply(400, "invalid_encoding", message, "Content-Encoding");
    return ErrorReply(500, "internal", message);
  }

  // Writes the audit log entry of a request on an audited route, then the reply.
  void ReplyAudited(const http::request<http::string_body>& request, HttpReply reply) {
    if (server_.auditor != nullptr && IsAuditedRoute(route_.route)) {
      server_.auditor->Record(ToStringView(request[http::field::authorization]), ToMethod(request.method()),
                              route_.route, route_.rest, route_.query, reply);
    }
    Reply(std::move(reply));
  }

  // ReplyOnStrand for audited routes whose handler answers later, on its own thread.
  std::function<void(HttpReply)> AuditedReplyOnStrand(const http::request<http::string_body>& request) {
    std::function<void(HttpReply)> reply = ReplyOnStrand();
    if (server_.auditor == nullptr || !IsAuditedRoute(route_.route)) return reply;
    return [auditor = server_.auditor, reply = std::move(reply),
            authorization = std::string(ToStringView(request[http::field::authorization])),
            method = ToMethod(request.method()), route = route_.route, rest = std::string(route_.rest),
            query = std::string(route_.query)](HttpReply answer) {
      auditor->Record(authorization, method, route, rest, query, answer);
      reply(std::move(answer));
    };
  }

  // A reply callback for handlers that may complete on another thread (the log writer's): the
  // reply is written from this session's strand.
  std::function<void(HttpReply)> ReplyOnStrand() {
    return [self = this->shared_from_this()](HttpReply reply) {
      net::post(self->executor_,
                [self, reply = std::move(reply)]() mutable { self->Reply(std::move(reply)); });
    };
  }

  // GET /v1/stream: authenticate, then hand the connection to a WebSocket stream session.
  void Upgrade(http::request<http::string_body> request) {
    if (!websocket::is_upgrade(request)) {
      HttpReply reply = ErrorReply(426, "upgrade_required",
                                   "/v1/stream is a WebSocket endpoint: send a WebSocket upgrade request");
      reply.headers.emplace_back("Upgrade", "websocket");
      return Reply(std::move(reply));
    }
    if (server_.stopping.load()) {
      keep_alive_ = false;
      HttpReply reply = ErrorReply(503, "shutting_down", "the server is shutting down");
      reply.headers.emplace_back("Retry-After", "5");
      return Reply(std::move(reply));
    }
    absl::StatusOr<const ingest::SourceRef*> source =
        server_.stream.Authenticate(ToStringView(request[http::field::authorization]), route_.query);
    if (!source.ok()) return Reply(ErrorReply(401, "unauthorized", std::string(source.status().message())));
    // Browsers send the page's Origin with a WebSocket upgrade (WebSockets have no CORS): a page the
    // key's source does not allow may not stream with it.
    if (!origin_.empty() && !server_.cors.AllowsIngest(*source, origin_)) {
      return Reply(
          ErrorReply(403, "origin_not_allowed",
                     absl::StrCat("pages from ", origin_, " may not stream with the key of source \"",
                                  (*source)->name, "\" (see sources[].allowed_origins)")));
    }
    const std::string_view strict = QueryParam(route_.query, "strict");
    server_.metrics.CountRequest(RouteId::kStream, 101);
    upgraded_ = true;
    StartEventStream(std::move(stream_), server_, **source, strict == "true" || strict == "1",
                     std::move(request));
  }

  // GET /v1/tail: a read or admin key (header or subprotocol, never the URL), then the live tail.
  // Audited like every read: the attempt with its answer, 101 when the tail opened.
  void UpgradeTail(http::request<http::string_body> request) {
    const std::string_view authorization = ToStringView(request[http::field::authorization]);
    // The tail is read access: a browser page may open it from the console (this server's own
    // origin) or from an origin listed in cors.api_origins, like the rest of the read API.
    if (!origin_.empty() && !server_.cors.AllowsApi(origin_)) {
      const std::string_view forwarded_host = ToStringView(request["X-Forwarded-Host"]);
      const std::string_view forwarded_proto = ToStringView(request["X-Forwarded-Proto"]);
      const bool same_origin = CorsPolicy::IsSameOrigin(
          origin_, forwarded_host.empty() ? ToStringView(request[http::field::host]) : forwarded_host,
          forwarded_proto.empty() ? kTls : beast::iequals(forwarded_proto, "https"));
      if (!same_origin) {
        return ReplyAudited(request,
                            ErrorReply(403, "origin_not_allowed",
                                       absl::StrCat("pages from ", origin_,
                                                    " may not open the live tail (see cors.api_origins)")));
      }
    }
    if (!websocket::is_upgrade(request)) {
      HttpReply reply = ErrorReply(426, "upgrade_required",
                                   "/v1/tail is a WebSocket endpoint: send a WebSocket upgrade request");
      reply.headers.emplace_back("Upgrade", "websocket");
      return ReplyAudited(request, std::move(reply));
    }
    if (server_.stopping.load()) {
      keep_alive_ = false;
      HttpReply reply = ErrorReply(503, "shutting_down", "the server is shutting down");
      reply.headers.emplace_back("Retry-After", "5");
      return Reply(std::move(reply));
    }
    absl::StatusOr<TailAccess> access = AuthorizeTail(
        server_.keys, authorization, ToStringView(request[http::field::sec_websocket_protocol]), route_.query,
        [this](std::string_view space) { return server_.pipeline.resolver(space) != nullptr; });
    // The audit label comes from the key wherever it was sent.
    const std::string audit_authorization =
        access.ok() ? absl::StrCat("Bearer ", access->key) : std::string(authorization);
    HttpReply outcome{.status = 101, .audit_target = "live tail"};
    if (!access.ok()) {
      const absl::Status& status = access.status();
      const int code = absl::IsUnauthenticated(status)    ? 401
                       : absl::IsPermissionDenied(status) ? 403
                       : absl::IsNotFound(status)         ? 404
                                                          : 400;
      const std::string_view error = code == 401   ? "unauthorized"
                                     : code == 403 ? "forbidden"
                                     : code == 404 ? "unknown_space"
                                                   : "invalid_value";
      outcome = ErrorReply(code, error, std::string(status.message()));
      outcome.audit_target = "live tail";
    }
    if (server_.auditor != nullptr) {
      server_.auditor->Record(audit_authorization, ToMethod(request.method()), route_.route, route_.rest,
                              route_.query, outcome);
    }
    if (!access.ok()) return Reply(std::move(outcome));
    server_.metrics.CountRequest(RouteId::kTail, 101);
    upgraded_ = true;
    StartTail(std::move(stream_), server_, *std::move(access), std::move(request));
  }

  void Reply(HttpReply reply) {
    server_.metrics.CountRequest(route_.route, reply.status);
    if (!origin_.empty()) server_.cors.AddResponseHeaders(route_.route, origin_, reply);
    if (reply.stream) return ReplyStreamed(std::move(reply));
    response_.emplace(static_cast<http::status>(reply.status), 11);
    response_->set(http::field::server, "tessera");
    bool has_content_type = false;
    bool has_cache_control = false;
    for (auto& [name, value] : reply.headers) {
      if (name == "Content-Type") has_content_type = true;
      if (name == "Cache-Control") has_cache_control = true;
      response_->set(name, value);
    }
    if (!has_content_type) response_->set(http::field::content_type, "application/json");
    // API answers are personal data: never stored. A handler may say otherwise (console files).
    if (!has_cache_control) response_->set(http::field::cache_control, "no-store");
    response_->body() = std::move(reply.body);
    response_->keep_alive(keep_alive_ && !closing_ && !server_.stopping.load());
    response_->prepare_payload();
    if (std::exchange(head_only_, false)) {
      // HEAD: the headers of the GET, Content-Length included, and no body.
      const std::string length = std::to_string(response_->body().size());
      response_->body().clear();
      response_->set(http::field::content_length, length);
    }
    Tcp().expires_after(server_.options.write_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  // A streamed body: the header with Transfer-Encoding: chunked, then one chunk per BodyStream::Next,
  // each asked for only once the previous one is written (a slow client slows the producer, and
  // at most one chunk is held), then the last chunk. Every write has the write timeout.
  void ReplyStreamed(HttpReply reply) {
    streamed_response_.emplace(static_cast<http::status>(reply.status), 11);
    streamed_response_->set(http::field::server, "tessera");
    bool has_content_type = false;
    for (auto& [name, value] : reply.headers) {
      if (name == "Content-Type") has_content_type = true;
      streamed_response_->set(name, value);
    }
    if (!has_content_type) streamed_response_->set(http::field::content_type, "application/json");
    streamed_response_->set(http::field::cache_control, "no-store");
    streamed_response_->keep_alive(keep_alive_ && !closing_ && !server_.stopping.load());
    streamed_response_->chunked(true);
    body_stream_ = std::move(reply.stream);
    streamed_bytes_ = 0;
    serializer_.emplace(*streamed_response_);
    Tcp().expires_after(server_.options.write_timeout);
    http::async_write_header(stream_, *serializer_,
                             beast::bind_front_handler(&Session::OnStreamWritten, this->shared_from_this()));
  }

  void OnStreamWritten(beast::error_code ec, std::size_t bytes) {
    if (ec) return EndStream(/*complete=*/false);
    streamed_bytes_ += bytes;
    if (!more_chunks_) {
      // The last data chunk is out: terminate the body.
      Tcp().expires_after(server_.options.write_timeout);
      net::async_write(stream_, http::make_chunk_last(),
                       [self = this->shared_from_this()](beast::error_code last_ec, std::size_t) {
                         self->EndStream(/*complete=*/!last_ec);
                       });
      return;
    }
    chunk_.clear();
    absl::StatusOr<bool> more = body_stream_->Next(chunk_);
    // Skip empty pieces: an empty chunk would end the body early.
    while (more.ok() && *more && chunk_.empty()) more = body_stream_->Next(chunk_);
    if (!more.ok()) {
      // The status line is gone: the only honest signal left is a body without its last chunk.
      std::fprintf(stderr,
                   "tessera: streamed response on %s failed after %zu bytes, closing the connection: %s\n",
                   std::string(RouteLabel(route_.route)).c_str(), streamed_bytes_,
                   std::string(more.status().message()).c_str());
      return EndStream(/*complete=*/false);
    }
    more_chunks_ = *more;
    if (chunk_.empty()) return OnStreamWritten({}, 0);  // Nothing more: straight to the last chunk.
    Tcp().expires_after(server_.options.write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                     beast::bind_front_handler(&Session::OnStreamWritten, this->shared_from_this()));
  }

  void EndStream(bool complete) {
    busy_ = false;
    const bool keep_alive =
        complete && streamed_response_->keep_alive() && !closing_ && !server_.stopping.load();
    body_stream_.reset();
    serializer_.reset();
    streamed_response_.reset();
    chunk_ = std::string();
    more_chunks_ = true;
    if (!keep_alive) return Close();
    ReadHeader();
  }

  void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
    busy_ = false;
    const bool keep_alive = response_->keep_alive();
    response_.reset();
    if (!ec && std::exchange(request_unread_, false)) return Linger();
    if (ec || !keep_alive) return Close();
    ReadHeader();
  }

  // The answer went out before the request was read to its end. Closing now, with the client's
  // bytes unread, would make the kernel send a reset, which can reach the client before it has
  // read the answer (and does, for a client that writes its whole body before reading). So: tell
  // the client we are done (FIN, on plain TCP), read and drop what it still sends, until it closes
  // or linger_bytes or linger_timeout run out, then close.
  void Linger() {
    if constexpr (!kTls) {
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    lingered_bytes_ = 0;
    linger_buffer_.resize(kLingerChunkBytes);
    Tcp().expires_after(server_.options.linger_timeout);  // One deadline for the whole of it.
    LingerRead();
  }

  void LingerRead() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              self->lingered_bytes_ += bytes;
                              if (ec || self->lingered_bytes_ >= self->server_.options.linger_bytes) {
                                self->linger_buffer_ = std::string();
                                return kTls ? self->Close() : self->CloseSocket();
                              }
                              self->LingerRead();
                            });
  }

  // Ends the connection. Over TLS, an established session is ended with close_notify first. The
  // client's own close_notify is awaited only briefly: an idle client closed at shutdown is usually
  // not reading, and waiting for it would hold up the drain for nothing.
  void Close() {
    if constexpr (kTls) {
      if (tls_established_ && !tls_closing_) {
        tls_closing_ = true;
        Tcp().expires_after(
            std::min<std::chrono::milliseconds>(server_.options.write_timeout, kTlsCloseWait));
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().socket().close(ignored);
  }

  Stream stream_;
  const net::any_io_executor executor_;  // The connection's strand; stream_ is moved out on upgrade.
  beast::flat_buffer buffer_;
  HttpServer::Impl& server_;
  net::steady_timer idle_timer_;  // Bounds the wait for a request's first byte (ReadHeader).
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  // A streamed reply in progress (ReplyStreamed).
  std::optional<http::response<http::empty_body>> streamed_response_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::shared_ptr<BodyStream> body_stream_;
  std::string chunk_;        // The chunk being written.
  bool more_chunks_ = true;  // BodyStream::Next has not yet said the body ends.
  size_t streamed_bytes_ = 0;
  RouteMatch route_;
  std::string origin_;  // The request's Origin header (browsers), for CORS.
  size_t body_limit_ = 0;
  bool request_unread_ = false;  // The reply being written refuses a request not read to its end.
  size_t lingered_bytes_ = 0;    // Dropped by Linger so far.
  std::string linger_buffer_;
  bool single_event_ = false;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool closing_ = false;
  bool upgraded_ = false;
  bool head_only_ = false;        // The reply being written answers a HEAD request.
  bool tls_established_ = false;  // The TLS handshake completed (TLS only).
  bool tls_closing_ = false;      // close_notify is being sent (TLS only).
};

void StartHttpSession(boost::asio::ip::tcp::socket socket, HttpServer::Impl& server) {
  if (server.options.tls != nullptr) {
    std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), server.options.tls->context), server)
        ->Start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), server)->Start();
  }
}

}  // namespace tessera::api
