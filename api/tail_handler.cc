#include "api/tail_handler.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/router.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace tessera::api {
namespace {

using base::JsonWriter;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

absl::StatusOr<TailAccess> AuthorizeTail(const KeyRegistry& keys, std::string_view authorization,
                                         std::string_view websocket_protocols, std::string_view query,
                                         const std::function<bool(std::string_view)>& served) {
  TailAccess access;
  // The header is a comma list of tokens; a key has no commas or spaces, so splitting is enough.
  std::string_view rest = websocket_protocols;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view token = Trim(rest.substr(0, comma));
    if (token == kTailProtocol) access.protocol_offered = true;
    if (token.starts_with(kTailKeyProtocolPrefix))
      access.key = std::string(token.substr(kTailKeyProtocolPrefix.size()));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  // A header set by a non-browser client decides over a subprotocol.
  if (std::optional<std::string_view> bearer = BearerToken(authorization); bearer && !bearer->empty()) {
    access.key = std::string(*bearer);
  }
  if (access.key.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "send a read or admin key as the WebSocket subprotocol \"", std::string(kTailKeyProtocolPrefix),
        "KEY\" (with \"", std::string(kTailProtocol), "\") or as Authorization: Bearer KEY"));
  }
  const KeyIdentity identity = keys.Identify(access.key);
  if (identity.scope == KeyScope::kUnknown) return absl::UnauthenticatedError("unknown key");
  if (identity.scope == KeyScope::kWrite) {
    return absl::PermissionDeniedError("a write key cannot read events: use a read or admin key");
  }
  const std::optional<std::string> space = UrlDecode(QueryParam(query, "space"));
  if (!space) return absl::InvalidArgumentError("space: not validly percent-encoded");
  if (!space->empty()) access.space = *space;
  if (!served(access.space))
    return absl::NotFoundError(absl::StrCat("no space \"", access.space, "\" is served here"));
  return access;
}

bool TailQueue::Push(const std::vector<ingest::EventSummary>& events, std::string_view space) {
  std::lock_guard lock(mutex_);
  const bool was_empty = events_.empty();
  for (const ingest::EventSummary& event : events) {
    if (event.space != space) continue;
    if (events_.size() == capacity_) {
      events_.pop_front();
      ++dropped_;
    }
    events_.push_back(event);
  }
  return was_empty && !events_.empty();
}

TailQueue::Batch TailQueue::Take() {
  std::lock_guard lock(mutex_);
  Batch batch;
  batch.events.assign(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  batch.dropped = std::exchange(dropped_, 0);
  return batch;
}

std::string TailHelloMessage(std::string_view space, size_t queue_capacity, int64_t rate_interval_ms) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject().Key("type").String("hello").Key("space").String(space);
  json.Key("queue").Uint(queue_capacity).Key("rateIntervalMs").Int(rate_interval_ms).EndObject();
  return out;
}

std::string TailEventsMessage(const TailQueue::Batch& batch) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject().Key("type").String("events").Key("events").BeginArray();
  for (const ingest::EventSummary& event : batch.events) {
    json.BeginObject();
    json.Key("time").String(base::FormatIso8601(event.time));
    json.Key("receivedAt").String(base::FormatIso8601(event.received_at));
    json.Key("type").String(event.type);
    json.Key("event").String(event.event);
    json.Key("channel").String(event.channel);
    json.Key("source").String(event.source);
    json.Key("messageId").String(event.message_id);
    json.Key("userId").String(event.user_id);
    json.Key("anonymousId").String(event.anonymous_id);
    json.EndObject();
  }
  json.EndArray().Key("dropped").Uint(batch.dropped).EndObject();
  return out;
}

std::string TailRateMessage(double events_per_second, uint64_t accepted_total, size_t subscribers,
                            ingest::Timestamp at) {
  std::string out;
  JsonWriter json(out);
  // One decimal is all a chart needs.
  const double rounded = std::round(events_per_second * 10.0) / 10.0;
  json.BeginObject().Key("type").String("rate").Key("eventsPerSecond").Double(rounded);
  json.Key("accepted").Uint(accepted_total).Key("subscribers").Uint(subscribers);
  json.Key("at").String(base::FormatIso8601(at)).EndObject();
  return out;
}

}  // namespace tessera::api
