#include "cluster/stream_follower.h"

#include <pthread.h>

#include <cstdio>
#include <future>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster/event_stream.h"
#include "cluster/internal/nats_error.h"
#include "cluster/internal/nats_handles.h"
#include "ingest/dedup_window.h"
#include "ingest/event_codec.h"
#include "ingest/log_command.h"
#include "ingest/stewardship_command.h"

namespace tessera::cluster {
namespace {

using internal::kNanosPerSecond;

// Marks kept for StreamPositionAt while the resolver is behind; beyond, the oldest are dropped and
// a position that old reads as unknown (0), never as too new.
constexpr size_t kMaxMarks = 100'000;
// After this long without a message while the stream holds newer ones, the consumer is made anew.
constexpr auto kSilentConsumerLimit = std::chrono::seconds(5);

struct MetaDataDeleter {
  void operator()(jsMsgMetaData* meta) const { jsMsgMetaData_Destroy(meta); }
};
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, MetaDataDeleter>;

std::string EncodePosition(uint64_t stream_sequence, int64_t stream_created_ns) {
  std::string value;
  profile_store::AppendBigEndian64(value, stream_sequence);
  profile_store::AppendBigEndian64(value, static_cast<uint64_t>(stream_created_ns));
  return value;  // GroupCommitWriter appends the log sequence.
}

}  // namespace

std::string CopiedPositionKey(std::string_view space) { return "stream/" + std::string(space) + "/position"; }

absl::StatusOr<CopiedPosition> ReadCopiedPosition(const profile_store::Store& store, std::string_view space) {
  absl::StatusOr<std::string> value = store.Get(profile_store::ColumnFamily::kIntakeMeta, CopiedPositionKey(space));
  if (absl::IsNotFound(value.status())) return CopiedPosition{};
  if (!value.ok()) return value.status();
  const std::string_view bytes = *value;
  if (bytes.size() == 16) {  // Written before the stream's creation time was kept.
    return CopiedPosition{.stream_sequence = profile_store::ReadBigEndian64(bytes.substr(0, 8)),
                          .log_sequence = profile_store::ReadBigEndian64(bytes.substr(8, 8))};
  }
  if (bytes.size() != 24) {
    return absl::DataLossError(absl::StrCat("copied stream position of space ", std::string(space), " is ",
                                            bytes.size(), " bytes, not 24"));
  }
  return CopiedPosition{
      .stream_sequence = profile_store::ReadBigEndian64(bytes.substr(0, 8)),
      .stream_created_ns = static_cast<int64_t>(profile_store::ReadBigEndian64(bytes.substr(8, 8))),
      .log_sequence = profile_store::ReadBigEndian64(bytes.substr(16, 8))};
}

struct StreamFollower::Subscription {
  natsSubscription* sub = nullptr;
  bool ephemeral = true;
  std::chrono::steady_clock::time_point last_message = std::chrono::steady_clock::now();

  ~Subscription() {
    if (sub == nullptr) return;
    // An ephemeral consumer is deleted now rather than after its inactivity threshold; a durable
    // one stays, with its acknowledgement floor.
    if (ephemeral) natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};

StreamFollower::StreamFollower(NatsConnection& nats, ingest::GroupCommitWriter& log_writer,
                               profile_store::Store& store, FollowerOptions options)
    : nats_(nats), log_writer_(log_writer), store_(store), options_(std::move(options)) {}

StreamFollower::~StreamFollower() { Stop(); }

absl::Status StreamFollower::Start() {
  absl::StatusOr<CopiedPosition> position = ReadCopiedPosition(store_, options_.space);
  if (!position.ok()) return position.status();
  copied_.store(position->stream_sequence, std::memory_order_release);
  stream_created_ns_.store(position->stream_created_ns);
  {
    std::lock_guard lock(mutex_);
    marks_.assign(1, *position);
    last_answer_ = 0;
    error_ = absl::OkStatus();
  }
  stopping_.store(false);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "stream-follow");
    Run();
  });
  return absl::OkStatus();
}

void StreamFollower::Stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

uint64_t StreamFollower::StreamPositionAt(uint64_t applied_log_sequence) const {
  std::lock_guard lock(mutex_);
  // The newest mark the resolver has passed; older ones are no longer needed.
  size_t passed = marks_.size();
  for (size_t i = 0; i < marks_.size() && marks_[i].log_sequence <= applied_log_sequence; ++i) passed = i;
  // A caller that read an older applied position than another gets the newer answer: the state
  // only moves forward.
  if (passed == marks_.size()) return last_answer_;
  marks_.erase(marks_.begin(), marks_.begin() + static_cast<std::ptrdiff_t>(passed));
  last_answer_ = std::max(last_answer_, marks_.front().stream_sequence);
  return last_answer_;
}

