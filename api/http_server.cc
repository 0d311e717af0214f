#include "api/http_server.h"

#include <openssl/ssl.h>
#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/internal/server_state.h"
#include "ingest/segment_parser.h"

namespace tessera::api {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

absl::StatusOr<std::shared_ptr<TlsContext>> LoadTlsContext(const config::TlsOptions& options) {
  // OpenSSL reports an unreadable file as "system lib"; ask the system first for a reason to show.
  for (const auto& [key, path] :
       {std::pair<const char*, const std::string*>{"tls.cert_file", &options.cert_file},
        std::pair<const char*, const std::string*>{"tls.key_file", &options.key_file}}) {
    std::FILE* file = std::fopen(path->c_str(), "rb");
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": cannot read \"", *path, "\": ", std::strerror(errno)));
    }
    std::fclose(file);
  }
  auto tls = std::make_shared<TlsContext>();
  net::ssl::context& context = tls->context;
  context.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context.native_handle(),
                                options.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  beast::error_code ec;
  context.use_certificate_chain_file(options.cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("tls.cert_file: \"", options.cert_file,
                                                   "\" is not a PEM certificate chain (", ec.message(), ")"));
  }
  // OpenSSL checks here that the key belongs to the certificate ("key values mismatch").
  context.use_private_key_file(options.key_file, net::ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls.key_file: \"", options.key_file,
                     "\" is not the PEM private key of the certificate in tls.cert_file",
                     ec ? absl::StrCat(" (", ec.message(), ")") : std::string()));
  }
  return tls;
}

HttpServer::Impl::Impl(ServerOptions server_options, const KeyRegistry& key_registry,
                       pipeline::IngestPipeline& ingest_pipeline, const ProfileHandler* profile_handler,
                       const AudienceHandler* audience_handler, AdminHandler* admin_handler)
    : options(std::move(server_options)),
      keys(key_registry),
      pipeline(ingest_pipeline),
      profiles(profile_handler),
      audiences(audience_handler),
      admin(admin_handler),
      cors(keys, options.api_cors_origins),
      sdk_settings(keys, cors),
      // A batch element is at least "{}" plus a comma, so the body limit bounds the count.
      tracking(keys, pipeline,
               ingest::SegmentParserOptions{.max_event_bytes = options.max_event_bytes,
                                            .max_batch_events = options.max_request_bytes / 3},
               &cors),
      stream(keys, pipeline,
             ingest::SegmentParserOptions{.max_event_bytes = options.max_event_bytes,
                                          .max_batch_events = options.max_request_bytes / 3}),
      connectors(keys, pipeline, cors),
      io(options.io_threads),
      acceptor(net::make_strand(io)),
      signals(io, SIGINT, SIGTERM) {}

void HttpServer::Impl::Register(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex);
  connections.emplace(connection.get(), connection);
}

void HttpServer::Impl::Unregister(Connection* connection) {
  std::lock_guard lock(mutex);
  connections.erase(connection);
  changed.notify_all();
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (static_cast<size_t>(metrics.open_connections()) >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        StartHttpSession(std::move(socket), *this);
      }
    }
    // Errors on one accept (e.g. out of file descriptors) must not stop the listener.
    Accept();
  });
}

size_t HttpServer::Impl::BodyLimit(RouteId route) const {
  if (IsTrackingRoute(route) && route != RouteId::kBatch) return options.max_event_bytes;
  switch (route) {
    case RouteId::kConnectors:
      return options.max_webhook_bytes;
    case RouteId::kAudiences:
    case RouteId::kComputedTraits:
      return AudienceHandler::kMaxBodyBytes;
    case RouteId::kPrivacy:
      return PrivacyHandler::kMaxBodyBytes;
    case RouteId::kStewardship:
      return StewardshipHandler::kMaxBodyBytes;
    default:
      return options.max_request_bytes;
  }
}

void HttpServer::Impl::RequestStop() {
  std::lock_guard lock(mutex);
  stop_requested = true;
  changed.notify_all();
}

HttpServer::HttpServer(ServerOptions options, const KeyRegistry& keys, pipeline::IngestPipeline& pipeline,
                       const ProfileHandler* profiles, const AudienceHandler* audiences, AdminHandler* admin)
    : impl_(std::make_unique<Impl>(std::move(options), keys, pipeline, profiles, audiences, admin)) {}

HttpServer::~HttpServer() = default;

void HttpServer::SetPrivacy(const PrivacyHandler* privacy, const Auditor* auditor) {
  impl_->privacy = privacy;
  impl_->auditor = auditor;
}

void HttpServer::SetDestinations(const DestinationHandler* destinations) { impl_->destinations = destinations; }
void HttpServer::SetModels(const ModelHandler* models) { impl_->models = models; }
void HttpServer::SetKpis(KpiHandler* kpis) { impl_->kpis = kpis; }
void HttpServer::SetStewardship(const StewardshipHandler* stewardship) { impl_->stewardship = stewardship; }

void HttpServer::SetPositionGate(const PositionGate* gate) { impl_->position_gate = gate; }

absl::Status HttpServer::Bind() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.address, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("listen.address \"", impl_->options.address, "\": ", ec.message()));
  const tcp::endpoint endpoint(address, impl_->options.port);
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", impl_->options.address, ":",
                                               impl_->options.port, ": ", ec.message()));
  }
  impl_->bound_port = acceptor.local_endpoint().port();
  return absl::OkStatus();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::Run() {
  Impl& impl = *impl_;
  impl.signals.async_wait([&impl](beast::error_code ec, int /*signal*/) {
    if (!ec) impl.RequestStop();
  });
  impl.Accept();
  // A request waiting for the log writer has no I/O pending; without this guard the I/O threads
  // would return once the acceptor closes, and the writer's completions would never be delivered.
  auto work_guard = net::make_work_guard(impl.io);
  // Ready before the first request can be read: everything /readyz stands for (store, pipeline,
  // listener) is up by now, and a client that saw the listening port must not be told "starting".
  impl.ready = true;
  std::vector<std::thread> threads;
  threads.reserve(impl.options.io_threads);
  for (int i = 0; i < impl.options.io_threads; ++i) {
    threads.emplace_back([&impl] {
      pthread_setname_np(pthread_self(), "http-io");  // For top -H and profiles.
      impl.io.run();
    });
  }

  std::unique_lock lock(impl.mutex);
  impl.changed.wait(lock, [&impl] { return impl.stop_requested; });
  lock.unlock();

  // Drain: refuse new connections and close idle ones; busy ones close after their response.
  impl.ready = false;
  impl.stopping = true;
  net::post(impl.acceptor.get_executor(), [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
  });
  net::post(impl.io, [&impl] { impl.signals.cancel(); });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard guard(impl.mutex);
    for (auto& [raw, weak] : impl.connections) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (auto& connection : live) connection->Shutdown();
  live.clear();

  lock.lock();
  impl.changed.wait_for(lock, impl.options.shutdown_grace, [&impl] { return impl.connections.empty(); });
  lock.unlock();
  work_guard.reset();
  impl.io.stop();
  for (std::thread& thread : threads) thread.join();
}

void HttpServer::Stop() { impl_->RequestStop(); }

bool HttpServer::ready() const { return impl_->ready.load(); }

ApiMetrics& HttpServer::metrics() { return impl_->metrics; }

}  // namespace tessera::api
