#pragma once

// HttpServer is Tessera's HTTP/1.1 listener (Boost.Beast): keep-alive connections, each a session
// with read, idle and write deadlines, header and body limits, and routing to the handlers. It is
// the only translation unit family that includes Beast and Asio.
//
// With ServerOptions::tls the listener speaks HTTPS only (and WebSocket streams are wss): the TLS
// handshake has the read timeout, every later read and write its usual deadline, and a connection
// closes with a TLS close_notify (the client's is awaited at most 500 ms). A client that does not speak TLS
// gets no HTTP answer; its connection is closed.
//
// A reply with a body stream (HttpReply::stream, e.g. an audience's members) is sent chunked, one
// chunk in flight at a time, each write under the write timeout.
//
// Timeouts: a kept-alive connection may wait `idle_timeout` for its next request; once its first
// byte has arrived, the whole request (head and body) must arrive within `read_timeout`.
// A refusal sent before the request was read (413, 431, a malformed request) is followed by a
// lingering close: the rest of what the client sends is read and discarded (bounded in bytes and
// time) before the connection closes, so that the client can read the refusal.
//
// Request bodies with Content-Encoding gzip or deflate are decoded (api/content_decoding.h)
// before any handler sees them, under the same body limit.
//
// Shutdown (SIGTERM/SIGINT or Stop): stop accepting, let in-flight requests finish (up to the grace
// period), then return from Run so the caller can close the store.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/admin_handler.h"
#include "api/api_metrics.h"
#include "api/audience_handler.h"
#include "api/audit.h"
#include "api/key_registry.h"
#include "api/privacy_handler.h"
#include "api/stewardship_handler.h"
#include "api/profile_handler.h"
#include "config/config.h"
#include "pipeline/ingest_pipeline.h"

namespace tessera::api {

// A loaded TLS server configuration (an OpenSSL context holding the certificate and key), shared
// by every connection. Defined in http_server.cc, so that this header stays free of Asio.
class TlsContext;
class PositionGate;
class DestinationHandler;
class ModelHandler;
class KpiHandler;

// Loads `options` (config `tls`): both files must be readable PEM, the key must belong to the
// certificate. InvalidArgument naming the key (`tls.cert_file: ...`) otherwise, so that the caller
// can refuse to start as for any invalid configuration.
absl::StatusOr<std::shared_ptr<TlsContext>> LoadTlsContext(const config::TlsOptions& options);

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: ephemeral
  int io_threads = 2;
  size_t max_event_bytes = 32 * 1024;
  size_t max_request_bytes = 500 * 1024;
  size_t max_webhook_bytes = 4 << 20;  // Bodies of /v1/connectors/... (webhook batches, CSV files).
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{10'000};
  size_t max_connections = 10'000;
  std::chrono::seconds shutdown_grace{10};
  // WebSocket streams (GET /v1/stream); frames are limited by max_request_bytes.
  size_t stream_max_inflight_frames = 8;
  size_t stream_max_inflight_bytes = 4 << 20;
  std::chrono::milliseconds stream_idle_timeout{60'000};
  bool stream_permessage_deflate = true;  // Compressed WebSocket frames (RFC 7692) when the client offers.
  // Origins of browser pages allowed to call the read and admin API (config cors.api_origins).
  std::vector<std::string> api_cors_origins = {};
  // After refusing a request whose body it did not read (413, 431, 400), the server still reads and
  // discards up to this much of it, for up to linger_timeout, before it closes: a client still
  // sending then reads the answer instead of a connection reset.
  size_t linger_bytes = 8 << 20;
  std::chrono::milliseconds linger_timeout{2'000};
  std::shared_ptr<TlsContext> tls = nullptr;  // HTTPS and wss when set (LoadTlsContext); else plain.
};

class HttpServer {
 public:
  // `profiles` serves /v1/profiles/..., `audiences` /v1/audiences/... and /v1/computed-traits/...,
  // `admin` /v1/admin/...; without them those paths answer 404.
  HttpServer(ServerOptions options, const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
             const ProfileHandler* profiles = nullptr, const AudienceHandler* audiences = nullptr,
             AdminHandler* admin = nullptr);
  ~HttpServer();

  // Serves /v1/privacy/... with `privacy` and /v1/audit with `auditor`, which also records every
  // request on an audited route (api/audit.h). Without them those paths answer 404 and nothing is
  // audited. Call before Bind; both must outlive the server.
  void SetPrivacy(const PrivacyHandler* privacy, const Auditor* auditor);
  // Serves /v1/destinations/... with `destinations` (404 without). Before Bind; it must outlive
  // the server.
  void SetDestinations(const DestinationHandler* destinations);
  // Serves /v1/models/... with `models` (404 without). Before Bind; it must outlive the server.
  void SetModels(const ModelHandler* models);
  // Serves /v1/identity/... with `stewardship` (404 without). Before Bind; it must outlive the server.
  void SetStewardship(const StewardshipHandler* stewardship);
  // Serves GET /v1/kpis with `kpis` (404 without). Before Bind; it must outlive the server.
  void SetKpis(KpiHandler* kpis);
  // Cluster members that apply the stream: profile reads honour min_position and carry the
  // position they reflect (api/position_gate.h). Before Run; the gate must outlive the server.
  void SetPositionGate(const PositionGate* gate);

  // Binds the listening socket. After this, port() is the bound port.
  absl::Status Bind();
  uint16_t port() const;

  // Serves until SIGTERM/SIGINT or Stop(), then drains in-flight requests and returns.
  void Run();
  // Asks Run to shut down; safe from any thread.
  void Stop();

  // Readiness (for /readyz): set false during shutdown.
  bool ready() const;

  ApiMetrics& metrics();

  struct Impl;  // Public only so that the connection sessions in the .cc can name it.

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::api
