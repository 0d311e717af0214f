#pragma once

// Internal to api/: the state the HTTP server shares with its connections (HTTP sessions in
// http_session.cc, WebSocket streams in stream_session.cc, the listener in http_server.cc). It
// includes Asio and Beast, so only those translation units include it.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "api/connector_handler.h"
#include "api/console_handler.h"
#include "api/destination_handler.h"
#include "api/kpi_handler.h"
#include "api/model_handler.h"
#include "api/cors.h"
#include "api/position_gate.h"
#include "api/http_server.h"
#include "api/sdk_settings_handler.h"
#include "api/stream_handler.h"
#include "api/tail_handler.h"
#include "api/tracking_handler.h"

namespace tessera::api {

// The router's name for a Beast method.
inline Method ToMethod(boost::beast::http::verb method) {
  namespace http = boost::beast::http;
  switch (method) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

// A client connection, as the server sees it during shutdown.
class Connection {
 public:
  virtual ~Connection() = default;
  // Finish what is in flight, then close. Safe from any thread.
  virtual void Shutdown() = 0;
};

struct HttpServer::Impl {
  Impl(ServerOptions server_options, const KeyRegistry& key_registry,
       pipeline::IngestPipeline& ingest_pipeline, const ProfileHandler* profile_handler,
       const AudienceHandler* audience_handler, AdminHandler* admin_handler);

  void Accept();
  void RequestStop();
  // The largest body a request on `route` may have (a single-event endpoint's is one event's).
  size_t BodyLimit(RouteId route) const;
  // Connections register while open, so that shutdown can reach them.
  void Register(const std::shared_ptr<Connection>& connection);
  void Unregister(Connection* connection);

  const ServerOptions options;
  const KeyRegistry& keys;
  pipeline::IngestPipeline& pipeline;
  const ProfileHandler* profiles;
  const AudienceHandler* audiences;
  AdminHandler* admin;
  const PrivacyHandler* privacy = nullptr;  // HttpServer::SetPrivacy
  const StewardshipHandler* stewardship = nullptr;  // HttpServer::SetStewardship
  const Auditor* auditor = nullptr;
  const DestinationHandler* destinations = nullptr;  // HttpServer::SetDestinations
  const ModelHandler* models = nullptr;              // HttpServer::SetModels
  KpiHandler* kpis = nullptr;                        // HttpServer::SetKpis
  const PositionGate* position_gate = nullptr;  // HttpServer::SetPositionGate
  CorsPolicy cors;
  SdkSettingsHandler sdk_settings;
  TrackingHandler tracking;
  StreamHandler stream;
  ConnectorHandler connectors;
  ConsoleHandler console;
  ApiMetrics metrics;

  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};

  std::mutex mutex;
  std::condition_variable changed;  // stop requested, or a connection ended
  bool stop_requested = false;
  absl::flat_hash_map<Connection*, std::weak_ptr<Connection>> connections;

  // Declared last so it is destroyed first: handlers still queued in it own connections, whose
  // destructors use the members above.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::signal_set signals;
  uint16_t bound_port = 0;
};

// A connection of a TLS listener.
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The TLS server configuration every connection shares (api/http_server.h, LoadTlsContext).
class TlsContext {
 public:
  boost::asio::ssl::context context{boost::asio::ssl::context::tls_server};
};

// Serves one accepted connection as an HTTP session (http_session.cc): TLS when the server has
// a TlsContext, else plain.
void StartHttpSession(boost::asio::ip::tcp::socket socket, HttpServer::Impl& server);

// Takes over `stream`, whose WebSocket upgrade `request` came from `source`, and serves it as an
// event stream (stream_session.cc). The caller has already authenticated the request.
void StartEventStream(boost::beast::tcp_stream stream, HttpServer::Impl& server,
                      const ingest::SourceRef& source, bool strict,
                      boost::beast::http::request<boost::beast::http::string_body> request);
// The same over TLS (wss); the TLS handshake is done.
void StartEventStream(TlsStream stream, HttpServer::Impl& server, const ingest::SourceRef& source,
                      bool strict, boost::beast::http::request<boost::beast::http::string_body> request);

// Takes over `stream`, whose WebSocket upgrade to GET /v1/tail was authorized as `access`, and
// serves it the live tail (stream_session.cc).
void StartTail(boost::beast::tcp_stream stream, HttpServer::Impl& server, TailAccess access,
               boost::beast::http::request<boost::beast::http::string_body> request);
void StartTail(TlsStream stream, HttpServer::Impl& server, TailAccess access,
               boost::beast::http::request<boost::beast::http::string_body> request);

}  // namespace tessera::api