absl::Status StreamFollower::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void StreamFollower::Fail(absl::Status status) {
  std::fprintf(stderr, "tessera: following the stream of space %s stopped: %s\n", options_.space.c_str(),
               std::string(status.message()).c_str());
  std::lock_guard lock(mutex_);
  error_ = std::move(status);
}

absl::Status StreamFollower::CheckFollowable() {
  EventStream streams(nats_, {});
  absl::StatusOr<StreamState> state = streams.State(options_.space);
  if (!state.ok()) return state.status();
  stream_last_.store(state->last_sequence, std::memory_order_relaxed);
  const uint64_t from = copied();
  const int64_t created = stream_created_ns_.load();
  if (from > 0 && ((created != 0 && created != state->created_ns) || state->last_sequence < from)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", StreamName(options_.space), " was made anew (it ends at sequence ", state->last_sequence,
        "; this store copied up to ", from, " from an earlier one): restore this store from a backup taken "
        "from the new stream, or start it empty"));
  }
  // Erasure scrubbed messages this store has not applied (the likelier reason for a later first
  // sequence too, when one was erased at the front).
  if (options_.scrubbed_through) {
    absl::StatusOr<uint64_t> mark = options_.scrubbed_through(state->created_ns);
    if (!mark.ok()) return mark.status();
    if (from < *mark) {
      return absl::FailedPreconditionError(absl::StrCat(
          "erased people's messages were scrubbed from stream ", StreamName(options_.space), " through sequence ",
          *mark, ", past what this store copied (", from, "), which it must still apply: restore this store "
          "from a newer backup of another member"));
    }
  }
  // An emptied stream reports its first sequence as one past its last.
  if (from + 1 < state->first_sequence) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", StreamName(options_.space), " starts at sequence ", state->first_sequence,
        " but this store copied only up to ", from, ": the messages between are gone; restore this store from "
        "a newer backup of another member"));
  }
  stream_created_ns_.store(state->created_ns);
  return absl::OkStatus();
}

