#include "activation/delivery.h"

#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "activation/internal/formats.h"
#include "activation/nats_publisher.h"
#include "activation/request_format.h"
#include "profile_store/profile_reader.h"
#include "rocksdb/db.h"

namespace tessera::activation {
namespace {

using profile_store::ColumnFamily;

constexpr size_t kKeptErrors = 10;
constexpr size_t kKeptResponseBytes = 1024;
constexpr std::chrono::hours kLongestRetryAfter{1};

std::string PausedKey(std::string_view space, std::string_view destination) {
  return absl::StrCat("activation/paused/", std::string(space), "/", std::string(destination));
}

// Retry-After: delay-seconds or an HTTP-date (RFC 9110, 10.2.3); nullopt when it is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view text,
                                                         std::chrono::system_clock::time_point now) {
  if (text.empty()) return std::nullopt;
  uint64_t seconds = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error == std::errc() && end == text.data() + text.size()) {
    return std::chrono::milliseconds(std::min<uint64_t>(seconds, 86'400) * 1000);
  }
  std::tm parts{};
  const std::string copy(text);
  const char* parsed = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (parsed == nullptr || *parsed != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&parts));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

bool Retryable(int status) { return status == 408 || status == 429 || status >= 500; }

std::string Truncated(std::string_view body) {
  return std::string(body.substr(0, kKeptResponseBytes));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Delivery>> Delivery::Create(profile_store::Store& store, DestinationSpec destination,
                                                           DeliveryOptions options) {
  if (destination.url.empty()) destination.url = DefaultUrl(destination);
  if (absl::Status valid = ValidateDestination(destination); !valid.ok()) {
    return absl::Status(valid.code(), absl::StrCat("destination ", destination.name, ": ", valid.message()));
  }
  if (destination.type == DestinationType::kNats) {
    absl::StatusOr<std::unique_ptr<NatsPublisher>> publisher =
        NatsPublisher::Create(destination.url, internal::NatsUsesJetStream(destination));
    if (!publisher.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("destination ", destination.name, ": ", publisher.status().message()));
    }
    return std::unique_ptr<Delivery>(
        new Delivery(store, std::move(destination), std::move(options), HttpUrl{}, *std::move(publisher)));
  }
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(destination.url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("destination ", destination.name, ": ", url.status().message()));
  }
  absl::StatusOr<std::unique_ptr<HttpSender>> sender = HttpSender::Create(*url, destination.ca_file);
  if (!sender.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("destination ", destination.name, ": ", sender.status().message()));
  }
  std::unique_ptr<OAuthTokenSource> oauth;
  if (destination.type == DestinationType::kGoogleCustomerMatch) {
    if (std::optional<OAuthClient> client = internal::GoogleOAuthClient(destination)) {
      absl::StatusOr<std::unique_ptr<OAuthTokenSource>> source =
          OAuthTokenSource::Create(*std::move(client), destination.ca_file);
      if (!source.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("destination ", destination.name, ": ", source.status().message()));
      }
      oauth = *std::move(source);
    }
  }
  auto delivery = std::unique_ptr<Delivery>(
      new Delivery(store, std::move(destination), std::move(options), *std::move(url), *std::move(sender)));
  delivery->oauth_ = std::move(oauth);
  return delivery;
}

Delivery::Delivery(profile_store::Store& store, DestinationSpec destination, DeliveryOptions options, HttpUrl url,
                   std::unique_ptr<Transport> transport)
    : store_(store),
      destination_(std::move(destination)),
      options_(std::move(options)),
      url_(std::move(url)),
      transport_(std::move(transport)),
      logged_events_(options_.logged_events),
      random_(std::random_device{}()) {
  if (logged_events_ == nullptr) {
    own_logged_events_ = std::make_unique<LoggedEvents>(store_, destination_.space);
    logged_events_ = own_logged_events_.get();
  }
}

Delivery::~Delivery() { Stop(); }

std::chrono::system_clock::time_point Delivery::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

