#include "cluster/event_stream.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"

namespace tessera::cluster {

using internal::kNanosPerSecond;
using internal::PubAckPtr;
using internal::StreamInfoPtr;

std::string StreamName(std::string_view space) { return "TESSERA_EVENTS_" + std::string(space); }
std::string StreamSubject(std::string_view space) { return "tessera.events." + std::string(space); }

EventStream::EventStream(NatsConnection& nats, EventStreamOptions options) : nats_(nats), options_(options) {}

absl::Status EventStream::Ensure(std::string_view space) {
  const std::string name = StreamName(space);
  const std::string subject = StreamSubject(space);
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  // Refuse new events at the limit rather than drop the oldest: an accepted event is never lost.
  config.Discard = js_DiscardNew;
  config.Replicas = options_.replicas;
  config.Duplicates = options_.duplicate_window.count() * kNanosPerSecond;
  config.MaxBytes = options_.max_bytes;
  config.DenyDelete = false;  // Erasure removes a person's events from the stream.

  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&raw_info, nats_.jetstream(), name.c_str(), nullptr, &js_error);
  StreamInfoPtr info(raw_info);
  if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) {
    raw_info = nullptr;
    js_error = static_cast<jsErrCode>(0);
    status = js_AddStream(&raw_info, nats_.jetstream(), &config, nullptr, &js_error);
    StreamInfoPtr added(raw_info);
    // Another process may have created it in between; that stream is then checked below.
    if (js_error != JSStreamNameExistErr) return internal::FromNats(status, "create stream " + name, js_error);
    raw_info = nullptr;
    status = js_GetStreamInfo(&raw_info, nats_.jetstream(), name.c_str(), nullptr, &js_error);
    info.reset(raw_info);
  }
  if (absl::Status s = internal::FromNats(status, "stream " + name, js_error); !s.ok()) return s;

  const jsStreamConfig& existing = *info->Config;
  if (existing.SubjectsLen != 1 || subject != existing.Subjects[0] || existing.Storage != js_FileStorage ||
      existing.Replicas != options_.replicas) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream ", name, " exists with other subjects, storage or replicas (", existing.Replicas,
                     " replicas, configured ", options_.replicas, "); change or delete it with the nats CLI"));
  }
  // Only what Tessera manages changes; the operator's other limits (MaxAge, MaxMsgs, and MaxBytes
  // unless configured here) stay as they are.
  jsStreamConfig wanted = existing;
  wanted.Duplicates = config.Duplicates;
  wanted.Discard = js_DiscardNew;
  if (options_.max_bytes >= 0) wanted.MaxBytes = options_.max_bytes;
  if (wanted.Duplicates == existing.Duplicates && wanted.Discard == existing.Discard &&
      wanted.MaxBytes == existing.MaxBytes) {
    return absl::OkStatus();
  }
  raw_info = nullptr;
  status = js_UpdateStream(&raw_info, nats_.jetstream(), &wanted, nullptr, &js_error);
  StreamInfoPtr updated(raw_info);
  return internal::FromNats(status, "update stream " + name, js_error);
}

absl::StatusOr<PublishAck> EventStream::Publish(std::string_view space, std::string_view message_id,
                                                std::string_view payload, std::chrono::milliseconds timeout) {
  const std::string subject = StreamSubject(space);
  // Without a server nats.c cannot tell whether headers (Nats-Msg-Id) are supported and says "not
  // supported"; the truth is that nothing is connected.
  if (!nats_.connected()) return absl::UnavailableError("publish to " + subject + ": no NATS server connected");
  const std::string stream = StreamName(space);
  const std::string id(message_id);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  options.ExpectStream = stream.c_str();  // Never stored by some other stream bound to the subject.
  options.MaxWait = timeout.count();
  jsPubAck* raw_ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_Publish(&raw_ack, nats_.jetstream(), subject.c_str(), payload.data(),
                                 static_cast<int>(payload.size()), &options, &js_error);
  PubAckPtr ack(raw_ack);
  if (status != NATS_OK) return internal::FromNats(status, "publish to " + subject, js_error);
  return PublishAck{.sequence = ack->Sequence, .duplicate = ack->Duplicate};
}

absl::StatusOr<StreamState> EventStream::State(std::string_view space) {
  const std::string name = StreamName(space);
  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&raw_info, nats_.jetstream(), name.c_str(), nullptr, &js_error);
  StreamInfoPtr info(raw_info);
  if (status != NATS_OK) return internal::FromNats(status, "stream " + name, js_error);
  StreamState state{.messages = info->State.Msgs,
                    .bytes = info->State.Bytes,
                    .first_sequence = info->State.FirstSeq,
                    .last_sequence = info->State.LastSeq,
                    .replicas = info->Config->Replicas,
                    .created_ns = info->Created,
                    .max_bytes = info->Config->MaxBytes,
                    .max_messages = info->Config->MaxMsgs};
  if (info->Cluster == nullptr) {
    state.current_replicas = 1;  // A server without clustering is its own leader.
  } else if (info->Cluster->Leader != nullptr && *info->Cluster->Leader != '\0') {
    state.current_replicas = 1;
    for (int i = 0; i < info->Cluster->ReplicasLen; ++i) {
      const jsPeerInfo* peer = info->Cluster->Replicas[i];
      if (peer != nullptr && peer->Current && !peer->Offline) ++state.current_replicas;
    }
  }
  return state;
}

}  // namespace tessera::cluster
