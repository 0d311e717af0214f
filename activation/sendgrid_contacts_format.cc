// SendGrid Marketing Contacts (Marketing Campaigns API v3, "Contacts" and "Lists"), every call with
// `Authorization: Bearer <API key>`:
// - Entries: PUT {root}/v3/marketing/contacts
//     {"list_ids": ["<list_id>"], "contacts": [{"email": ..., "first_name": ..., "last_name": ...,
//      "external_id": <user id>}]}
//   adds (or updates) the contacts and puts them on the list; SendGrid answers 202 with a job id.
// - Exits: SendGrid removes contacts by id, so two calls:
//     POST {root}/v3/marketing/contacts/search/emails {"emails": [...]}
//   answers {"result": {"<email>": {"contact": {"id": ...}}, "<email>": {"error": ...}}}, or 404
//   when none is known (then there is nothing to remove); then
//     DELETE {root}/v3/marketing/lists/{list_id}/contacts?contact_ids=<id>,<id>
//   takes them off the list. After an erasure (reason "erased") the contacts themselves are
//   deleted instead: DELETE {root}/v3/marketing/contacts?ids=<id>,<id>.
// Members are matched by email (SendGrid's primary key); a member without one is not sent.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "activation/internal/formats.h"
#include "base/json_writer.h"
#include "identity/identifier.h"
#include "simdjson.h"

namespace tessera::activation::internal {
namespace {

constexpr std::string_view kErased = "erased";

absl::StatusOr<std::string> ReadListId(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::string> list = options->String("list_id", "the Marketing Contacts list's id");
  if (!list.ok()) return list.status();
  for (char c : *list) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return absl::InvalidArgumentError("options.list_id: the list's id (letters, digits and '-')");
    }
  }
  if (destination.secret.empty()) return absl::InvalidArgumentError("secret: the SendGrid API key is required");
  if (absl::Status events = RefuseEvents(destination, "a SendGrid list"); !events.ok()) return events;
  return *list;
}

OutgoingRequest SendgridCall(const RequestContext& context, std::string method, std::string path, std::string body) {
  OutgoingRequest request;
  request.method = std::move(method);
  request.target = JoinTarget(context.url.target, path);
  request.body = std::move(body);
  if (request.body.empty()) request.content_type.clear();
  request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", context.destination.secret));
  request.headers.emplace_back("Idempotency-Key", context.idempotency_key);
  return request;
}

// The first of the traits' names that holds a string.
std::optional<std::string> Trait(std::string_view traits_json, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (auto value = TextAtPath(traits_json, name)) return value;
  }
  return std::nullopt;
}

// The ids of the contacts the search found, comma-separated (in the order of `emails`).
absl::StatusOr<std::string> FoundIds(std::string_view answer, const std::vector<std::string>& emails) {
  simdjson::dom::parser parser;
  simdjson::dom::object result;
  if (parser.parse(answer.data(), answer.size())["result"].get(result) != simdjson::SUCCESS) {
    return absl::DataLossError("contacts/search/emails answered without a result object");
  }
  std::string ids;
  for (const std::string& email : emails) {
    std::string_view id;
    if (result[email]["contact"]["id"].get(id) != simdjson::SUCCESS) continue;
    if (!ids.empty()) ids.push_back(',');
    AppendPercentEncoded(ids, id);
  }
  return ids;
}

}  // namespace

absl::Status ValidateSendgridContacts(const DestinationSpec& destination) { return ReadListId(destination).status(); }

FormatResult FormatSendgridContacts(const RequestContext& context, const std::vector<OutboxItem>& items) {
  absl::StatusOr<std::string> list_id = ReadListId(context.destination);
  if (!list_id.ok()) return list_id.status();
  std::vector<std::string> emails;
  std::string body;
  base::JsonWriter json(body);
  json.BeginObject();
  if (items.front().kind == OutboxKind::kAudienceEntered) {
    json.Key("list_ids").BeginArray().String(*list_id).EndArray();
    json.Key("contacts").BeginArray();
    for (const OutboxItem& item : items) {
      const std::optional<std::string> first = Trait(item.traits_json, {"first_name", "firstName"});
      const std::optional<std::string> last = Trait(item.traits_json, {"last_name", "lastName"});
      for (const std::string& email : IdentifiersOf(item, identity::identifier_type::kEmail)) {
        emails.push_back(email);
        json.BeginObject();
        json.Key("email").String(email);
        if (first) json.Key("first_name").String(*first);
        if (last) json.Key("last_name").String(*last);
        if (!item.user_id.empty()) json.Key("external_id").String(item.user_id);
        json.EndObject();
      }
    }
    json.EndArray();
    json.EndObject();
    if (emails.empty()) return std::optional<OutgoingRequest>();
    return std::optional<OutgoingRequest>(SendgridCall(context, "PUT", "/v3/marketing/contacts", std::move(body)));
  }

  for (const OutboxItem& item : items) {
    for (const std::string& email : IdentifiersOf(item, identity::identifier_type::kEmail)) emails.push_back(email);
  }
  json.Key("emails").BeginArray();
  for (const std::string& email : emails) json.String(email);
  json.EndArray();
  json.EndObject();
  if (emails.empty()) return std::optional<OutgoingRequest>();
  const bool erased = items.front().reason == kErased;
  OutgoingRequest search = SendgridCall(context, "POST", "/v3/marketing/contacts/search/emails", std::move(body));
  search.also_success = {404};  // None of them is a contact: nothing to remove.
  search.next = [destination = context.destination, url = context.url, now = context.now,
                 key = context.idempotency_key, list = *list_id, emails, erased](const HttpResponse& answer) -> FormatResult {
    if (answer.status == 404) return std::optional<OutgoingRequest>();
    absl::StatusOr<std::string> ids = FoundIds(answer.body, emails);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return std::optional<OutgoingRequest>();
    const RequestContext again{destination, url, now, key};
    OutgoingRequest remove = erased ? SendgridCall(again, "DELETE", absl::StrCat("/v3/marketing/contacts?ids=", *ids), "")
                                    : SendgridCall(again, "DELETE",
                                                   absl::StrCat("/v3/marketing/lists/", list, "/contacts?contact_ids=", *ids), "");
    remove.also_success = {404};  // Already gone.
    return std::optional<OutgoingRequest>(std::move(remove));
  };
  return std::optional<OutgoingRequest>(std::move(search));
}

}  // namespace tessera::activation::internal
