// Kakao AlimTalk and SMS through a Korean messaging gateway, in NHN Cloud's request format (the
// "Notification > KakaoTalk Bizmessage > AlimTalk API v2.3" and "SMS API v3.0" guides), which other
// gateways follow closely. Every call carries `X-Secret-Key: <secret>`:
// - AlimTalk: POST {root}/alimtalk/v2.3/appkeys/{app_key}/messages
//     {"senderKey": ..., "templateCode": ..., "recipientList": [{"recipientNo": "01012345678",
//      "templateParameter": {...}, "recipientGroupingKey": <message id>}, ...]}
//   root https://api-alimtalk.cloud.toast.com; at most 1,000 recipients per call.
// - SMS: POST {root}/sms/v3.0/appKeys/{app_key}/sender/sms
//     {"body": <text with ##name## placeholders>, "sendNo": ..., "recipientList": [...same...]}
//   root https://api-sms.cloud.toast.com.
// The gateway answers 200 with {"header": {"isSuccessful": bool, "resultCode": n,
// "resultMessage": ...}} even when it refused the request: a false isSuccessful dead-letters the
// batch with the gateway's words.
// A message goes to each entry's and each event's person, at their first Korean mobile number
// (E.164 +82 written in the domestic form 0...); exits send nothing (there is nothing to take
// back). Template parameters come from options.parameters, {"name": "<path>"}: a path starting
// with "traits." reads the profile's traits, any other the event (as accepted, or the audience
// change's track event: "properties.audience"); a free-text property of a service event reads as
// "" unless the destination's free_text names it (ingest/free_text.h).

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

constexpr std::string_view kAlimtalkRoot = "https://api-alimtalk.cloud.toast.com";
constexpr std::string_view kSmsRoot = "https://api-sms.cloud.toast.com";
constexpr size_t kMostRecipientsPerCall = 1000;

struct KakaoOptions {
  bool sms = false;
  std::string app_key;
  std::string sender_key;     // AlimTalk.
  std::string template_code;  // AlimTalk.
  std::string send_no;        // SMS.
  std::string body;           // SMS.
  std::vector<std::pair<std::string, std::string>> parameters;  // Name, path.
};

absl::StatusOr<KakaoOptions> ReadKakaoOptions(const DestinationSpec& destination) {
  absl::StatusOr<OptionsReader> options = OptionsReader::Parse(destination);
  if (!options.ok()) return options.status();
  KakaoOptions read;
  absl::StatusOr<std::string> channel = options->String("channel", "", /*required=*/false);
  if (!channel.ok()) return channel.status();
  if (*channel != "" && *channel != "alimtalk" && *channel != "sms") {
    return absl::InvalidArgumentError("options.channel: \"alimtalk\" (the default) or \"sms\"");
  }
  read.sms = *channel == "sms";
  auto required = [&](std::string_view key, std::string_view what, std::string& into) -> absl::Status {
    absl::StatusOr<std::string> value = options->String(key, what);
    if (!value.ok()) return value.status();
    into = *std::move(value);
    return absl::OkStatus();
  };
  if (absl::Status s = required("app_key", "the gateway's app key", read.app_key); !s.ok()) return s;
  if (read.app_key.find_first_of("/?# ") != std::string::npos) {
    return absl::InvalidArgumentError("options.app_key: no '/', '?', '#' or spaces");
  }
  if (read.sms) {
    if (absl::Status s = required("send_no", "the registered sending number", read.send_no); !s.ok()) return s;
    if (absl::Status s = required("body", "the message text", read.body); !s.ok()) return s;
  } else {
    if (absl::Status s = required("sender_key", "the Kakao channel's sender key", read.sender_key); !s.ok()) return s;
    if (absl::Status s = required("template_code", "the approved template's code", read.template_code); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<std::optional<simdjson::dom::object>> parameters = options->Object("parameters");
  if (!parameters.ok()) return parameters.status();
  if (*parameters) {
    for (auto [name, path] : **parameters) {
      std::string_view text;
      if (path.get(text) != simdjson::SUCCESS || text.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("options.parameters.", std::string(name), ": a path such as \"traits.name\""));
      }
      read.parameters.emplace_back(std::string(name), std::string(text));
    }
  }
  if (destination.secret.empty()) return absl::InvalidArgumentError("secret: the gateway's secret key is required");
  if (destination.batch_events > kMostRecipientsPerCall) {
    return absl::InvalidArgumentError("batch_events: the gateway takes at most 1000 recipients per call");
  }
  return read;
}

// A Korean number in the domestic form the gateway takes; nullopt for other countries.
std::optional<std::string> DomesticKoreanNumber(std::string_view e164) {
  if (!e164.starts_with("+82") || e164.size() < 11) return std::nullopt;
  std::string number = "0";
  for (char c : e164.substr(3)) {
    if (c < '0' || c > '9') return std::nullopt;
    number.push_back(c);
  }
  return number;
}

absl::Status CheckGatewayAnswer(const HttpResponse& answer) {
  simdjson::dom::parser parser;
  simdjson::dom::element header;
  bool successful = false;
  if (parser.parse(answer.body)["header"].get(header) != simdjson::SUCCESS ||
      header["isSuccessful"].get(successful) != simdjson::SUCCESS) {
    return absl::DataLossError("the gateway answered without header.isSuccessful");
  }
  if (successful) return absl::OkStatus();
  int64_t code = 0;
  std::string_view message;
  // Both are optional in what is kept: an answer without them is still a refusal.
  if (header["resultCode"].get(code) != simdjson::SUCCESS) code = 0;
  if (header["resultMessage"].get(message) != simdjson::SUCCESS) message = {};
  return absl::FailedPreconditionError(
      absl::StrCat("the gateway refused the request: resultCode ", code, ": ", std::string(message.substr(0, 512))));
}

}  // namespace

