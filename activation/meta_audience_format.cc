// Meta Custom Audiences (Marketing API, "Custom Audience Users"): members are added with
//   POST https://graph.facebook.com/{version}/{audience_id}/users
// and removed with DELETE on the same path, the fields `payload` and `access_token` form-encoded,
// `payload` being {"schema": ["EMAIL", "PHONE"], "data": [[<sha256 email>, <sha256 phone>], ...]}:
// multi-key rows aligned with the schema, each value normalized and hashed as "Hashing and
// Normalizing Data" says (activation/match_keys.h), an empty string where a row has no value. A
// person with several emails or phones takes several rows. Up to 10,000 rows per request.

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "activation/match_keys.h"
#include "activation/request_format.h"
#include "base/json_writer.h"
#include "identity/identifier.h"
#include "simdjson.h"

namespace tessera::activation {

absl::StatusOr<MetaAudienceOptions> ReadMetaAudienceOptions(const DestinationSpec& destination) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(destination.options_json).get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("options: not JSON");
  }
  MetaAudienceOptions options;
  std::string_view audience_id;
  if (root["audience_id"].get(audience_id) != simdjson::SUCCESS || audience_id.empty() ||
      !std::all_of(audience_id.begin(), audience_id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(
        "options.audience_id: the Custom Audience's id (digits, as a string) is required");
  }
  options.audience_id = std::string(audience_id);
  if (destination.secret.empty()) {
    return absl::InvalidArgumentError("secret: the Marketing API access token is required");
  }
  if (absl::Status events = internal::RefuseEvents(destination, "a Custom Audience"); !events.ok()) return events;
  return options;
}

std::optional<OutgoingRequest> FormatMetaCustomAudience(const RequestContext& context,
                                                        const MetaAudienceOptions& options,
                                                        const std::vector<OutboxItem>& items) {
  size_t data_rows = 0;
  std::string payload;
  base::JsonWriter json(payload);
  json.BeginObject();
  json.Key("schema").BeginArray().String("EMAIL").String("PHONE").EndArray();
  json.Key("data").BeginArray();
  for (const OutboxItem& item : items) {
    std::vector<std::string> emails;
    std::vector<std::string> phones;
    for (const auto& [type, value] : item.identifiers) {
      if (type == identity::identifier_type::kEmail) {
        if (auto normalized = NormalizedEmailForMatching(value)) emails.push_back(Sha256Hex(*normalized));
      } else if (type == identity::identifier_type::kPhone) {
        if (auto normalized = MetaPhoneForMatching(value)) phones.push_back(Sha256Hex(*normalized));
      }
    }
    const size_t rows = std::max(emails.size(), phones.size());
    data_rows += rows;
    for (size_t i = 0; i < rows; ++i) {
      json.BeginArray();
      json.String(i < emails.size() ? emails[i] : std::string());
      json.String(i < phones.size() ? phones[i] : std::string());
      json.EndArray();
    }
  }
  json.EndArray();
  json.EndObject();
  if (data_rows == 0) return std::nullopt;

  OutgoingRequest request;
  request.method = items.front().kind == OutboxKind::kAudienceExited ? "DELETE" : "POST";
  request.target = context.url.target;
  if (request.target.empty() || request.target.back() != '/') request.target.push_back('/');
  absl::StrAppend(&request.target, options.audience_id, "/users");
  request.content_type = "application/x-www-form-urlencoded";
  request.body = "payload=";
  internal::AppendFormEncoded(request.body, payload);
  request.body += "&access_token=";
  internal::AppendFormEncoded(request.body, context.destination.secret);
  request.headers.emplace_back("Idempotency-Key", context.idempotency_key);
  return request;
}

}  // namespace tessera::activation
