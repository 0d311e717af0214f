#include "cluster/stream_writer.h"

#include <algorithm>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/internal/nats_error.h"

namespace tessera::cluster {

struct StreamWriter::Request {
  explicit Request(size_t events, ingest::CommitCallback callback)
      : done(std::move(callback)), outcomes(events), remaining(events) {}
  ingest::CommitCallback done;
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  std::mutex mutex;
  std::vector<ingest::EventOutcome> outcomes;  // Guarded by mutex.
  absl::Status status;                         // The first error; guarded by mutex.
  size_t remaining;                            // Events not yet settled; guarded by mutex.
};

namespace {

// The message id JetStream deduplicates on: the dedup key's hash part ("space\0" + 16 bytes), in
// hex. The space is the stream's, so it is left out.
std::string MessageIdOf(const ingest::LogEntry& entry) {
  const size_t end_of_space = entry.dedup_key.find('\0');
  const std::string_view hash = end_of_space == std::string::npos
                                    ? std::string_view(entry.dedup_key)
                                    : std::string_view(entry.dedup_key).substr(end_of_space + 1);
  return absl::BytesToHexString(absl::string_view(hash.data(), hash.size()));
}

// What a failed publish means for the client. No connection, no quorum or no answer in time: the
// stream cannot be reached now, retry soon. A full stream: overloaded, retry later. Anything else
// (or the servers' JetStream storage) is overloaded too. Anything else
// (the subject owned by another stream, an event over the stream's message size): a fault that a
// retry will not cure.
absl::Status PublishError(natsStatus status, jsErrCode js_error, const char* server_text) {
  const std::string text = server_text != nullptr && *server_text != '\0'
                               ? absl::StrCat("publish: ", server_text)
                               : absl::StrCat("publish: ", natsStatus_GetText(status));
  if (js_error == JSStreamStoreFailedErr) {
    return absl::ResourceExhaustedError(absl::StrCat(text, " (the space's stream is at its limits)"));
  }
  if (js_error == JSInsufficientResourcesErr) {
    return absl::ResourceExhaustedError(
        absl::StrCat(text, " (the NATS servers' JetStream storage is full: raise max_file_store or add disk)"));
  }
  if (js_error != 0) return absl::InternalError(absl::StrCat(text, " [JetStream error ", js_error, "]"));
  const absl::Status mapped = internal::FromNats(status, "publish");
  if (absl::IsUnavailable(mapped)) return ingest::StoreUnreachable(text);
  return absl::InternalError(text);
}

}  // namespace

StreamWriter::StreamWriter(NatsConnection& nats, StreamWriterOptions options, ingest::IngestMetrics* metrics)
    : nats_(nats), options_(options), metrics_(metrics) {}

StreamWriter::~StreamWriter() {
  Stop();
  if (jetstream_ != nullptr) jsCtx_Destroy(jetstream_);
}

absl::Status StreamWriter::Start() {
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options_.publish_timeout.count();
  // Submit bounds what is in flight itself (and refuses beyond it); nats.c's own bound must never
  // stall a submitting thread first.
  // A request larger than the bound is still taken when nothing else waits, so nats.c's cap is far
  // above any request.
  js_options.PublishAsync.MaxPending = int64_t{1} << 40;
  js_options.PublishAsync.AckHandler = &StreamWriter::OnAck;
  js_options.PublishAsync.AckHandlerClosure = this;
  return internal::FromNats(natsConnection_JetStream(&jetstream_, nats_.raw(), &js_options),
                            "JetStream context of the stream writer");
}

absl::Status StreamWriter::Submit(std::vector<ingest::LogEntry> entries, ingest::CommitCallback done) {
  // Counted before stopped_ is read, so that Stop, which sets stopped_ and then waits for this count
  // to reach zero, never settles what a Submit is still publishing.
  submitting_.fetch_add(1);
  struct Leave {
    std::atomic<int>& count;
    ~Leave() { count.fetch_sub(1); }
  } leave{submitting_};
  if (stopped_.load()) return absl::UnavailableError("the gateway is stopping");
  if (jetstream_ == nullptr) return absl::FailedPreconditionError("stream writer not started");
  const size_t count = entries.size();
  if (!nats_.connected()) {
    absl::Status refused = ingest::StoreUnreachable("no NATS server connected; the events were not stored");
    CountFailure(refused, count);
    return refused;
  }
  if (count > 0 && options_.fill != nullptr && options_.fill->Shedding(entries.front().space)) {
    absl::Status refused = ingest::StoreNearlyFull(
        "the space's event stream is near its size limit; events are refused until it has room (retry later)");
    CountFailure(refused, count);
    return refused;
  }
  if (count == 0) {
    done(absl::OkStatus(), {});
    return absl::OkStatus();
  }
  // A request larger than the whole bound is still taken when nothing else waits, so that no
  // valid request is refused for ever.
  const size_t before = pending_events_.fetch_add(count);
  if (before > 0 && before + count > options_.max_pending_events) {
    pending_events_.fetch_sub(count);
    return absl::ResourceExhaustedError(
        absl::StrCat(before, " events already wait for JetStream's acknowledgement"));
  }

  if (metrics_ != nullptr) metrics_->queue_depth_events.fetch_add(static_cast<int64_t>(count));
  if (options_.fill != nullptr) {
    uint64_t bytes = 0;
    for (const ingest::LogEntry& entry : entries) bytes += entry.record.size();
    options_.fill->Published(entries.front().space, bytes, count);
  }
  auto request = std::make_shared<Request>(count, std::move(done));
  for (size_t i = 0; i < count; ++i) {
    const ingest::LogEntry& entry = entries[i];
    const std::string subject = StreamSubject(entry.space);
    const std::string stream = StreamName(entry.space);
    const std::string message_id = MessageIdOf(entry);
    natsMsg* message = nullptr;
    natsStatus status = natsMsg_Create(&message, subject.c_str(), nullptr, entry.record.data(),
                                       static_cast<int>(entry.record.size()));
    if (status == NATS_OK) {
      std::lock_guard lock(mutex_);
      in_flight_[message] = InFlight{request, i};
    }
    jsPubOptions publish;
    jsPubOptions_Init(&publish);
    publish.MsgId = message_id.c_str();
    publish.ExpectStream = stream.c_str();
    publish.MaxWait = options_.publish_timeout.count();
    natsMsg* const sent = message;
    if (status == NATS_OK) status = js_PublishMsgAsync(jetstream_, &message, &publish);
    if (status == NATS_OK) continue;  // The library owns the message now; OnAck settles it.

    // Not sent: this event and every later one fail here.
    absl::Status error = PublishError(status, static_cast<jsErrCode>(0), nullptr);
    if (sent != nullptr) {
      std::lock_guard lock(mutex_);
      in_flight_.erase(sent);
    }
    natsMsg_Destroy(message);
    if (i == 0) {
      // Nothing of the request left: refuse it, as the contract says (done is not called).
      pending_events_.fetch_sub(count);
      if (metrics_ != nullptr) metrics_->queue_depth_events.fetch_sub(static_cast<int64_t>(count));
      CountFailure(error, count);
      return error;
    }
    for (size_t rest = i; rest < count; ++rest) Settle(request, rest, nullptr, error);
    break;
  }
  return absl::OkStatus();
}

void StreamWriter::OnAck(jsCtx* /*js*/, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  auto* writer = static_cast<StreamWriter*>(closure);
  writer->acknowledging_.fetch_add(1);
  struct Leave {
    std::atomic<int>& count;
    ~Leave() { count.fetch_sub(1); }
  } leave{writer->acknowledging_};
  InFlight in_flight;
  {
    std::lock_guard lock(writer->mutex_);
    auto it = writer->in_flight_.find(msg);
    if (it != writer->in_flight_.end()) {
      in_flight = std::move(it->second);
      writer->in_flight_.erase(it);
    }
  }
  absl::Status status;
  if (ack == nullptr) {
    // No acknowledgement: the request fails, with what the failure means for a retry.
    status = error != nullptr ? PublishError(error->Err, error->ErrCode, error->ErrText)
                              : ingest::StoreUnreachable("publish: no acknowledgement");
  }
  natsMsg_Destroy(msg);
  if (in_flight.request != nullptr) writer->Settle(in_flight.request, in_flight.index, ack, status);
}

uint64_t StreamWriter::acknowledged_position(std::string_view space) const {
  std::lock_guard lock(positions_mutex_);
  auto it = acknowledged_.find(StreamName(space));
  return it == acknowledged_.end() ? 0 : it->second;
}

void StreamWriter::Settle(const std::shared_ptr<Request>& request, size_t index, const jsPubAck* ack,
                          absl::Status error) {
  bool last = false;
  {
    std::lock_guard lock(request->mutex);
    if (ack != nullptr) {
      request->outcomes[index] = ack->Duplicate ? ingest::EventOutcome::kDuplicate : ingest::EventOutcome::kAccepted;
      if (ack->Stream != nullptr) {
        // Before the request is reported, so that its callback reads a position covering it.
        std::lock_guard positions(positions_mutex_);
        uint64_t& highest = acknowledged_[ack->Stream];
        highest = std::max(highest, ack->Sequence);
      }
    } else if (request->status.ok()) {
      request->status = std::move(error);
    }
    last = --request->remaining == 0;
  }
  if (!last) return;
  const size_t events = request->outcomes.size();
  pending_events_.fetch_sub(events);
  if (metrics_ != nullptr) metrics_->queue_depth_events.fetch_sub(static_cast<int64_t>(events));
  if (request->status.ok()) {
    if (metrics_ != nullptr) {
      const size_t accepted = static_cast<size_t>(
          std::count(request->outcomes.begin(), request->outcomes.end(), ingest::EventOutcome::kAccepted));
      metrics_->events_accepted.fetch_add(accepted, std::memory_order_relaxed);
      metrics_->events_duplicate.fetch_add(events - accepted, std::memory_order_relaxed);
      metrics_->commit_wait_latency.Record(std::chrono::steady_clock::now() - request->submitted);
    }
  } else {
    CountFailure(request->status, events);
  }
  if (request->status.ok()) {
    request->done(absl::OkStatus(), std::move(request->outcomes));
  } else {
    request->done(request->status, {});
  }
}

void StreamWriter::Stop() {
  if (stopped_.exchange(true) || jetstream_ == nullptr) return;
  while (submitting_.load() > 0) std::this_thread::yield();
  // Lets every event already published be acknowledged (or time out) and reported.
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = options_.publish_timeout.count() * 2;
  if (js_PublishAsyncComplete(jetstream_, &wait) != NATS_OK) {
    // Still pending after the wait: take them back from nats.c, so that no late acknowledgement
    // calls back into this writer.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, jetstream_) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  while (acknowledging_.load() > 0) std::this_thread::yield();
  // What is still in flight is reported failed: the process is leaving before JetStream answered.
  absl::flat_hash_map<natsMsg*, InFlight> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(in_flight_);
  }
  for (auto& [message, in_flight] : left) {
    Settle(in_flight.request, in_flight.index, nullptr,
           absl::UnavailableError("the gateway stopped before JetStream acknowledged the event"));
  }
}

void StreamWriter::CountFailure(const absl::Status& status, size_t events) {
  if (ingest::IsStoreUnreachable(status)) {
    failed_unreachable_.fetch_add(events, std::memory_order_relaxed);
  } else if (ingest::IsStoreNearlyFull(status)) {
    failed_shed_.fetch_add(events, std::memory_order_relaxed);
  } else if (absl::IsResourceExhausted(status)) {
    failed_overloaded_.fetch_add(events, std::memory_order_relaxed);
  } else {
    failed_refused_.fetch_add(events, std::memory_order_relaxed);
  }
}

void StreamWriter::AppendPrometheus(std::string& out) const {
  auto load = [](const std::atomic<uint64_t>& value) { return value.load(std::memory_order_relaxed); };
  absl::StrAppend(&out,
                  "# HELP tessera_cluster_publish_failures_total Events of requests that JetStream did not "
                  "acknowledge, by reason.\n",
                  "# TYPE tessera_cluster_publish_failures_total counter\n");
  absl::StrAppend(&out, "tessera_cluster_publish_failures_total{reason=\"unreachable\"} ", load(failed_unreachable_),
                  "\n");
  absl::StrAppend(&out, "tessera_cluster_publish_failures_total{reason=\"overloaded\"} ", load(failed_overloaded_),
                  "\n");
  absl::StrAppend(&out, "tessera_cluster_publish_failures_total{reason=\"refused\"} ", load(failed_refused_), "\n");
  absl::StrAppend(&out, "tessera_cluster_publish_failures_total{reason=\"shed\"} ", load(failed_shed_), "\n");
  if (options_.fill != nullptr) {
    absl::StrAppend(&out, "# HELP tessera_cluster_stream_fill Share of its size or message limit a space's stream "
                          "holds (requests are shed at cluster.shed_at_percent).\n",
                    "# TYPE tessera_cluster_stream_fill gauge\n");
    for (const auto& [space, fill] : options_.fill->Fills()) {
      absl::StrAppend(&out, "tessera_cluster_stream_fill{space=\"", space, "\"} ", fill, "\n");
    }
  }
  absl::StrAppend(&out, "# HELP tessera_cluster_pending_events Events published and not yet acknowledged.\n",
                  "# TYPE tessera_cluster_pending_events gauge\n", "tessera_cluster_pending_events ",
                  pending_events_.load(std::memory_order_relaxed), "\n");
  absl::StrAppend(&out, "# HELP tessera_cluster_connected Whether a NATS server is connected (1) or not (0).\n",
                  "# TYPE tessera_cluster_connected gauge\n", "tessera_cluster_connected ",
                  nats_.connected() ? 1 : 0, "\n");
}

}  // namespace tessera::cluster