absl::Status Delivery::Recover() {
  absl::StatusOr<uint64_t> cursor = ReadDeliveredCursor(store_, destination_.space, destination_.name);
  if (!cursor.ok()) return cursor.status();
  cursor_ = *cursor;
  metrics_.cursor = cursor_;
  absl::StatusOr<std::string> paused = store_.Get(ColumnFamily::kMeta, PausedKey(destination_.space, destination_.name));
  if (!paused.ok() && !absl::IsNotFound(paused.status())) return paused.status();
  paused_ = paused.ok();
  uint64_t letters = 0;
  absl::Status counted = store_.ScanPrefix(ColumnFamily::kDeliveryDeadLetters,
                                           OutboxPrefix(destination_.space, destination_.name),
                                           [&](std::string_view, std::string_view) { ++letters; });
  if (!counted.ok()) return counted;
  metrics_.dead_letters = letters;
  // Rows written before a restart wait after the cursor: the newest of them is where the resolver
  // had got to (it announces only what it writes from now on).
  absl::StatusOr<uint64_t> newest = NewestOutboxRow(store_, destination_.space, destination_.name);
  if (!newest.ok()) return newest.status();
  NotifyWritten(std::max(cursor_, *newest));
  return absl::OkStatus();
}

void Delivery::Start() {
  thread_ = std::thread([this] {
    const std::string name = "deliver-" + destination_.name.substr(0, 7);
    pthread_setname_np(pthread_self(), name.c_str());
    Run();
  });
}

void Delivery::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Delivery::NotifyWritten(uint64_t last_sequence) {
  {
    std::lock_guard lock(mutex_);
    written_ = std::max(written_, last_sequence);
  }
  metrics_.written = std::max(metrics_.written.load(), last_sequence);
  wake_.notify_all();
}

absl::Status Delivery::SetPaused(bool paused) {
  if (options_.gate != nullptr) {
    // Cluster mode: the switch is the cluster's, in the shared record every member follows.
    absl::StatusOr<std::optional<std::string>> stored = options_.gate->Load(SharedKey());
    if (!stored.ok()) return stored.status();
    std::string record = stored->value_or("1 0 0 ");
    if (record.size() < 6 || !record.starts_with("1 ")) record = "1 0 0 ";
    const size_t flag = record.find(' ', 2) + 1;
    record[flag] = paused ? '1' : '0';
    if (absl::Status written = options_.gate->Store(SharedKey(), record); !written.ok()) return written;
  }
  rocksdb::WriteBatch batch;
  const std::string key = PausedKey(destination_.space, destination_.name);
  if (paused) {
    batch.Put(store_.handle(ColumnFamily::kMeta), key, "1");
  } else {
    batch.Delete(store_.handle(ColumnFamily::kMeta), key);
  }
  if (absl::Status written = store_.Write(batch); !written.ok()) return written;
  paused_ = paused;
  wake_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Delivery::ReplayDeadLetters() {
  // Counted before the thread is woken: it may send them all before this returns.
  const uint64_t waiting = metrics_.dead_letters.load();
  {
    std::lock_guard lock(mutex_);
    replay_ = true;
  }
  wake_.notify_all();
  return waiting;
}

std::vector<Delivery::ErrorRecord> Delivery::RecentErrors() const {
  std::lock_guard lock(mutex_);
  return std::vector<ErrorRecord>(errors_.rbegin(), errors_.rend());
}

void Delivery::RecordError(std::string message) {
  std::lock_guard lock(mutex_);
  if (errors_.size() == kKeptErrors) errors_.erase(errors_.begin());
  errors_.push_back(ErrorRecord{Now(), std::move(message)});
}

bool Delivery::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_ || paused_.load(); });
}

std::chrono::milliseconds Delivery::Backoff(uint32_t failures) {
  // Full jitter: uniform in [0, min(max, initial * 2^(failures-1))].
  const uint32_t doublings = std::min<uint32_t>(failures > 0 ? failures - 1 : 0, 30);
  const int64_t ceiling =
      std::min<int64_t>(destination_.retry_max.count(), destination_.retry_initial.count() << std::min<uint32_t>(doublings, 20));
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(ceiling, 1));
  return std::chrono::milliseconds(pick(random_));
}

