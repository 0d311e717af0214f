#include "api/destination_handler.h"

#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "activation/outbox.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "profile_store/profile.h"
#include "rocksdb/db.h"

namespace tessera::api {
namespace {

using activation::Delivery;
using base::JsonWriter;

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

std::string Iso(std::chrono::system_clock::time_point time) {
  return base::FormatIso8601(std::chrono::time_point_cast<std::chrono::microseconds>(time));
}

void WriteStatus(JsonWriter& json, Delivery& delivery) {
  const activation::DestinationSpec& destination = delivery.destination();
  activation::DeliveryMetrics& metrics = delivery.metrics();
  const uint64_t requests = metrics.requests.load();
  const uint64_t failures = metrics.failures.load();
  json.BeginObject();
  json.Key("name").String(destination.name);
  json.Key("space").String(destination.space);
  json.Key("type").String(activation::DestinationTypeName(destination.type));
  json.Key("url").String(destination.url);
  json.Key("paused").Bool(delivery.paused());
  json.Key("delivered").Uint(metrics.delivered.load());
  json.Key("requests").Uint(requests);
  json.Key("failures").Uint(failures);
  json.Key("retries").Uint(metrics.retries.load());
  json.Key("deadLettered").Uint(metrics.dead_lettered.load());
  json.Key("replayed").Uint(metrics.replayed.load());
  json.Key("skipped").Uint(metrics.skipped.load());
  json.Key("lag").Uint(metrics.lag());
  json.Key("deadLetters").Uint(metrics.dead_letters.load());
  json.Key("written").Uint(metrics.written.load());
  json.Key("cursor").Uint(metrics.cursor.load());
  if (const int64_t oldest = metrics.oldest_pending_micros.load(); oldest != 0) {
    json.Key("oldestPending").String(base::FormatIso8601(base::Timestamp(std::chrono::microseconds(oldest))));
  }
  json.Key("errorRate").Double(requests == 0 ? 0.0 : static_cast<double>(failures) / static_cast<double>(requests));
  json.Key("lastErrors").BeginArray();
  for (const Delivery::ErrorRecord& error : delivery.RecentErrors()) {
    json.BeginObject().Key("time").String(Iso(error.time)).Key("message").String(error.message).EndObject();
  }
  json.EndArray();
  json.EndObject();
}

void WriteItem(JsonWriter& json, const activation::OutboxItem& item) {
  json.BeginObject();
  json.Key("kind").String(item.kind == activation::OutboxKind::kEvent             ? "event"
                          : item.kind == activation::OutboxKind::kAudienceEntered ? "audience_entered"
                                                                                  : "audience_exited");
  json.Key("messageId").String(item.message_id);
  json.Key("profileId").String(profile_store::FormatProfileId(profile_store::ProfileId{item.profile_id}));
  json.Key("time").String(base::FormatIso8601(item.time));
  if (item.log_sequence != 0) json.Key("logSequence").Uint(item.log_sequence);
  if (!item.audience.empty()) json.Key("audience").String(item.audience);
  if (!item.reason.empty()) json.Key("reason").String(item.reason);
  if (!item.event_json.empty()) json.Key("event").Raw(item.event_json);
  json.EndObject();
}

std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

DestinationHandler::DestinationHandler(const KeyRegistry& keys, const profile_store::Store& store,
                                       activation::Activation* activation)
    : keys_(keys), store_(store), activation_(activation) {}

HttpReply DestinationHandler::Handle(const DestinationRequest& request) const {
  const bool action = request.method == Method::kPost;
  std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || token->empty()) {
    return ErrorReply(401, "unauthorized",
                      action ? "send an admin key as Authorization: Bearer KEY"
                             : "send a read or admin key as Authorization: Bearer KEY");
  }
  const KeyScope scope = keys_.Identify(*token).scope;
  if (scope == KeyScope::kUnknown) return ErrorReply(401, "unauthorized", "unknown key");
  if (scope != KeyScope::kAdmin && (action || scope != KeyScope::kRead)) {
    return ErrorReply(403, "forbidden",
                      action ? "only an admin key can act on destinations"
                             : "a write key cannot read destinations; use a read or admin key");
  }
  const std::string_view path = request.path;
  if (path.empty()) {
    if (action) return ErrorReply(405, "method_not_allowed", "use GET on /v1/destinations");
    std::string body;
    JsonWriter json(body);
    json.BeginObject().Key("destinations").BeginArray();
    if (activation_ != nullptr) {
      for (const auto& delivery : activation_->deliveries()) WriteStatus(json, *delivery);
    }
    json.EndArray().EndObject();
    return JsonReply(std::move(body));
  }
  const size_t slash = path.find('/');
  const std::string_view name = path.substr(0, slash);
  const std::string_view sub = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  Delivery* delivery = activation_ == nullptr ? nullptr : activation_->Find(name);
  if (delivery == nullptr) {
    return ErrorReply(404, "unknown_destination", absl::StrCat("no destination \"", std::string(name), "\""));
  }
  if (sub.empty() || sub == "dead-letters") {
    if (action) return ErrorReply(405, "method_not_allowed", "use GET here; actions are pause, resume and replay");
    if (!sub.empty()) return DeadLetters(request, *delivery);
    std::string body;
    JsonWriter json(body);
    WriteStatus(json, *delivery);
    return JsonReply(std::move(body));
  }
  if (sub != "pause" && sub != "resume" && sub != "replay") {
    return ErrorReply(404, "not_found", "expected /v1/destinations/{name}[/dead-letters|/pause|/resume|/replay]");
  }
  if (!action) return ErrorReply(405, "method_not_allowed", absl::StrCat("use POST to ", std::string(sub)));
  std::string body;
  JsonWriter json(body);
  if (sub == "replay") {
    absl::StatusOr<uint64_t> waiting = delivery->ReplayDeadLetters();
    if (!waiting.ok()) return ErrorReply(500, "internal", std::string(waiting.status().message()));
    json.BeginObject().Key("deadLetters").Uint(*waiting).EndObject();
  } else {
    if (absl::Status status = delivery->SetPaused(sub == "pause"); !status.ok()) {
      return ErrorReply(500, "internal", std::string(status.message()));
    }
    json.BeginObject().Key("paused").Bool(delivery->paused()).EndObject();
  }
  HttpReply reply = JsonReply(std::move(body));
  reply.audit_target = absl::StrCat("destination ", std::string(name), " ", std::string(sub));
  return reply;
}

HttpReply DestinationHandler::DeadLetters(const DestinationRequest& request, const Delivery& delivery) const {
  size_t limit = kDefaultLimit;
  uint64_t after = 0;
  if (std::optional<std::string_view> text = FindQueryParam(request.query, "limit")) {
    std::optional<uint64_t> value = ParseNumber(*text);
    if (!value || *value < 1 || *value > kMaxLimit) {
      return ErrorReply(400, "invalid_value", "limit must be a whole number from 1 to 1000", "limit");
    }
    limit = *value;
  }
  if (std::optional<std::string_view> text = FindQueryParam(request.query, "after")) {
    std::optional<uint64_t> value = ParseNumber(*text);
    if (!value) return ErrorReply(400, "invalid_value", "after must be a sequence number", "after");
    after = *value;
  }
  const activation::DestinationSpec& destination = delivery.destination();
  const std::string prefix = activation::OutboxPrefix(destination.space, destination.name);
  std::string upper = prefix;
  upper.back() = '\1';
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper_slice;
  std::string body;
  JsonWriter json(body);
  json.BeginObject().Key("deadLetters").BeginArray();
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db()->NewIterator(read, store_.handle(profile_store::ColumnFamily::kDeliveryDeadLetters)));
  size_t listed = 0;
  uint64_t last = 0;
  bool more = false;
  for (it->Seek(activation::OutboxKey(destination.space, destination.name, after + 1)); it->Valid(); it->Next()) {
    if (listed == limit) {
      more = true;
      break;
    }
    const uint64_t sequence = activation::OutboxKeySequence(std::string_view(it->key().data(), it->key().size()));
    absl::StatusOr<activation::DeliveryDeadLetter> letter =
        activation::DecodeDeliveryDeadLetter(std::string_view(it->value().data(), it->value().size()));
    if (!letter.ok()) return ErrorReply(500, "internal", std::string(letter.status().message()));
    absl::StatusOr<activation::OutboxItem> item = activation::DecodeOutboxItem(letter->item);
    if (!item.ok()) return ErrorReply(500, "internal", std::string(item.status().message()));
    json.BeginObject();
    json.Key("sequence").Uint(sequence);
    json.Key("reason").String(letter->reason);
    json.Key("lastStatus").Int(letter->last_status);
    json.Key("lastResponse").String(letter->last_response);
    json.Key("attempts").Uint(letter->attempts);
    json.Key("firstAttempt").String(base::FormatIso8601(letter->first_attempt));
    json.Key("lastAttempt").String(base::FormatIso8601(letter->last_attempt));
    json.Key("item");
    WriteItem(json, *item);
    json.EndObject();
    ++listed;
    last = sequence;
  }
  if (!it->status().ok()) return ErrorReply(500, "internal", it->status().ToString());
  json.EndArray();
  if (more) json.Key("next").Uint(last);
  json.EndObject();
  return JsonReply(std::move(body));
}

}  // namespace tessera::api
