#include "cluster/stream_scrubber.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"
#include "ingest/event_codec.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"

namespace tessera::cluster {
namespace {

constexpr int kFetchBatch = 256;
constexpr int64_t kFetchWaitMs = 2'000;

struct SubscriptionDeleter {
  void operator()(natsSubscription* sub) const {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

}  // namespace

StreamScrubber::StreamScrubber(NatsConnection& nats, std::string space, const privacy::SuppressionList& list,
                               const ingest::IdentifierExtractor& extractor, const identity::Normalizer& normalizer)
    : nats_(nats), space_(std::move(space)), list_(list), extractor_(extractor), normalizer_(normalizer) {}

bool StreamScrubber::Unlawful(std::string_view record, ScrubReport& report) const {
  // An erasure command holds the erased value; a stewardship decision stays (derived state needs it).
  if (ingest::IsCommandRecord(record) && !ingest::IsStewardshipCommand(record)) {
    ++report.erased_commands;
    return true;
  }
  absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(record);
  if (!event.ok() || list_.Empty()) return false;
  if (!list_.FirstSuppressed(space_, event->source, extractor_.Extract(*event), normalizer_)) return false;
  ++report.erased_events;
  return true;
}

absl::StatusOr<ScrubReport> StreamScrubber::Scrub(uint64_t from, uint64_t through,
                                                  const std::function<absl::Status(uint64_t highest)>& before_erasing,
                                                  const std::function<bool()>& stopping) {
  ScrubReport report;
  if (from == 0) from = 1;
  if (through < from) return report;
  const std::string stream = StreamName(space_);
  const std::string subject = StreamSubject(space_);
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = stream.c_str();
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = from;
  sub_options.Config.AckPolicy = js_AckNone;
  sub_options.Config.InactiveThreshold = 60 * internal::kNanosPerSecond;
  natsSubscription* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status =
      js_PullSubscribe(&raw, nats_.jetstream(), subject.c_str(), nullptr, nullptr, &sub_options, &js_error);
  if (status != NATS_OK) return internal::FromNats(status, "read " + stream + " to scrub it", js_error);
  SubscriptionPtr subscription(raw);

  // First read everything up to `through`: the mark is raised only as far as what will go.
  std::vector<uint64_t> unlawful;
  bool done = false;
  while (!done) {
    if (stopping()) return absl::CancelledError("stopping");
    natsMsgList list{};
    status = natsSubscription_Fetch(&list, subscription.get(), kFetchBatch, kFetchWaitMs, &js_error);
    if (status == NATS_TIMEOUT) {
      // Nothing more only if the consumer has nothing left to deliver; a slow server is no end.
      jsConsumerInfo* info = nullptr;
      status = natsSubscription_GetConsumerInfo(&info, subscription.get(), nullptr, &js_error);
      const bool drained = status == NATS_OK && info->NumPending == 0;
      if (info != nullptr) jsConsumerInfo_Destroy(info);
      if (drained) break;
      return absl::UnavailableError(absl::StrCat("reading ", stream, " to scrub it timed out"));
    }
    if (status != NATS_OK) {
      natsMsgList_Destroy(&list);
      return internal::FromNats(status, "read " + stream + " to scrub it", js_error);
    }
    for (int i = 0; i < list.Count && !done; ++i) {
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, list.Msgs[i]) != NATS_OK) continue;
      const uint64_t sequence = meta->Sequence.Stream;
      done = meta->NumPending == 0;
      jsMsgMetaData_Destroy(meta);
      if (sequence > through) {
        done = true;
        break;
      }
      ++report.scanned;
      const std::string_view record(natsMsg_GetData(list.Msgs[i]),
                                    static_cast<size_t>(natsMsg_GetDataLength(list.Msgs[i])));
      if (Unlawful(record, report)) unlawful.push_back(sequence);
    }
    natsMsgList_Destroy(&list);
  }
  subscription.reset();
  if (unlawful.empty()) return report;
  if (absl::Status marked = before_erasing(unlawful.back()); !marked.ok()) return marked;
  for (uint64_t sequence : unlawful) {
    if (stopping()) return absl::CancelledError("stopping");
    status = js_EraseMsg(nats_.jetstream(), stream.c_str(), sequence, nullptr, &js_error);
    if (status != NATS_OK && js_error != JSSequenceNotFoundErr && js_error != JSNoMessageFoundErr) {
      return internal::FromNats(status, absl::StrCat("erase message ", sequence, " of ", stream), js_error);
    }
  }
  return report;
}

}  // namespace tessera::cluster