void StreamFollower::Pause() {
  const auto until = std::chrono::steady_clock::now() + options_.retry_wait;
  while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::unique_ptr<StreamFollower::Subscription> StreamFollower::Subscribe(bool durable) {
  const std::string stream = StreamName(options_.space);
  const std::string subject = StreamSubject(options_.space);
  jsErrCode js_error = static_cast<jsErrCode>(0);
  if (durable) {
    // The previous holder's consumer starts where its store was; this one starts at ours. Only a
    // consumer known gone may be made again: binding to a live one would skip what it delivered.
    natsStatus status =
        js_DeleteConsumer(nats_.jetstream(), stream.c_str(), options_.durable.c_str(), nullptr, &js_error);
    if (status != NATS_OK && js_error != JSConsumerNotFoundErr) {
      std::fprintf(stderr, "tessera: space %s: deleting consumer %s: %s\n", options_.space.c_str(),
                   options_.durable.c_str(), std::string(internal::FromNats(status, "delete", js_error).message()).c_str());
      return nullptr;
    }
  }
  const uint64_t start = copied() + 1;
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = stream.c_str();
  sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
  sub_options.Config.OptStartSeq = start;
  sub_options.Config.AckPolicy = js_AckAll;
  sub_options.Config.AckWait = 60 * kNanosPerSecond;
  sub_options.Config.MaxAckPending = 4 * options_.fetch_batch;
  if (!durable) sub_options.Config.InactiveThreshold = 60 * kNanosPerSecond;
  auto made = std::make_unique<Subscription>();
  made->ephemeral = !durable;
  js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_PullSubscribe(&made->sub, nats_.jetstream(), subject.c_str(),
                                       durable ? options_.durable.c_str() : nullptr, nullptr, &sub_options, &js_error);
  if (status != NATS_OK) {
    made->sub = nullptr;
    std::fprintf(stderr, "tessera: space %s: consumer of %s: %s\n", options_.space.c_str(), stream.c_str(),
                 std::string(internal::FromNats(status, "pull subscribe", js_error).message()).c_str());
    return nullptr;
  }
  // Made by this call from our position, with nothing delivered yet: only then may its first
  // message be trusted as the first one the stream still holds after the position.
  jsConsumerInfo* info = nullptr;
  status = natsSubscription_GetConsumerInfo(&info, made->sub, nullptr, &js_error);
  const bool fresh = status == NATS_OK && info->Config != nullptr && info->Config->OptStartSeq == start &&
                     info->Delivered.Consumer == 0;
  if (info != nullptr) jsConsumerInfo_Destroy(info);
  if (!fresh) {
    std::fprintf(stderr, "tessera: space %s: consumer of %s is not the one just made from sequence %llu; again\n",
                 options_.space.c_str(), stream.c_str(), static_cast<unsigned long long>(start));
    return nullptr;
  }
  return made;
}

void StreamFollower::ReportGap(uint64_t first, uint64_t last) {
  gaps_.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (first == gap_first_ && now - gap_reported_ < std::chrono::seconds(30)) return;
  gap_first_ = first;
  gap_reported_ = now;
  std::fprintf(stderr,
               "tessera: space %s: the consumer did not deliver stream sequences %llu-%llu; reading again from %llu (if "
               "this repeats and no erasure explains it, the stream has lost acknowledged messages)\n",
               options_.space.c_str(), static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
               static_cast<unsigned long long>(first));
}

void StreamFollower::Run() {
  std::unique_ptr<Subscription> subscription;
  while (!stopping_.load()) {
    // A holder whose lease ran out leaves the durable consumer to the next one.
    const bool durable = durable_wanted_.load() && (!options_.may_acknowledge || options_.may_acknowledge());
    if (subscription != nullptr && subscription->ephemeral == durable) subscription.reset();
    if (subscription == nullptr) {
      if (!nats_.connected()) {
        Pause();
        continue;
      }
      // First: a store that can no longer follow must say so, not wait in silence.
      absl::Status followable = CheckFollowable();
      if (absl::IsFailedPrecondition(followable)) {
        Fail(followable);
        return;
      }
      if (followable.ok()) subscription = Subscribe(durable);
      if (subscription == nullptr) {
        Pause();
        continue;
      }
    }

    natsMsgList list{};
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status = natsSubscription_Fetch(&list, subscription->sub, options_.fetch_batch,
                                               options_.fetch_wait.count(), &js_error);
    if (status == NATS_TIMEOUT || (status == NATS_OK && list.Count == 0)) {
      natsMsgList_Destroy(&list);
      if (std::chrono::steady_clock::now() - subscription->last_message < kSilentConsumerLimit) continue;
      // Silent for long: fine while the consumer has nothing to deliver; made anew if it is gone.
      jsConsumerInfo* info = nullptr;
      status = natsSubscription_GetConsumerInfo(&info, subscription->sub, nullptr, &js_error);
      const bool idle = status == NATS_OK && info->NumPending == 0 && info->NumAckPending == 0;
      if (info != nullptr) jsConsumerInfo_Destroy(info);
      if (idle) {
        subscription->last_message = std::chrono::steady_clock::now();
      } else {
        subscription.reset();
      }
      continue;
    }
    if (status != NATS_OK) {
      natsMsgList_Destroy(&list);
      subscription.reset();
      Pause();
      continue;
    }
    const bool keep_going = CopyBatch(list, *subscription);
    natsMsgList_Destroy(&list);
    if (!keep_going) {
      subscription.reset();
      Pause();  // A gap that persists must not turn into a loop of consumers made anew.
    }
  }
}

bool StreamFollower::CopyBatch(natsMsgList& list, Subscription& subscription) {
  std::vector<ingest::LogEntry> entries;
  entries.reserve(static_cast<size_t>(list.Count));
  uint64_t expected = copied() + 1;
  uint64_t last = 0;
  natsMsg* last_message = nullptr;
  bool stopped_at_gap = false;
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* message = list.Msgs[i];
    jsMsgMetaData* raw_meta = nullptr;
    if (natsMsg_GetMetaData(&raw_meta, message) != NATS_OK) continue;  // Not a stream message.
    MetaDataPtr meta(raw_meta);
    const uint64_t sequence = meta->Sequence.Stream;
    stream_last_.store(std::max(stream_last_.load(std::memory_order_relaxed), sequence + meta->NumPending),
                       std::memory_order_relaxed);
    if (sequence < expected) continue;  // Already copied (a redelivery).
    if (sequence > expected) {
      // expected..sequence-1 were not delivered. Tessera deletes stream messages only through the
      // scrubber, which raises the scrub mark over every message before erasing it, and a store
      // below the mark stops when the consumer is made again (CheckFollowable). So a gap is never
      // skipped here, whatever JetStream answers for it now: an ephemeral consumer (R1 in 2.9)
      // reads one replica's store, and a replica that restarted or caught up, or a leader that has
      // not applied its log, can lack a range that the stream acknowledged and other replicas hold.
      // The consumer is made again from the position and the messages are read in order.
      ReportGap(expected, sequence - 1);
      stopped_at_gap = true;
      break;
    }
    const std::string_view record(natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message)));
    ingest::LogEntry entry;
    entry.space = options_.space;
    entry.record = std::string(record);
    absl::StatusOr<ingest::CanonicalEvent> event = ingest::DecodeEvent(record);
    absl::StatusOr<ingest::ErasureCommand> command =
        ingest::IsCommandRecord(record) ? ingest::DecodeErasureCommand(record)
                                        : absl::StatusOr<ingest::ErasureCommand>(absl::NotFoundError("an event"));
    absl::StatusOr<ingest::StewardshipCommand> decision =
        ingest::IsStewardshipCommand(record)
            ? ingest::DecodeStewardshipCommand(record)
            : absl::StatusOr<ingest::StewardshipCommand>(absl::NotFoundError("not a decision"));
    if (decision.ok()) {
      entry.dedup_key = ingest::CommandDedupKey(options_.space, decision->request_id);
      entry.received_at = decision->requested_at;
    } else if (command.ok()) {
      // Carried out by the resolver at this position (ingest/log_command.h).
      entry.dedup_key = ingest::CommandDedupKey(options_.space, command->request_id);
      entry.received_at = command->requested_at;
    } else if (event.ok()) {
      entry.dedup_key = ingest::DedupWindow::Key(options_.space, event->message_id);
      entry.received_at = event->received_at;
    } else {
      // Copied all the same, under a key of its own: the resolver dead-letters it with the reason.
      entry.dedup_key = ingest::DedupWindow::Key(options_.space, absl::StrCat("\x01stream sequence ", sequence));
      entry.received_at = ingest::Timestamp(std::chrono::microseconds(meta->Timestamp / 1000));
    }
    entries.push_back(std::move(entry));
    expected = sequence + 1;
    last = sequence;
    last_message = message;
  }
  subscription.last_message = std::chrono::steady_clock::now();
  if (last == 0) return !stopped_at_gap;

  for (;;) {
    absl::Status status = Submit(entries, last);
    if (status.ok()) break;
    if (absl::IsResourceExhausted(status) && !stopping_.load()) {
      std::this_thread::sleep_for(options_.retry_wait);
      continue;
    }
    // Stopping, or the local store failed: nothing of this batch is recorded; start again from
    // the position once the store answers.
    if (!stopping_.load()) {
      std::fprintf(stderr, "tessera: space %s: copying from the stream: %s\n", options_.space.c_str(),
                   std::string(status.message()).c_str());
      std::this_thread::sleep_for(options_.retry_wait);
    }
    return false;
  }
  // AckAll: everything up to it (a lost acknowledgement means a redelivery, which is skipped). An
  // ephemeral consumer is acknowledged too, or it would stop at its pending limit.
  if (subscription.ephemeral || !options_.may_acknowledge || options_.may_acknowledge()) {
    natsMsg_Ack(last_message, nullptr);
  }
  return !stopped_at_gap;
}

absl::Status StreamFollower::Submit(const std::vector<ingest::LogEntry>& entries, uint64_t last_sequence) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> written = done->get_future();
  // A copy: a refused batch is offered again.
  absl::Status queued = log_writer_.SubmitMarked(
      entries,
      ingest::GroupCommitWriter::IntakeMark{.key = CopiedPositionKey(options_.space),
                                            .value = EncodePosition(last_sequence, stream_created_ns_.load())},
      [done](absl::Status status, std::vector<ingest::EventOutcome>) { done->set_value(std::move(status)); });
  if (!queued.ok()) return queued;
  absl::Status status = written.get();
  if (!status.ok()) return status;
  absl::StatusOr<CopiedPosition> position = ReadCopiedPosition(store_, options_.space);
  if (!position.ok()) return position.status();
  copied_.store(position->stream_sequence, std::memory_order_release);
  std::lock_guard lock(mutex_);
  marks_.push_back(*position);
  if (marks_.size() > kMaxMarks) marks_.pop_front();
  return absl::OkStatus();
}

}  // namespace tessera::cluster
