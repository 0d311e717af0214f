// Mailgun mailing lists (Mailgun API v3, "Mailing Lists"), every call with HTTP Basic
// authentication, user `api` and the API key as password:
// - Entries: POST {root}/v3/lists/{list}/members.json, form-encoded
//     members=[{"address": ..., "name": ..., "vars": {"tessera_profile": ..., "user_id": ...},
//               "subscribed": true}, ...]&upsert=yes
//   adds up to 1,000 members at once (the batch size is capped there), updating those present.
// - Exits: DELETE {root}/v3/lists/{list}/members/{address}, one call per address, in turn (the
//   API has no bulk removal); 404, a member the list never had, counts as removed.
// Members are matched by email; a member without one is not sent. `root` is
// https://api.mailgun.net, or https://api.eu.mailgun.net for a domain in the EU region.

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "activation/internal/formats.h"
#include "base/json_writer.h"
#include "identity/identifier.h"
#include "profile_store/profile.h"

namespace tessera::activation::internal {
namespace {

constexpr size_t kMostMembersPerCall = 1000;

absl::StatusOr<std::string> ReadListAddress(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::string> list = options->String("list", "the mailing list's address");
  if (!list.ok()) return list.status();
  const size_t at = list->find('@');
  if (at == 0 || at == std::string::npos || at + 1 == list->size() || list->find_first_of("/ ?#") != std::string::npos) {
    return absl::InvalidArgumentError("options.list: the mailing list's address (name@domain)");
  }
  if (destination.secret.empty()) return absl::InvalidArgumentError("secret: the Mailgun API key is required");
  if (destination.batch_events > kMostMembersPerCall) {
    return absl::InvalidArgumentError("batch_events: Mailgun adds at most 1000 members per call");
  }
  if (absl::Status events = RefuseEvents(destination, "a Mailgun list"); !events.ok()) return events;
  return *list;
}

OutgoingRequest MailgunCall(const RequestContext& context, std::string method, std::string path) {
  OutgoingRequest request;
  request.method = std::move(method);
  request.target = JoinTarget(context.url.target, path);
  request.headers.emplace_back("Authorization",
                               absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat("api:", context.destination.secret))));
  request.headers.emplace_back("Idempotency-Key", context.idempotency_key);
  return request;
}

// The removal of addresses[index], then of the ones after it.
OutgoingRequest RemovalFrom(const RequestContext& context, const std::string& list,
                            std::shared_ptr<const std::vector<std::string>> addresses, size_t index) {
  std::string path = "/v3/lists/";
  AppendPercentEncoded(path, list);
  path += "/members/";
  AppendPercentEncoded(path, (*addresses)[index]);
  OutgoingRequest request = MailgunCall(context, "DELETE", std::move(path));
  request.content_type.clear();
  request.also_success = {404};
  if (index + 1 < addresses->size()) {
    request.next = [destination = context.destination, url = context.url, now = context.now,
                    key = context.idempotency_key, list, addresses, index](const HttpResponse&) -> FormatResult {
      return std::optional<OutgoingRequest>(
          RemovalFrom(RequestContext{destination, url, now, key}, list, addresses, index + 1));
    };
  }
  return request;
}

}  // namespace

absl::Status ValidateMailgunList(const DestinationSpec& destination) { return ReadListAddress(destination).status(); }

FormatResult FormatMailgunList(const RequestContext& context, const std::vector<OutboxItem>& items) {
  absl::StatusOr<std::string> list = ReadListAddress(context.destination);
  if (!list.ok()) return list.status();
  if (items.front().kind == OutboxKind::kAudienceExited) {
    auto addresses = std::make_shared<std::vector<std::string>>();
    for (const OutboxItem& item : items) {
      for (std::string& email : IdentifiersOf(item, identity::identifier_type::kEmail)) addresses->push_back(std::move(email));
    }
    if (addresses->empty()) return std::optional<OutgoingRequest>();
    return std::optional<OutgoingRequest>(RemovalFrom(context, *list, std::move(addresses), 0));
  }

  std::string members;
  base::JsonWriter json(members);
  json.BeginArray();
  size_t count = 0;
  for (const OutboxItem& item : items) {
    const std::optional<std::string> name = TextAtPath(item.traits_json, "name");
    for (const std::string& email : IdentifiersOf(item, identity::identifier_type::kEmail)) {
      ++count;
      json.BeginObject();
      json.Key("address").String(email);
      if (name) json.Key("name").String(*name);
      json.Key("vars").BeginObject();
      json.Key("tessera_profile").String(profile_store::FormatProfileId(profile_store::ProfileId{item.profile_id}));
      if (!item.user_id.empty()) json.Key("user_id").String(item.user_id);
      json.EndObject();
      json.Key("subscribed").Bool(true);
      json.EndObject();
    }
  }
  json.EndArray();
  if (count == 0) return std::optional<OutgoingRequest>();
  std::string path = "/v3/lists/";
  AppendPercentEncoded(path, *list);
  path += "/members.json";
  OutgoingRequest request = MailgunCall(context, "POST", std::move(path));
  request.content_type = "application/x-www-form-urlencoded";
  request.body = "members=";
  AppendFormEncoded(request.body, members);
  request.body += "&upsert=yes";
  return std::optional<OutgoingRequest>(std::move(request));
}

}  // namespace tessera::activation::internal
