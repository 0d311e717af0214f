#include "activation/nats_publisher.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "nats/nats.h"

namespace tessera::activation {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
struct MessageDeleter {
  void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};
struct AckDeleter {
  void operator()(jsPubAck* ack) const { jsPubAck_Destroy(ack); }
};

absl::Status Failure(natsStatus status, const std::string& doing, jsErrCode js_error = static_cast<jsErrCode>(0)) {
  std::string message = absl::StrCat(doing, ": ", natsStatus_GetText(status));
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == status) absl::StrAppend(&message, " (", detail, ")");
  if (js_error != 0) absl::StrAppend(&message, " [JetStream error ", static_cast<int>(js_error), "]");
  if (status == NATS_TIMEOUT) return absl::DeadlineExceededError(message);
  return absl::UnavailableError(message);
}

}  // namespace

absl::Status CheckNatsUrl(std::string_view url) {
  if (!url.starts_with("nats://") && !url.starts_with("tls://")) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(url), "\" is not a nats:// or tls:// URL"));
  }
  const std::string_view rest = url.substr(url.find("//") + 2);
  if (rest.empty() || rest.front() == ':' || rest.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(url), "\": no host"));
  }
  return absl::OkStatus();
}

struct NatsPublisher::Impl {
  std::string url;
  bool jetstream = false;
  natsConnection* connection = nullptr;
  jsCtx* context = nullptr;

  void Close() {
    if (context != nullptr) jsCtx_Destroy(context);
    if (connection != nullptr) natsConnection_Destroy(connection);
    context = nullptr;
    connection = nullptr;
  }

  absl::Status Connect(std::chrono::milliseconds timeout) {
    if (connection != nullptr && natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED) {
      return absl::OkStatus();
    }
    Close();
    natsOptions* raw = nullptr;
    if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) return Failure(s, "NATS options");
    std::unique_ptr<natsOptions, OptionsDeleter> options(raw);
    natsStatus status = natsOptions_SetURL(options.get(), url.c_str());
    if (status == NATS_OK) status = natsOptions_SetName(options.get(), "tessera-destination");
    if (status == NATS_OK) status = natsOptions_SetTimeout(options.get(), timeout.count());
    // Delivery retries a batch itself; the client must not buffer messages for a reconnect that
    // nobody waits for.
    if (status == NATS_OK) status = natsOptions_SetAllowReconnect(options.get(), false);
    if (status != NATS_OK) return Failure(status, "NATS options");
    status = natsConnection_Connect(&connection, options.get());
    if (status != NATS_OK) {
      connection = nullptr;
      return Failure(status, absl::StrCat("connect to ", url));
    }
    if (jetstream) {
      jsOptions js;
      jsOptions_Init(&js);
      js.Wait = timeout.count();
      status = natsConnection_JetStream(&context, connection, &js);
      if (status != NATS_OK) {
        Close();
        return Failure(status, "JetStream context");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Publish(const OutgoingRequest& request, std::chrono::milliseconds timeout) {
    for (const OutgoingMessage& outgoing : request.messages) {
      natsMsg* raw = nullptr;
      natsStatus status = natsMsg_Create(&raw, request.target.c_str(), nullptr, outgoing.body.data(),
                                         static_cast<int>(outgoing.body.size()));
      if (status != NATS_OK) return Failure(status, "NATS message");
      std::unique_ptr<natsMsg, MessageDeleter> message(raw);
      if (jetstream) {
        jsPubOptions publish;
        jsPubOptions_Init(&publish);
        publish.MsgId = outgoing.id.c_str();
        publish.MaxWait = timeout.count();
        jsPubAck* ack = nullptr;
        jsErrCode js_error = static_cast<jsErrCode>(0);
        status = js_PublishMsg(&ack, context, message.get(), &publish, &js_error);
        std::unique_ptr<jsPubAck, AckDeleter> owned(ack);
        if (status != NATS_OK) return Failure(status, absl::StrCat("publish to ", request.target), js_error);
      } else {
        status = natsMsgHeader_Set(message.get(), "Nats-Msg-Id", outgoing.id.c_str());
        if (status == NATS_OK) status = natsConnection_PublishMsg(connection, message.get());
        if (status != NATS_OK) return Failure(status, absl::StrCat("publish to ", request.target));
      }
    }
    if (!jetstream) {
      if (natsStatus status = natsConnection_FlushTimeout(connection, timeout.count()); status != NATS_OK) {
        return Failure(status, absl::StrCat("flush to ", url));
      }
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<NatsPublisher>> NatsPublisher::Create(std::string url, bool jetstream) {
  if (absl::Status valid = CheckNatsUrl(url); !valid.ok()) return valid;
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->jetstream = jetstream;
  return std::unique_ptr<NatsPublisher>(new NatsPublisher(std::move(impl)));
}

NatsPublisher::NatsPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NatsPublisher::~NatsPublisher() { impl_->Close(); }

absl::StatusOr<HttpResponse> NatsPublisher::Send(const OutgoingRequest& request, std::chrono::milliseconds timeout) {
  if (absl::Status connected = impl_->Connect(timeout); !connected.ok()) return connected;
  if (absl::Status published = impl_->Publish(request, timeout); !published.ok()) {
    impl_->Close();  // A fresh connection for the retry: this one may have lost messages.
    return published;
  }
  return HttpResponse{.status = 200, .body = {}, .retry_after = {}};
}

}  // namespace tessera::activation
