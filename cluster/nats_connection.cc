#include "cluster/nats_connection.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"

namespace tessera::cluster {
namespace {

// With a callback, a first connect that finds no server returns at once and goes on in the
// background; without one it would block until a server answers.
void OnConnected(natsConnection*, void*) {}


}  // namespace

absl::StatusOr<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsOptions& options) {
  if (options.urls.empty()) return absl::InvalidArgumentError("cluster: no NATS server URL");
  natsOptions* raw_options = nullptr;
  if (absl::Status s = internal::FromNats(natsOptions_Create(&raw_options), "NATS options"); !s.ok()) return s;
  internal::NatsOptionsPtr nats_options(raw_options);

  std::vector<const char*> urls;
  urls.reserve(options.urls.size());
  for (const std::string& url : options.urls) urls.push_back(url.c_str());
  natsStatus status = natsOptions_SetServers(nats_options.get(), urls.data(), static_cast<int>(urls.size()));
  if (status == NATS_OK) status = natsOptions_SetName(nats_options.get(), options.name.c_str());
  if (status == NATS_OK) status = natsOptions_SetTimeout(nats_options.get(), options.connect_timeout.count());
  if (status == NATS_OK) status = natsOptions_SetAllowReconnect(nats_options.get(), true);
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(nats_options.get(), -1);  // For ever.
  if (status == NATS_OK) status = natsOptions_SetReconnectWait(nats_options.get(), options.reconnect_wait.count());
  // No reconnect buffer: a publish made while disconnected must fail now, not be sent later without
  // anyone waiting for its acknowledgement.
  // (nats.c then answers every publish and request made while disconnected with
  // NATS_INSUFFICIENT_BUFFER, which FromNats reads as Unavailable.)
  if (status == NATS_OK) status = natsOptions_SetReconnectBufSize(nats_options.get(), 0);
  // Requests waiting for an answer when the connection drops fail then, not at their timeout.
  if (status == NATS_OK) status = natsOptions_SetFailRequestsOnDisconnect(nats_options.get(), true);
  // A dead server is noticed within a few seconds rather than the default two minutes.
  if (status == NATS_OK) status = natsOptions_SetPingInterval(nats_options.get(), 2'000);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(nats_options.get(), 2);
  if (status == NATS_OK) status = natsOptions_SetRetryOnFailedConnect(nats_options.get(), true, OnConnected, nullptr);
  if (absl::Status s = internal::FromNats(status, "NATS options"); !s.ok()) return s;

  natsConnection* connection = nullptr;
  status = natsConnection_Connect(&connection, nats_options.get());
  // NATS_NOT_YET_CONNECTED: no server yet, the client keeps trying in the background.
  if (status != NATS_OK && status != NATS_NOT_YET_CONNECTED) {
    return internal::FromNats(status, absl::StrCat("connect to NATS at ", options.urls.front()));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  jsCtx* jetstream = nullptr;
  status = natsConnection_JetStream(&jetstream, connection, &js_options);
  if (status != NATS_OK) {
    natsConnection_Destroy(connection);
    return internal::FromNats(status, "JetStream context");
  }
  return std::unique_ptr<NatsConnection>(new NatsConnection(options, connection, jetstream));
}

NatsConnection::NatsConnection(NatsOptions options, natsConnection* connection, jsCtx* jetstream)
    : options_(std::move(options)), connection_(connection), jetstream_(jetstream) {}

NatsConnection::~NatsConnection() {
  jsCtx_Destroy(jetstream_);
  natsConnection_Destroy(connection_);
}

bool NatsConnection::connected() const { return natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED; }

bool NatsConnection::WaitConnected(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!connected()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace tessera::cluster