absl::StatusOr<std::vector<Delivery::Row>> Delivery::ReadRows(ColumnFamily family, uint64_t after) {
  std::vector<Row> rows;
  const std::string prefix = OutboxPrefix(destination_.space, destination_.name);
  std::string upper = prefix;
  upper.back() = '\1';
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(read, store_.handle(family)));
  for (it->Seek(OutboxKey(destination_.space, destination_.name, after + 1));
       it->Valid() && rows.size() < destination_.batch_events; it->Next()) {
    Row row;
    row.sequence = OutboxKeySequence(std::string_view(it->key().data(), it->key().size()));
    std::string_view value(it->value().data(), it->value().size());
    if (family == ColumnFamily::kDeliveryDeadLetters) {
      absl::StatusOr<DeliveryDeadLetter> letter = DecodeDeliveryDeadLetter(value);
      if (!letter.ok()) return letter.status();
      row.encoded = std::move(letter->item);
    } else {
      row.encoded = std::string(value);
    }
    absl::StatusOr<OutboxItem> item = DecodeOutboxItem(row.encoded);
    if (!item.ok()) return item.status();
    row.item = *std::move(item);
    rows.push_back(std::move(row));
  }
  if (!it->status().ok()) return profile_store::ToAbslStatus(it->status(), "reading the outbox");
  if (absl::Status read = ReadLoggedEvents(rows); !read.ok()) return read;
  return rows;
}