std::string_view KakaoDefaultUrl(const DestinationSpec& destination) {
  absl::StatusOr<KakaoOptions> options = ReadKakaoOptions(destination);
  return options.ok() && options->sms ? kSmsRoot : kAlimtalkRoot;
}

absl::Status ValidateKakaoMessage(const DestinationSpec& destination) { return ReadKakaoOptions(destination).status(); }

FormatResult FormatKakaoMessage(const RequestContext& context, const std::vector<OutboxItem>& items) {
  absl::StatusOr<KakaoOptions> options = ReadKakaoOptions(context.destination);
  if (!options.ok()) return options.status();
  std::string body;
  base::JsonWriter json(body);
  json.BeginObject();
  if (options->sms) {
    json.Key("body").String(options->body);
    json.Key("sendNo").String(options->send_no);
  } else {
    json.Key("senderKey").String(options->sender_key);
    json.Key("templateCode").String(options->template_code);
  }
  json.Key("recipientList").BeginArray();
  size_t recipients = 0;
  for (const OutboxItem& item : items) {
    if (item.kind == OutboxKind::kAudienceExited) continue;
    std::optional<std::string> number;
    for (const std::string& phone : IdentifiersOf(item, identity::identifier_type::kPhone)) {
      if ((number = DomesticKoreanNumber(phone))) break;
    }
    if (!number) continue;
    ++recipients;
    json.BeginObject();
    json.Key("recipientNo").String(*number);
    json.Key("templateParameter").BeginObject();
    // A template parameter naming a free-text property gets it only when free_text names it too.
    const absl::StatusOr<std::string> event = ItemAsEvent(context.destination, item);
    if (!event.ok()) return event.status();
    for (const auto& [name, path] : options->parameters) {
      std::optional<std::string> value = std::string_view(path).starts_with("traits.")
                                             ? TextAtPath(item.traits_json, std::string_view(path).substr(7))
                                             : TextAtPath(*event, path);
      json.Key(name).String(value.value_or(""));
    }
    json.EndObject();
    json.Key("recipientGroupingKey").String(item.message_id.substr(0, 100));
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  if (recipients == 0) return std::optional<OutgoingRequest>();

  OutgoingRequest request;
  std::string path = options->sms ? "/sms/v3.0/appKeys/" : "/alimtalk/v2.3/appkeys/";
  AppendPercentEncoded(path, options->app_key);
  path += options->sms ? "/sender/sms" : "/messages";
  request.target = JoinTarget(context.url.target, path);
  request.content_type = "application/json;charset=UTF-8";
  request.body = std::move(body);
  request.headers.emplace_back("X-Secret-Key", context.destination.secret);
  request.headers.emplace_back("Idempotency-Key", context.idempotency_key);
  request.next = [](const HttpResponse& answer) -> FormatResult {
    if (absl::Status checked = CheckGatewayAnswer(answer); !checked.ok()) return checked;
    return std::optional<OutgoingRequest>();
  };
  return std::optional<OutgoingRequest>(std::move(request));
}

}  // namespace tessera::activation::internal
