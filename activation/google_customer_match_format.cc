// Google Ads Customer Match (Google Ads API, REST; "Get started with Customer Match" and
// OfflineUserDataJobService): a batch of membership changes is one offline user data job of three
// calls, each with `Authorization: Bearer <access token>`, `developer-token` and, for a manager
// account, `login-customer-id`:
//   1. POST {root}/customers/{customer_id}/offlineUserDataJobs:create
//      {"job": {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata":
//        {"userList": "customers/{customer_id}/userLists/{user_list_id}", "consent": {...}}}}
//      answers {"resourceName": "customers/{customer_id}/offlineUserDataJobs/{job_id}"};
//   2. POST {root}/{resourceName}:addOperations
//      {"enablePartialFailure": true, "operations": [{"create"|"remove": {"userIdentifiers":
//        [{"hashedEmail": ...}, {"hashedPhoneNumber": ...}]}}, ...]}
//      one UserData per member with its emails and phones (at most 20 identifiers), normalized and
//      SHA-256 hashed as activation/match_keys.h says (email trimmed and lower-cased, phone E.164
//      with '+');
//   3. POST {root}/{resourceName}:run {} — Google then processes the job on its own time.
// A job adds or removes, never both: a batch is a run of entries or of exits (RequestPrefix).
// The consent block is sent as GRANTED only when the destination requires a consent purpose,
// which every member sent has granted; without one it is left out (UNSPECIFIED).
// The bearer token is `secret`, or with options.oauth {client_id, client_secret, refresh_token,
// token_url} one that delivery keeps fresh (activation/oauth_token.h).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activation/internal/format_support.h"
#include "activation/internal/formats.h"
#include "activation/match_keys.h"
#include "base/json_writer.h"
#include "identity/identifier.h"
#include "simdjson.h"

namespace tessera::activation::internal {
namespace {

constexpr size_t kMostIdentifiersPerMember = 20;
constexpr std::string_view kGoogleTokenUrl = "https://oauth2.googleapis.com/token";

struct GoogleOptions {
  std::string customer_id;
  std::string user_list_id;
  std::string developer_token;
  std::string login_customer_id;
  std::optional<OAuthClient> oauth;
};

// Google shows customer ids as 123-456-7890; the API takes the digits.
std::string WithoutDashes(std::string text) {
  std::erase(text, '-');
  return text;
}

absl::StatusOr<GoogleOptions> ReadGoogleOptions(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return options.status();
  GoogleOptions read;
  absl::StatusOr<std::string> customer = options->String("customer_id", "the Google Ads customer id");
  if (!customer.ok()) return customer.status();
  read.customer_id = WithoutDashes(*customer);
  if (!AllDigits(read.customer_id)) return absl::InvalidArgumentError("options.customer_id: digits (dashes allowed)");
  absl::StatusOr<std::string> list = options->String("user_list_id", "the Customer Match user list's id");
  if (!list.ok()) return list.status();
  if (!AllDigits(*list)) return absl::InvalidArgumentError("options.user_list_id: digits");
  read.user_list_id = *list;
  absl::StatusOr<std::string> token = options->String("developer_token", "the Google Ads developer token");
  if (!token.ok()) return token.status();
  read.developer_token = *token;
  absl::StatusOr<std::string> login = options->String("login_customer_id", "", /*required=*/false);
  if (!login.ok()) return login.status();
  read.login_customer_id = WithoutDashes(*login);
  if (!read.login_customer_id.empty() && !AllDigits(read.login_customer_id)) {
    return absl::InvalidArgumentError("options.login_customer_id: digits (dashes allowed)");
  }
  absl::StatusOr<std::optional<simdjson::dom::object>> oauth = options->Object("oauth");
  if (!oauth.ok()) return oauth.status();
  if (*oauth) {
    OAuthClient client;
    const std::pair<const char*, std::string*> fields[] = {{"client_id", &client.client_id},
                                                           {"client_secret", &client.client_secret},
                                                           {"refresh_token", &client.refresh_token},
                                                           {"token_url", &client.token_url}};
    for (const auto& [key, into] : fields) {
      std::string_view text;
      if ((**oauth)[key].get(text) == simdjson::SUCCESS && !text.empty()) {
        *into = std::string(text);
      } else if (std::string_view(key) != "token_url") {
        return absl::InvalidArgumentError(absl::StrCat("options.oauth.", key, ": required (a string)"));
      }
    }
    if (client.token_url.empty()) client.token_url = std::string(kGoogleTokenUrl);
    read.oauth = std::move(client);
  } else if (destination.secret.empty()) {
    return absl::InvalidArgumentError("secret: the OAuth access token is required (or options.oauth)");
  }
  if (absl::Status events = RefuseEvents(destination, "a Customer Match list"); !events.ok()) return events;
  return read;
}

OutgoingRequest GoogleCall(const std::string& token, const GoogleOptions& options, std::string target,
                           std::string body, const std::string& idempotency_key) {
  OutgoingRequest request;
  request.target = std::move(target);
  request.body = std::move(body);
  request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", token));
  request.headers.emplace_back("developer-token", options.developer_token);
  if (!options.login_customer_id.empty()) request.headers.emplace_back("login-customer-id", options.login_customer_id);
  request.headers.emplace_back("Idempotency-Key", idempotency_key);
  return request;
}

// The job's resource name from the create call's answer, checked to be one (it becomes a path).
absl::StatusOr<std::string> JobName(std::string_view answer, const std::string& customer_id) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view name;
  if (parser.parse(answer.data(), answer.size()).get(root) != simdjson::SUCCESS ||
      root["resourceName"].get(name) != simdjson::SUCCESS) {
    return absl::DataLossError("offlineUserDataJobs:create answered without a resourceName");
  }
  const std::string prefix = absl::StrCat("customers/", customer_id, "/offlineUserDataJobs/");
  if (!name.starts_with(prefix) || !AllDigits(name.substr(prefix.size()))) {
    return absl::DataLossError(absl::StrCat("offlineUserDataJobs:create answered an unexpected resourceName \"",
                                            std::string(name.substr(0, 200)), "\""));
  }
  return std::string(name);
}

}  // namespace

