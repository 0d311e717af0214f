#include "connectors/twilio_voice.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "connectors/internal/text.h"
#include "connectors/signatures.h"

namespace tessera::connectors {
namespace {

using base::JsonWriter;
using ingest::FieldError;

absl::string_view ToAbsl(std::string_view text) { return absl::string_view(text.data(), text.size()); }

FieldError MakeError(std::string_view code, std::string message, std::string field) {
  return FieldError{std::string(code), std::move(message), std::move(field)};
}

// The first value of parameter `name`, empty when absent.
std::string_view Param(const std::vector<FormParam>& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

// The URL with its port removed, and with the scheme's default port added (Twilio's SDKs accept
// either, "since signature generation on the back end is inconsistent").
std::vector<std::string> PortVariants(std::string_view url) {
  std::vector<std::string> variants{std::string(url)};
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return variants;
  const std::string scheme = absl::AsciiStrToLower(ToAbsl(url.substr(0, scheme_end)));
  const size_t host_begin = scheme_end + 3;
  const size_t host_end = std::min(url.find_first_of("/?#", host_begin), url.size());
  const std::string_view authority = url.substr(host_begin, host_end - host_begin);
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  if (has_port) {
    variants.push_back(absl::StrCat(ToAbsl(url.substr(0, host_begin + colon)), ToAbsl(url.substr(host_end))));
  } else {
    const std::string_view port = scheme == "https" ? ":443" : ":80";
    variants.push_back(
        absl::StrCat(ToAbsl(url.substr(0, host_end)), ToAbsl(port), ToAbsl(url.substr(host_end))));
  }
  return variants;
}

// The first element of a comma-separated header (proxies append theirs), trimmed.
std::string_view FirstListElement(std::string_view header) {
  const absl::string_view first = absl::StripAsciiWhitespace(ToAbsl(header.substr(0, header.find(','))));
  return std::string_view(first.data(), first.size());
}

// The URLs (without query) Twilio may have called.
absl::StatusOr<std::vector<std::string>> CalledUrls(const WebhookRequest& request,
                                                    const TwilioVoiceOptions& options) {
  if (!options.public_url.empty()) return std::vector<std::string>{options.public_url};
  std::string_view host = FirstListElement(request.header("X-Forwarded-Host"));
  if (host.empty()) host = FirstListElement(request.header("Host"));
  if (host.empty()) {
    return absl::UnauthenticatedError(
        "cannot tell the URL Twilio signed: no Host header (configure connectors.twilio_voice.public_url)");
  }
  const std::string proto =
      absl::AsciiStrToLower(ToAbsl(FirstListElement(request.header("X-Forwarded-Proto"))));
  std::vector<std::string> urls;
  for (std::string_view scheme : {std::string_view("https"), std::string_view("http")}) {
    if (!proto.empty() && proto != scheme) continue;
    urls.push_back(absl::StrCat(ToAbsl(scheme), "://", ToAbsl(host), options.request_path));
  }
  if (urls.empty()) urls.push_back(absl::StrCat(proto, "://", ToAbsl(host), options.request_path));
  return urls;
}

absl::Status VerifyTwilioSignature(const WebhookRequest& request, const TwilioVoiceOptions& options,
                                   const std::vector<FormParam>& params) {
  if (options.auth_token.empty()) return absl::UnauthenticatedError("no Twilio auth token configured");
  const absl::string_view given = absl::StripAsciiWhitespace(ToAbsl(request.header(kTwilioSignatureHeader)));
  if (given.empty())
    return absl::UnauthenticatedError(absl::StrCat("missing ", ToAbsl(kTwilioSignatureHeader), " header"));
  absl::StatusOr<std::vector<std::string>> urls = CalledUrls(request, options);
  if (!urls.ok()) return urls.status();
  const std::string query = request.query.empty() ? std::string() : absl::StrCat("?", ToAbsl(request.query));
  bool matched = false;
  for (const std::string& url : *urls) {
    for (const std::string& variant : PortVariants(url)) {
      // Every candidate is computed and compared, so that timing says nothing about which matched.
      matched |= ConstantTimeEquals(TwilioSignature(options.auth_token, variant + query, params),
                                    std::string_view(given.data(), given.size()));
    }
  }
  if (!matched) {
    return absl::UnauthenticatedError(
        absl::StrCat(ToAbsl(kTwilioSignatureHeader), ": does not match the auth token for ",
                     options.public_url.empty() ? "the URL rebuilt from the Host header"
                                                : "connectors.twilio_voice.public_url"));
  }
  return absl::OkStatus();
}

// Twilio's timestamps, RFC 2822: "Mon, 16 Aug 2010 03:45:01 +0000" (the weekday is optional).
std::optional<ingest::Timestamp> ParseRfc2822(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string_view rest = text;
  if (const size_t comma = rest.find(','); comma != std::string_view::npos) rest.remove_prefix(comma + 1);
  std::vector<std::string_view> parts;
  while (!rest.empty()) {
    const size_t begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) break;
    rest.remove_prefix(begin);
    const size_t end = std::min(rest.find(' '), rest.size());
    parts.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  if (parts.size() != 5) return std::nullopt;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!absl::SimpleAtoi(ToAbsl(parts[0]), &day) || !absl::SimpleAtoi(ToAbsl(parts[2]), &year))
    return std::nullopt;
  const auto month = std::find(kMonths.begin(), kMonths.end(), parts[1]);
  if (month == kMonths.end()) return std::nullopt;
  const std::string_view clock = parts[3];
  if (clock.size() != 8 || clock[2] != ':' || clock[5] != ':' ||
      !absl::SimpleAtoi(ToAbsl(clock.substr(0, 2)), &hour) ||
      !absl::SimpleAtoi(ToAbsl(clock.substr(3, 2)), &minute) ||
      !absl::SimpleAtoi(ToAbsl(clock.substr(6, 2)), &second) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  int offset_minutes = 0;
  const std::string_view zone = parts[4];
  if (zone == "GMT" || zone == "UT" || zone == "UTC" || zone == "Z") {
    offset_minutes = 0;
  } else {
    int hhmm = 0;
    if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-') ||
        !absl::SimpleAtoi(ToAbsl(zone.substr(1)), &hhmm) || hhmm % 100 > 59) {
      return std::nullopt;
    }
    offset_minutes = (zone[0] == '-' ? -1 : 1) * (hhmm / 100 * 60 + hhmm % 100);
  }
  const std::chrono::year_month_day date{
      std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month - kMonths.begin() + 1)),
      std::chrono::day(static_cast<unsigned>(day))};
  if (year < 1970 || year > 9999 || !date.ok()) return std::nullopt;
  const auto local = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                     std::chrono::seconds(second);
  return std::chrono::time_point_cast<std::chrono::microseconds>(local -
                                                                 std::chrono::minutes(offset_minutes));
}