absl::Status Delivery::ReadLoggedEvents(std::vector<Row>& rows) {
  std::vector<uint64_t> positions;
  std::vector<Row*> reading;
  for (Row& row : rows) {
    if (row.item.kind != OutboxKind::kEvent || !row.item.event_json.empty()) continue;
    positions.push_back(row.item.log_sequence);
    reading.push_back(&row);
  }
  if (positions.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<std::optional<std::string>>> events = logged_events_->Read(positions);
  if (!events.ok()) return events.status();
  for (size_t i = 0; i < reading.size(); ++i) {
    if ((*events)[i].has_value()) {
      reading[i]->item.event_json = *std::move((*events)[i]);
    } else {
      reading[i]->event_gone = true;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Delivery::Row>> Delivery::CheckAtEdge(std::vector<Row> rows) {
  // An event that left the log before it was sent (erased, or past the retention of a destination
  // paused that long) has nothing left to send: it is skipped, and the status says how many.
  const size_t before = rows.size();
  std::erase_if(rows, [](const Row& row) { return row.event_gone; });
  if (const size_t gone = before - rows.size(); gone > 0) {
    metrics_.skipped.fetch_add(gone, std::memory_order_relaxed);
    RecordError(absl::StrCat(gone, " event(s) left the log (erasure or retention) before they were sent"));
  }
  // Without a purpose to check again there is nothing to read: an erasure deletes the person's
  // waiting rows in its own batch (OutboxWriter::Forget), and a row read just before that is sent
  // with or without a look at the profile. (Reading and decoding every row's profile here was most
  // of a delivery thread's time in `perf record -g` of three destinations taking every event.)
  if (destination_.consent.empty()) return rows;
  profile_store::ProfileReader reader(store_);
  std::map<uint64_t, bool> allowed;  // By profile id: may its events and entries be sent now.
  std::vector<Row> kept;
  kept.reserve(rows.size());
  for (Row& row : rows) {
    if (row.item.kind != OutboxKind::kAudienceExited) {
      auto [it, inserted] = allowed.try_emplace(row.item.profile_id, false);
      if (inserted) {
        absl::StatusOr<std::optional<profile_store::Profile>> profile =
            reader.Load(destination_.space, profile_store::ProfileId{row.item.profile_id});
        if (!profile.ok()) return profile.status();
        bool ok = profile->has_value();
        if (ok && !destination_.consent.empty()) {
          auto consent = (*profile)->consent.find(destination_.consent);
          ok = consent != (*profile)->consent.end() && consent->second.granted;
        }
        it->second = ok;
      }
      if (!it->second) {
        metrics_.skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    kept.push_back(std::move(row));
  }
  return kept;
}

Delivery::Outcome Delivery::Send(const std::vector<Row>& rows, bool replay, DeliveryDeadLetter& letter) {
  std::vector<OutboxItem> items;
  items.reserve(rows.size());
  for (const Row& row : rows) items.push_back(row.item);
  const std::string idempotency_key =
      absl::StrCat(destination_.name, replay ? "-r" : "-", rows.front().sequence, "-", rows.back().sequence);
  const auto first_attempt = Now();
  metrics_.oldest_pending_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(rows.front().item.time.time_since_epoch()).count();
  uint32_t failures = 0;
  OutgoingRequest call;     // The call of the exchange being made.
  bool later_call = false;  // Whether it is a call after the first (kept as it is for its retries).
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || paused_.load()) return Outcome::kStopped;
    }
    // Cluster mode: a member that lost the lease leaves the batch to the new holder.
    if (options_.gate != nullptr && !options_.gate->MaySend(destination_.space)) return Outcome::kStopped;
    // At most requests_per_second: each request waits for its turn.
    const auto now_steady = std::chrono::steady_clock::now();
    if (next_request_ > now_steady &&
        !Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(next_request_ - now_steady) +
               std::chrono::milliseconds(1))) {
      return Outcome::kStopped;
    }
    next_request_ = std::chrono::steady_clock::now() +
                    std::chrono::microseconds(1'000'000 / std::max<size_t>(destination_.requests_per_second, 1));
    const auto now = Now();
    letter.attempts = failures + 1;
    letter.first_attempt = std::chrono::time_point_cast<std::chrono::microseconds>(first_attempt);
    letter.last_attempt = std::chrono::time_point_cast<std::chrono::microseconds>(now);
    absl::StatusOr<HttpResponse> response = absl::UnknownError("not sent");
    std::string access_token;
    if (!later_call && oauth_ != nullptr) {
      absl::StatusOr<std::string> token = oauth_->Token(destination_.timeout);
      if (token.ok()) {
        access_token = *std::move(token);
      } else {
        response = token.status();  // Failed like a call that got no answer: retried.
      }
    }
    const bool can_send = later_call || oauth_ == nullptr || !access_token.empty();
    if (!later_call && can_send) {
      // The first call is made again for each attempt (a webhook's signature carries its time).
      absl::StatusOr<std::optional<OutgoingRequest>> request =
          FormatRequest(RequestContext{destination_, url_, now, idempotency_key, access_token}, items);
      if (!request.ok()) {
        letter.reason = std::string(request.status().message());
        letter.last_status = 0;
        RecordError(letter.reason);
        return Outcome::kDeadLettered;
      }
      if (!request->has_value()) {
        metrics_.oldest_pending_micros = 0;
        return Outcome::kDelivered;  // Nothing in them a provider could use.
      }
      call = **std::move(request);
    }
    if (can_send) {
      metrics_.requests.fetch_add(1, std::memory_order_relaxed);
      if (failures > 0) metrics_.retries.fetch_add(1, std::memory_order_relaxed);
      response = transport_->Send(call, destination_.timeout);
    }
    std::optional<std::chrono::milliseconds> asked;
    if (response.ok() && ((response->status >= 200 && response->status < 300) ||
                          std::find(call.also_success.begin(), call.also_success.end(), response->status) !=
                              call.also_success.end())) {
      if (!call.next) {
        metrics_.oldest_pending_micros = 0;
        return Outcome::kDelivered;
      }
      absl::StatusOr<std::optional<OutgoingRequest>> next = call.next(*response);
      if (!next.ok()) {
        // The provider said it failed in a successful answer (or answered what it documents not).
        letter.reason = std::string(next.status().message());
        letter.last_status = response->status;
        letter.last_response = Truncated(response->body);
        RecordError(letter.reason);
        return Outcome::kDeadLettered;
      }
      if (!next->has_value()) {
        metrics_.oldest_pending_micros = 0;
        return Outcome::kDelivered;
      }
      call = **std::move(next);
      later_call = true;
      failures = 0;
      continue;
    }
    metrics_.failures.fetch_add(1, std::memory_order_relaxed);
    ++failures;
    if (response.ok()) {
      letter.last_status = response->status;
      letter.last_response = Truncated(response->body);
      letter.reason = absl::StrCat("HTTP ", response->status, letter.last_response.empty() ? "" : ": ",
                                   letter.last_response);
      RecordError(letter.reason);
      if (response->status == 401 && oauth_ != nullptr) {
        // The token expired early or was revoked: a new one, and the exchange from its start.
        oauth_->Invalidate();
        later_call = false;
      } else if (!Retryable(response->status)) {
        return Outcome::kDeadLettered;
      }
      asked = ParseRetryAfter(response->retry_after, now);
    } else {
      letter.last_status = 0;
      letter.last_response.clear();
      letter.reason = std::string(response.status().message());
      RecordError(letter.reason);
    }
    if (replay) return Outcome::kDeadLettered;
    std::chrono::milliseconds delay = Backoff(failures);
    if (asked) delay = std::min<std::chrono::milliseconds>(std::max(delay, *asked), kLongestRetryAfter);
    const auto give_up_at = first_attempt + destination_.dead_letter_after;
    if (Now() + delay >= give_up_at) {
      // Waiting would pass the deadline: wait only until it, for one last attempt there.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at - Now());
      if (left.count() <= 0) {
        letter.reason = absl::StrCat("retried for ", destination_.dead_letter_after.count(), " s: ", letter.reason);
        return Outcome::kDeadLettered;
      }
      delay = left;
    }
    if (!Sleep(delay)) return Outcome::kStopped;
  }
}

absl::Status Delivery::Advance(uint64_t last, const std::vector<Row>& read, const std::vector<Row>& failed,
                               const DeliveryDeadLetter* letter) {
  rocksdb::WriteBatch batch;
  for (const Row& row : read) {
    batch.Delete(store_.handle(ColumnFamily::kOutbox), OutboxKey(destination_.space, destination_.name, row.sequence));
  }
  if (letter != nullptr) {
    std::string encoded;
    for (const Row& row : failed) {
      DeliveryDeadLetter copy = *letter;
      // With the event as read from the log: a letter outlives the log's retention.
      EncodeOutboxItem(row.item, copy.item);
      encoded.clear();
      EncodeDeliveryDeadLetter(copy, encoded);
      batch.Put(store_.handle(ColumnFamily::kDeliveryDeadLetters),
                OutboxKey(destination_.space, destination_.name, row.sequence), encoded);
    }
  }
  std::string cursor;
  profile_store::AppendBigEndian64(cursor, last);
  batch.Put(store_.handle(ColumnFamily::kMeta), DeliveredCursorKey(destination_.space, destination_.name), cursor);
  if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) return written;
  // The counters before the cursor: whoever sees the cursor move sees what moved it.
  if (letter != nullptr) {
    metrics_.dead_lettered.fetch_add(failed.size());
    metrics_.dead_letters.fetch_add(failed.size());
  } else {
    metrics_.delivered.fetch_add(failed.size());
  }
  cursor_ = last;
  metrics_.cursor = last;
  return absl::OkStatus();
}

absl::Status Delivery::FinishReplay(const std::vector<Row>& letters, bool delivered, const DeliveryDeadLetter& attempt) {
  rocksdb::WriteBatch batch;
  std::string encoded;
  for (const Row& row : letters) {
    const std::string key = OutboxKey(destination_.space, destination_.name, row.sequence);
    if (delivered) {
      batch.Delete(store_.handle(ColumnFamily::kDeliveryDeadLetters), key);
      continue;
    }
    absl::StatusOr<std::string> stored = store_.Get(ColumnFamily::kDeliveryDeadLetters, key);
    if (!stored.ok()) return stored.status();
    absl::StatusOr<DeliveryDeadLetter> letter = DecodeDeliveryDeadLetter(*stored);
    if (!letter.ok()) return letter.status();
    letter->attempts += attempt.attempts;
    letter->last_attempt = attempt.last_attempt;
    letter->last_status = attempt.last_status;
    letter->last_response = attempt.last_response;
    letter->reason = attempt.reason;
    encoded.clear();
    EncodeDeliveryDeadLetter(*letter, encoded);
    batch.Put(store_.handle(ColumnFamily::kDeliveryDeadLetters), key, encoded);
  }
  if (absl::Status written = store_.WriteUnsynced(batch); !written.ok()) return written;
  if (delivered) {
    metrics_.replayed.fetch_add(letters.size(), std::memory_order_relaxed);
    metrics_.dead_letters.fetch_sub(std::min<uint64_t>(letters.size(), metrics_.dead_letters.load()));
  }
  return absl::OkStatus();
}

void Delivery::Run() {
  uint64_t replay_after = 0;  // The replay's position among the dead letters.
  for (;;) {
    bool replay = false;
    uint64_t announced = 0;
    if (options_.gate != nullptr && !FollowCluster()) {
      // A standby (or a holder still catching up): look again in a second.
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      if (stopping_) return;
      continue;
    }
    {
      std::unique_lock lock(mutex_);
      const auto ready = [this] { return stopping_ || (!paused_.load() && (replay_ || written_ > cursor_)); };
      if (options_.gate == nullptr) {
        wake_.wait(lock, ready);
      } else if (!wake_.wait_for(lock, std::chrono::seconds(1), ready)) {
        continue;  // The lease or the shared switch may have changed meanwhile.
      }
      if (stopping_) return;
      replay = replay_;
      announced = written_;
    }
    const ColumnFamily family = replay ? ColumnFamily::kDeliveryDeadLetters : ColumnFamily::kOutbox;
    absl::StatusOr<std::vector<Row>> rows = ReadRows(family, replay ? replay_after : cursor_);
    absl::StatusOr<std::vector<Row>> kept = rows.ok() ? CheckAtEdge(*rows) : rows.status();
    if (!kept.ok()) {
      RecordError(std::string(kept.status().message()));
      if (!Sleep(std::chrono::seconds(1))) continue;
      continue;
    }
    if (rows->empty()) {
      std::lock_guard lock(mutex_);
      if (replay) {
        replay_ = false;
        replay_after = 0;
      } else if (written_ == announced) {
        // Announced rows that are not there (a crash took an unsynced tail, which the resolver
        // writes again and announces anew): wait for that.
        written_ = cursor_;
      }
      continue;
    }
    // One request may take only the front of the batch (an API with separate calls to add and to
    // remove): the rest waits for the next round, in order.
    if (!CarriesWholeBatches(destination_)) {
      std::vector<OutboxItem> front;
      for (const Row& row : *kept) front.push_back(row.item);
      if (const size_t prefix = RequestPrefix(destination_, front); prefix < kept->size()) {
        const uint64_t last_taken = (*kept)[prefix - 1].sequence;
        kept->resize(prefix);
        std::erase_if(*rows, [&](const Row& row) { return row.sequence > last_taken; });
      }
    }
    DeliveryDeadLetter letter;
    Outcome outcome = kept->empty() ? Outcome::kDelivered : Send(*kept, replay, letter);
    if (outcome == Outcome::kStopped) continue;
    absl::Status recorded;
    if (replay) {
      // Skipped letters (erased, consent withdrawn) leave too.
      std::vector<Row> leaving;
      if (outcome == Outcome::kDelivered) {
        replay_after = rows->back().sequence;
        leaving = *std::move(rows);
      } else {
        for (Row& row : *rows) {
          bool sent = false;
          for (const Row& tried : *kept) sent = sent || tried.sequence == row.sequence;
          if (!sent) leaving.push_back(row);
        }
        recorded = FinishReplay(*kept, false, letter);
        std::lock_guard lock(mutex_);
        replay_ = false;  // Stop at the first failure; the letters keep their place.
        replay_after = 0;
      }
      if (recorded.ok()) recorded = FinishReplay(leaving, true, letter);
    } else if (outcome == Outcome::kDelivered) {
      recorded = Advance(rows->back().sequence, *rows, *kept, nullptr);
    } else {
      recorded = Advance(rows->back().sequence, *rows, *kept, &letter);
    }
    if (!replay && recorded.ok() && options_.gate != nullptr) ShareProgress(rows->back());
    if (!recorded.ok()) {
      RecordError(std::string(recorded.message()));
      Sleep(std::chrono::seconds(1));
    }
  }
}

}  // namespace tessera::activation