absl::Status ValidateGoogleCustomerMatch(const DestinationSpec& destination) {
  return ReadGoogleOptions(destination).status();
}

std::optional<OAuthClient> GoogleOAuthClient(const DestinationSpec& destination) {
  absl::StatusOr<GoogleOptions> options = ReadGoogleOptions(destination);
  return options.ok() ? options->oauth : std::nullopt;
}

FormatResult FormatGoogleCustomerMatch(const RequestContext& context, const std::vector<OutboxItem>& items) {
  absl::StatusOr<GoogleOptions> options = ReadGoogleOptions(context.destination);
  if (!options.ok()) return options.status();
  const bool remove = items.front().kind == OutboxKind::kAudienceExited;

  std::string operations;
  base::JsonWriter json(operations);
  json.BeginObject();
  json.Key("enablePartialFailure").Bool(true);
  json.Key("operations").BeginArray();
  size_t members = 0;
  for (const OutboxItem& item : items) {
    std::vector<std::string> hashes;  // "e" or "p" then the hash, in the order written.
    for (const std::string& email : IdentifiersOf(item, identity::identifier_type::kEmail)) {
      if (auto normalized = NormalizedEmailForMatching(email)) hashes.push_back("e" + Sha256Hex(*normalized));
    }
    for (const std::string& phone : IdentifiersOf(item, identity::identifier_type::kPhone)) {
      if (auto normalized = GooglePhoneForMatching(phone)) hashes.push_back("p" + Sha256Hex(*normalized));
    }
    if (hashes.empty()) continue;
    if (hashes.size() > kMostIdentifiersPerMember) hashes.resize(kMostIdentifiersPerMember);
    ++members;
    json.BeginObject();
    json.Key(remove ? "remove" : "create").BeginObject();
    json.Key("userIdentifiers").BeginArray();
    for (const std::string& hash : hashes) {
      json.BeginObject();
      json.Key(hash[0] == 'e' ? "hashedEmail" : "hashedPhoneNumber").String(std::string_view(hash).substr(1));
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  if (members == 0) return std::optional<OutgoingRequest>();

  std::string create;
  base::JsonWriter job(create);
  job.BeginObject();
  job.Key("job").BeginObject();
  job.Key("type").String("CUSTOMER_MATCH_USER_LIST");
  job.Key("customerMatchUserListMetadata").BeginObject();
  job.Key("userList").String(absl::StrCat("customers/", options->customer_id, "/userLists/", options->user_list_id));
  if (!context.destination.consent.empty()) {
    job.Key("consent").BeginObject().Key("adUserData").String("GRANTED").Key("adPersonalization").String("GRANTED");
    job.EndObject();
  }
  job.EndObject();
  job.EndObject();
  job.EndObject();

  const std::string root = context.url.target;
  const std::string token = context.access_token.empty() ? context.destination.secret : context.access_token;
  OutgoingRequest first = GoogleCall(
      token, *options,
      JoinTarget(root, absl::StrCat("/customers/", options->customer_id, "/offlineUserDataJobs:create")),
      std::move(create), context.idempotency_key);
  first.next = [token, options = *options, root, operations = std::move(operations),
                key = context.idempotency_key](const HttpResponse& answer) -> FormatResult {
    absl::StatusOr<std::string> name = JobName(answer.body, options.customer_id);
    if (!name.ok()) return name.status();
    OutgoingRequest add =
        GoogleCall(token, options, JoinTarget(root, absl::StrCat("/", *name, ":addOperations")), operations, key);
    add.next = [token, options, root, name = *name, key](const HttpResponse&) -> FormatResult {
      return std::optional<OutgoingRequest>(
          GoogleCall(token, options, JoinTarget(root, absl::StrCat("/", name, ":run")), "{}", key));
    };
    return std::optional<OutgoingRequest>(std::move(add));
  };
  return std::optional<OutgoingRequest>(std::move(first));
}

}  // namespace tessera::activation::internal