// A non-negative integer parameter; nullopt when absent, an error when unusable.
bool ReadSeconds(const std::vector<FormParam>& params, std::string_view name, std::optional<int64_t>& out,
                 std::optional<FieldError>& error) {
  const std::string_view text = Param(params, name);
  if (text.empty()) return true;
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(ToAbsl(text), &seconds) || seconds < 0) {
    error = MakeError(ingest::error_code::kInvalidValue,
                      "expected a non-negative number of seconds, got " + internal::QuoteForError(text),
                      std::string(name));
    return false;
  }
  out = seconds;
  return true;
}

bool IsTerminalFailure(std::string_view status) {
  return status == "busy" || status == "no-answer" || status == "failed" || status == "canceled";
}

bool IsPhoneAddress(std::string_view address) {
  const std::string lower = absl::AsciiStrToLower(ToAbsl(address));
  return !address.empty() && !absl::StartsWith(lower, "client:") && !absl::StartsWith(lower, "sip:");
}

ingest::ParsedRequest RequestError(FieldError error) {
  ingest::ParsedRequest out;
  out.event_count = 1;
  out.request_error = std::move(error);
  return out;
}

}  // namespace

std::optional<std::vector<FormParam>> DecodeForm(std::string_view body) {
  std::vector<FormParam> params;
  while (!body.empty()) {
    const size_t end = std::min(body.find('&'), body.size());
    const std::string_view pair = body.substr(0, end);
    body.remove_prefix(std::min(end + 1, body.size()));
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    std::optional<std::string> name = internal::DecodeFormComponent(pair.substr(0, equals));
    std::optional<std::string> value =
        internal::DecodeFormComponent(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    params.emplace_back(*std::move(name), *std::move(value));
  }
  return params;
}

std::string TwilioSignature(std::string_view auth_token, std::string_view url,
                            std::vector<FormParam> params) {
  std::sort(params.begin(), params.end());
  params.erase(std::unique(params.begin(), params.end()), params.end());
  std::string data(url);
  for (const auto& [name, value] : params) data.append(name).append(value);
  return Base64Encode(HmacSha1(auth_token, data));
}

absl::StatusOr<ingest::ParsedRequest> TranslateTwilioVoiceCallback(const WebhookRequest& request,
                                                                   const TwilioVoiceOptions& options) {
  const std::optional<std::vector<FormParam>> params = DecodeForm(request.body);
  if (!params) {
    return RequestError(MakeError(
        ingest::error_code::kInvalidValue,
        "expected an application/x-www-form-urlencoded body (a %-escape is not two hex digits)", "body"));
  }
  if (absl::Status verified = VerifyTwilioSignature(request, options, *params); !verified.ok())
    return verified;

  const std::string_view call_sid = Param(*params, "CallSid");
  if (call_sid.empty()) {
    return RequestError(
        MakeError(ingest::error_code::kMissingField, "expected the call's CallSid", "CallSid"));
  }
  const std::string_view status = Param(*params, "CallStatus");
  const std::string_view recording_sid = Param(*params, "RecordingSid");
  const std::string_view recording_status = Param(*params, "RecordingStatus");
  const std::string_view transcription_sid = Param(*params, "TranscriptionSid");
  const std::string_view transcription_status = Param(*params, "TranscriptionStatus");
  if (status.empty() && recording_sid.empty() && transcription_sid.empty()) {
    return RequestError(MakeError(ingest::error_code::kMissingField,
                                  "expected CallStatus (a status callback), RecordingSid (a recording callback) "
                                  "or TranscriptionSid (a transcription callback)",
                                  "CallStatus"));
  }
  std::optional<FieldError> error;
  std::optional<int64_t> duration;
  std::optional<int64_t> recording_duration;
  if (!ReadSeconds(*params, "CallDuration", duration, error) ||
      !ReadSeconds(*params, "RecordingDuration", recording_duration, error)) {
    return RequestError(*std::move(error));
  }
  std::optional<ingest::Timestamp> timestamp;
  for (std::string_view field : {std::string_view("Timestamp"), std::string_view("RecordingStartTime")}) {
    const std::string_view text = Param(*params, field);
    if (text.empty()) continue;
    timestamp = ParseRfc2822(text);
    if (!timestamp) {
      return RequestError(
          MakeError(ingest::error_code::kInvalidTimestamp,
                    "expected an RFC 2822 date-time such as \"Mon, 16 Aug 2010 03:45:01 +0000\", got " +
                        internal::QuoteForError(text),
                    std::string(field)));
    }
    break;
  }

  const std::string_view direction = Param(*params, "Direction");
  const bool outbound = absl::StartsWith(ToAbsl(direction), "outbound");
  const std::string_view from = Param(*params, "From");
  const std::string_view to = Param(*params, "To");
  const std::string_view customer = outbound ? to : from;

  ingest::CanonicalEvent event;
  event.type = ingest::EventType::kTrack;
  if (!transcription_sid.empty()) {
    // Checked first: <Record transcribe>'s callback names the recording it transcribed too.
    event.event = transcription_status == "completed" ? "Call Transcription Completed"
                                                      : "Call Transcription Status Changed";
    event.message_id = absl::StrCat("twilio-", ToAbsl(call_sid), "-", ToAbsl(transcription_sid));
  } else if (!recording_sid.empty()) {
    const bool completed = recording_status.empty() || recording_status == "completed";
    event.event = completed ? "Call Recording Completed" : "Call Recording Status Changed";
    event.message_id = absl::StrCat("twilio-", ToAbsl(call_sid), "-", ToAbsl(recording_sid));
    if (!completed) absl::StrAppend(&event.message_id, "-", ToAbsl(recording_status));
  } else {
    if (status == "completed") {
      event.event = "Call Completed";
    } else if (IsTerminalFailure(status)) {
      event.event = outbound ? "Call Not Connected" : "Call Missed";
    } else {
      event.event = "Call Status Changed";
    }
    event.message_id = absl::StrCat("twilio-", ToAbsl(call_sid), "-", ToAbsl(status));
  }
  event.timestamp = timestamp.value_or(request.received_at);
  event.original_timestamp = timestamp;
  event.received_at = request.received_at;

  // Custom values (queue, agent) travel as parameters of the callback URL, or of the body.
  const std::vector<FormParam> query = DecodeForm(request.query).value_or(std::vector<FormParam>());
  auto custom = [&](std::string_view lower, std::string_view capitalized) {
    for (const std::vector<FormParam>* source : {&*params, &query}) {
      for (std::string_view name : {lower, capitalized}) {
        if (std::string_view value = Param(*source, name); !value.empty()) return value;
      }
    }
    return std::string_view();
  };

  JsonWriter properties(event.properties);
  properties.BeginObject().Key("provider").String("twilio").Key("call_sid").String(call_sid);
  auto optional_string = [&properties](std::string_view key, std::string_view value) {
    if (!value.empty()) properties.Key(key).String(value);
  };
  optional_string("account_sid", Param(*params, "AccountSid"));
  optional_string("direction", direction);
  optional_string("status", status);
  if (duration) properties.Key("duration_seconds").Int(*duration);
  optional_string("from", from);
  optional_string("to", to);
  optional_string("caller_name", Param(*params, "CallerName"));
  optional_string("queue", custom("queue", "Queue"));
  optional_string("queue_sid", Param(*params, "QueueSid"));
  optional_string("agent", custom("agent", "Agent"));
  optional_string("recording_sid", recording_sid);
  optional_string("recording_status", recording_status);
  if (recording_duration) properties.Key("recording_duration").Int(*recording_duration);
  optional_string("recording_url", Param(*params, "RecordingUrl"));
  optional_string("transcription_sid", transcription_sid);
  optional_string("transcription_status", transcription_status);
  // Free text (ingest/free_text.h): the pipeline keeps it only for a source with keep_free_text.
  optional_string("transcript", Param(*params, "TranscriptionText"));
  properties.EndObject();

  JsonWriter context(event.context);
  context.BeginObject();
  if (IsPhoneAddress(customer)) context.Key("traits").BeginObject().Key("phone").String(customer).EndObject();
  context.Key("externalIds").BeginArray().BeginObject();
  context.Key("id").String(call_sid).Key("type").String("twilio_call_sid");
  context.Key("collection").String("users").Key("encoding").String("none");
  context.EndObject().EndArray().EndObject();

  ingest::ParsedRequest out;
  out.event_count = 1;
  out.events.push_back(std::move(event));
  out.index_of.push_back(0);
  return out;
}

}  // namespace tessera::connectors
